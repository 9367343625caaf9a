"""The notification centre's periodic job on the node's one queue: send the daily and weekly digests that are due.
The queue enqueues it once per period whatever the number of workers, and each person's digest is taken by a
compare-and-set on ``Preference.last_digest_at``, so a digest goes out once."""

from __future__ import annotations

import logging
from datetime import timedelta

from django_tasks import task

from kizuna.jobs import queue

log = logging.getLogger("kizuna.notifications")

DIGESTS_EVERY = timedelta(minutes=15)  # a digest at most 15 minutes after its period ends


@task()
def send_digests() -> int:
    """One pass: every digest that is due; how many went out."""
    from kizuna.notifications import services

    sent = services.send_digests()
    if sent:
        log.info("%d digest(s) sent", sent)
    return sent


def register() -> None:
    queue.periodic("notifications.digests", send_digests, DIGESTS_EVERY)
