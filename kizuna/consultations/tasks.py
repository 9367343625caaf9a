"""The consultation cycle's periodic job on the node's one queue: notice actions due soon or overdue and send the
daily digests that are due (what ``kizuna consultations remind --loop`` did on its own)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django_tasks import task

from kizuna.jobs import queue

log = logging.getLogger("kizuna.consultations")

REMIND_EVERY = timedelta(minutes=15)  # as the old loop's --every: a reminder at most 15 minutes late


@task()
def remind() -> dict[str, int]:
    """One pass of reminders and digests; how many of each (each is noticed or sent once, whoever runs the pass)."""
    from kizuna.consultations import notify

    noticed = notify.scan_due(None)
    digests = notify.send_digests()
    if noticed or digests:
        log.info("%d reminder(s) noticed, %d daily digest(s) sent", noticed, digests)
    return {"noticed": noticed, "digests": digests}


def register() -> None:
    queue.periodic("consultations.remind", remind, REMIND_EVERY)
