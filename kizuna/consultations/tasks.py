"""The consultation cycle's periodic job on the node's one queue: notice actions due soon or overdue (what ``kizuna
consultations remind --loop`` did on its own). The digests of every module are the notifications app's job
(``notifications.digests``)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django_tasks import task

from kizuna.jobs import queue

log = logging.getLogger("kizuna.consultations")

REMIND_EVERY = timedelta(minutes=15)  # as the old loop's --every: a reminder at most 15 minutes late


@task()
def remind() -> dict[str, int]:
    """One pass of reminders; how many were noticed (each once, whoever runs the pass)."""
    from kizuna.consultations import notify

    noticed = notify.scan_due(None)
    if noticed:
        log.info("%d reminder(s) noticed", noticed)
    return {"noticed": noticed}


def register() -> None:
    queue.periodic("consultations.remind", remind, REMIND_EVERY)
