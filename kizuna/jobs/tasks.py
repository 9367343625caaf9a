"""The node's own periodic jobs: seal the audit entries written since the last pass into the hash chain (every few
seconds), and forget finished jobs after a week (the periodic jobs alone add thousands a day)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kizuna.core import audit
from kizuna.jobs import queue

KEEP = timedelta(days=7)
# How long an audit entry may stay outside the chain; KIZUNA_JOB_EVERY_AUDIT_SEAL (seconds) overrides it.
SEAL_EVERY = timedelta(seconds=5)


@task()
def seal_audit() -> int:
    """Chain the audit entries written since the last pass; how many. One pass at a time (a periodic job is not
    enqueued while its previous run is unfinished, and ``audit.seal`` itself admits one sealer)."""
    return audit.seal()


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
    queue.periodic("audit.seal", seal_audit, SEAL_EVERY)


@task()
def noop(n: int) -> int:
    """A job that does nothing: what benchmarks/bench_jobs.py measures is the queue itself."""
    return n
