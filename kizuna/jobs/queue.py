"""The queue's operations beyond django-tasks: claim a job under a lease, renew and release leases, make the jobs of
dead workers ready again, enqueue the periodic jobs that are due (once per period whatever the number of workers),
run one job, and wait for a job (running it here when no worker has taken it: tests, the command line).

Everything is rows in the database, so it holds for any number of worker processes on any number of machines:

- a claim is ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL (workers never wait for each other's claims) and an
  exclusive transaction on SQLite (writers are serialised anyway); the claim and its lease are one transaction;
- a lease lasts ``LEASE`` (``KIZUNA_JOB_LEASE_SECONDS``, 30 s) and the worker's heartbeat renews it every
  ``HEARTBEAT``; a lease that has expired means its worker died (SIGKILL, machine lost, OOM killer), and the job is
  made ready again: jobs are idempotent, so the next run resumes it (an import re-reads its file; what was stored
  is met again as unchanged);
- a periodic job's period is taken by a compare-and-set on its ``PeriodicRun`` row, and a new run is not enqueued
  while the previous one is still waiting or running, so one signing pass runs at a time on the whole node.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Min, Q
from django.db.utils import OperationalError
from django.utils import timezone
from django_tasks.base import Task, TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from kizuna.jobs.models import Lease, PeriodicRun

log = logging.getLogger("kizuna.jobs")


def _seconds(name: str, default: float) -> float:
    try:
        return max(0.5, float(os.environ.get(name, default)))
    except ValueError:
        return default


# A worker that has not renewed its lease for this long is taken for dead. Long enough to ride out a busy database
# (SQLite's busy timeout is 20 s), short enough that a killed worker's import resumes within a minute.
LEASE = timedelta(seconds=_seconds("KIZUNA_JOB_LEASE_SECONDS", 30))
HEARTBEAT = min(5.0, LEASE.total_seconds() / 3)
UNFINISHED = (TaskResultStatus.READY, TaskResultStatus.RUNNING)
QUEUES = ("default", "imports", "federation")  # as settings.TASKS declares them


class Interrupted(BaseException):
    """Raised by ``checkpoint()`` inside a running job once its worker is told to stop (SIGTERM, SIGINT). A
    BaseException so that a job's own ``except Exception`` does not take it for a failure: the job is released (ready
    again) and resumed later."""


_stopping = threading.Event()


def request_stop() -> None:
    """The worker is stopping: the running job's next ``checkpoint()`` raises Interrupted."""
    _stopping.set()


def checkpoint() -> None:
    """Call between units of work that are committed (an import's batch, a signing batch): raises Interrupted when
    the worker is stopping. Never inside a transaction of the job's own: what it committed is the resume point.

    Cooperative on purpose: an exception thrown into a job at an arbitrary point (from a signal handler) lands inside
    database drivers and in code that takes it for a failed batch; measured on PostgreSQL, the import then failed."""
    if _stopping.is_set():
        raise Interrupted("the worker is stopping")


@dataclass(frozen=True)
class Periodic:
    """A job enqueued every ``every``: the registry of what used to be ``--loop`` commands."""

    name: str
    task: Task[Any, Any]
    every: timedelta


_periodic: dict[str, Periodic] = {}


def periodic(name: str, task: Task[Any, Any], every: timedelta) -> None:
    """Register a periodic job (from an app's ``ready()``); ``KIZUNA_JOB_EVERY_<NAME>`` (seconds) overrides the
    period, e.g. ``KIZUNA_JOB_EVERY_FEDERATION_SIGN=1``."""
    override = os.environ.get("KIZUNA_JOB_EVERY_" + name.upper().replace(".", "_").replace("-", "_"))
    if override:
        every = timedelta(seconds=float(override))
    _periodic[name] = Periodic(name, task, every)


def periodic_jobs() -> list[Periodic]:
    return sorted(_periodic.values(), key=lambda p: p.name)


def enqueue(task: Task[Any, Any], *args: Any, **kwargs: Any) -> str:
    """Enqueue ``task(*args, **kwargs)`` (JSON arguments only); its id. Inside a transaction the job becomes visible
    to workers when that transaction commits, so a job never sees less than its caller wrote."""
    return str(task.enqueue(*args, **kwargs).id)


def unfinished(task: Task[Any, Any], args: list[Any] | None = None) -> Any:
    """Jobs of ``task`` (with exactly these positional arguments, when given) waiting or running."""
    rows = DBTaskResult.objects.filter(task_path=task.module_path, status__in=UNFINISHED)
    if args is not None:
        rows = rows.filter(args_kwargs={"args": args, "kwargs": {}})
    return rows


def _ready() -> Any:
    return DBTaskResult.objects.filter(status=TaskResultStatus.READY).filter(
        Q(run_after=get_date_max()) | Q(run_after__lte=timezone.now()))


def claim(worker_id: str, queues: list[str] | None = None, task_id: str | None = None) -> DBTaskResult | None:
    """Take the next ready job (or the job ``task_id``, whenever it is due) for ``worker_id``, with its lease, in one
    transaction; None when there is none (or the database is busy: the caller tries again)."""
    rows = DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.READY) if task_id else _ready()
    if queues:
        rows = rows.filter(queue_name__in=queues)
    if task_id is None and not rows.exists():  # idle polls read only: no write lock taken on SQLite
        return None
    try:
        with exclusive_transaction(rows.db):
            result = rows.select_for_update(skip_locked=True).first()
            if result is None:
                return None
            result.claim(worker_id)
            Lease.objects.update_or_create(task=result, defaults={"worker_id": worker_id,
                                                                  "expires_at": timezone.now() + LEASE})
            return result
    except OperationalError as exc:
        if is_locked_database_exception(exc):
            return None
        raise


def renew(worker_id: str) -> int:
    """Extend the leases ``worker_id`` holds (the heartbeat); how many it still holds."""
    return Lease.objects.filter(worker_id=worker_id).update(expires_at=timezone.now() + LEASE)


def release(task_id: Any, worker_id: str) -> bool:
    """Give a job back (its worker is stopping): ready again at once, for any worker to resume. False when the lease
    was no longer this worker's."""
    with transaction.atomic():
        if not Lease.objects.filter(task_id=task_id, worker_id=worker_id).delete()[0]:
            return False
        DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.RUNNING).update(status=TaskResultStatus.READY)
    return True


def recover_expired(now: datetime | None = None) -> list[str]:
    """Make ready again the jobs whose lease has expired (their worker died); their ids."""
    now = now or timezone.now()
    if not Lease.objects.filter(expires_at__lt=now).exists():
        return []
    with transaction.atomic():
        ids = list(Lease.objects.select_for_update(skip_locked=True).filter(expires_at__lt=now)
                   .values_list("task_id", flat=True)[:100])
        if ids:
            DBTaskResult.objects.filter(pk__in=ids, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.READY)
            Lease.objects.filter(pk__in=ids).delete()
    for task_id in ids:
        log.warning("job %s: its worker stopped renewing its lease; ready again, to be resumed", task_id)
    return [str(i) for i in ids]


def enqueue_due_periodic(now: datetime | None = None) -> list[str]:
    """Enqueue each periodic job whose period has come, once across all workers; the ids enqueued."""
    if not _periodic:
        return []
    now = now or timezone.now()
    PeriodicRun.objects.bulk_create([PeriodicRun(name=n, next_run_at=now) for n in _periodic], ignore_conflicts=True)
    due = list(PeriodicRun.objects.filter(name__in=list(_periodic), next_run_at__lte=now).values_list("name", flat=True))
    started = []
    for name in due:
        job = _periodic[name]
        with transaction.atomic():
            # The compare-and-set: of several workers that read the row as due, one moves it on.
            if not PeriodicRun.objects.filter(name=name, next_run_at__lte=now).update(next_run_at=now + job.every):
                continue
            if unfinished(job.task).exists():  # the last period's run still waits or runs: never two at once
                continue
            task_id = enqueue(job.task)
            PeriodicRun.objects.filter(name=name).update(last_task_id=task_id)
        started.append(task_id)
    return started


def execute(result: DBTaskResult, worker_id: str) -> str:
    """Run a claimed job and record its outcome ("successful", "failed", or "lost" when its lease went to another
    worker); Interrupted propagates once the job is released."""
    task_result = result.task_result
    try:
        value = result.task.call(*task_result.args, **task_result.kwargs)  # Kizuna's jobs take no context
    except Interrupted:
        _reset_connection()
        release(result.pk, worker_id)
        log.info("job %s (%s) released: the worker is stopping; it will be resumed", result.pk, result.task_path)
        raise
    except Exception as exc:
        log.exception("job %s (%s) failed", result.pk, result.task_path)
        _reset_connection()
        return "failed" if _finish(result, worker_id, exc) else "lost"
    try:
        return "successful" if _finish(result, worker_id, None, value) else "lost"
    except Exception as exc:  # the outcome could not be stored (say, a return value that is not JSON)
        log.exception("job %s (%s): its result could not be stored", result.pk, result.task_path)
        _reset_connection()
        return "failed" if _finish(result, worker_id, exc) else "lost"


def _finish(result: DBTaskResult, worker_id: str, exc: BaseException | None, value: Any = None) -> bool:
    """Drop the lease and record the outcome, in one commit; False (nothing recorded) when the lease had expired and
    the job went to another worker, whose run decides."""
    with transaction.atomic():
        if not Lease.objects.filter(task_id=result.pk, worker_id=worker_id).delete()[0]:
            log.warning("job %s: the lease was lost (the worker was too slow to renew it); its outcome is not "
                        "recorded", result.pk)
            return False
        if exc is None:
            result.set_successful(value)
        else:
            result.set_failed(exc)
    return True


def _reset_connection() -> None:
    """After an exception inside a job the connection may be mid-transaction or broken: roll back what it held."""
    if connection.in_atomic_block:
        return  # a caller's transaction (tests running a job in their own transaction): not ours to end
    try:
        connection.rollback()
    except DatabaseError:
        connection.close()


@contextmanager
def heartbeat(worker_id: str) -> Iterator[None]:
    """Renew ``worker_id``'s leases every ``HEARTBEAT`` seconds from a thread of its own (its own connection) for as
    long as the block runs: a job run here is not taken for the job of a dead worker, however long it runs."""
    done = threading.Event()

    def beat() -> None:
        try:
            while not done.wait(HEARTBEAT):
                try:
                    renew(worker_id)
                except Exception:  # a busy database: the next beat tries again, well within the lease
                    log.exception("heartbeat of %s failed", worker_id)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"kizuna-job-heartbeat-{worker_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(5)


def wait(task_id: str, timeout: float | None = None, run_here: bool = True) -> bool:
    """Wait until job ``task_id`` has finished; True when it has. When ``run_here`` and no worker has claimed it yet,
    it is run in this process (tests, the command line, a node without a worker running)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    worker_id = f"inline-{os.getpid()}"
    while True:
        status = DBTaskResult.objects.filter(pk=task_id).values_list("status", flat=True).first()
        if status is None or status not in UNFINISHED:
            return True
        if run_here and status == TaskResultStatus.READY:
            claimed = claim(worker_id, task_id=task_id)
            if claimed is not None:
                with heartbeat(worker_id):
                    execute(claimed, worker_id)
                continue
        if deadline is not None and time.monotonic() > deadline:
            return False
        time.sleep(0.05)


@dataclass(frozen=True)
class Depth:
    queue: str
    state: str  # "ready" (due now), "scheduled" (due later), "running"
    jobs: int
    oldest: datetime | None  # ready: when the oldest became due; running: the oldest start


def depth() -> list[Depth]:
    """Jobs waiting and running, by queue and state (for the metrics)."""
    out = []
    for row in (_ready().values("queue_name").annotate(n=Count("id"), first=Min("enqueued_at"))):
        out.append(Depth(row["queue_name"], "ready", row["n"], row["first"]))
    scheduled = DBTaskResult.objects.filter(status=TaskResultStatus.READY, run_after__gt=timezone.now()).exclude(
        run_after=get_date_max())
    for row in scheduled.values("queue_name").annotate(n=Count("id"), first=Min("run_after")):
        out.append(Depth(row["queue_name"], "scheduled", row["n"], row["first"]))
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
    for row in running.values("queue_name").annotate(n=Count("id"), first=Min("started_at")):
        out.append(Depth(row["queue_name"], "running", row["n"], row["first"]))
    return out
