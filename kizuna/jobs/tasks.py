"""The queue's own periodic job: forget finished jobs after a week (the periodic jobs alone add thousands a day)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kizuna.jobs import queue

KEEP = timedelta(days=7)


@task()
def prune() -> int:
    """Delete jobs that ended more than ``KEEP`` ago; how many. Failed ones are kept as long: their tracebacks are
    what an operator reads."""
    ended = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED], finished_at__lt=timezone.now() - KEEP)
    deleted, _ = ended.delete()
    return deleted


def register() -> None:
    queue.periodic("jobs.prune", prune, timedelta(hours=1))


@task()
def noop(n: int) -> int:
    """A job that does nothing: what benchmarks/bench_jobs.py measures is the queue itself."""
    return n
