"""The queue's rules in one process (the process tests show them across workers): a period is enqueued once however
many workers ask, and not while its previous run waits or runs; an expired lease makes its job ready again, a live
one does not; a released job is ready at once; a worker whose lease was taken does not record an outcome."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kizuna.jobs import queue
from kizuna.jobs.models import Lease
from tests.jobs.tasks import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def only_one_periodic(monkeypatch: pytest.MonkeyPatch) -> queue.Periodic:
    job = queue.Periodic("test.record", record, timedelta(seconds=10))
    monkeypatch.setattr(queue, "_periodic", {job.name: job})
    return job


def test_a_period_is_enqueued_once_however_many_workers_ask(only_one_periodic: Any) -> None:
    now = timezone.now()
    first = queue.enqueue_due_periodic(now)
    again = queue.enqueue_due_periodic(now)  # a second worker, the same second
    assert len(first) == 1 and again == []
    DBTaskResult.objects.update(status="SUCCESSFUL")
    assert queue.enqueue_due_periodic(now + timedelta(seconds=5)) == []  # the period is not over
    assert len(queue.enqueue_due_periodic(now + timedelta(seconds=10))) == 1


def test_a_period_is_skipped_while_its_previous_run_waits_or_runs(only_one_periodic: Any) -> None:
    now = timezone.now()
    [first] = queue.enqueue_due_periodic(now)
    assert queue.enqueue_due_periodic(now + timedelta(seconds=10)) == []  # still waiting
    assert queue.claim("w1", task_id=first) is not None
    assert queue.enqueue_due_periodic(now + timedelta(seconds=20)) == []  # running
    assert DBTaskResult.objects.count() == 1


def test_an_expired_lease_makes_its_job_ready_again_and_a_live_one_does_not(tmp_path: Path) -> None:
    dead = queue.enqueue(record, 1, str(tmp_path / "runs"))
    alive = queue.enqueue(record, 2, str(tmp_path / "runs"))
    assert queue.claim("w-dead", task_id=dead) is not None
    assert queue.claim("w-alive", task_id=alive) is not None
    Lease.objects.filter(worker_id="w-dead").update(expires_at=timezone.now() - timedelta(seconds=1))

    assert queue.recover_expired() == [dead]
    assert DBTaskResult.objects.get(pk=dead).status == "READY"
    assert DBTaskResult.objects.get(pk=alive).status == "RUNNING"
    assert list(Lease.objects.values_list("worker_id", flat=True)) == ["w-alive"]


def test_a_released_job_is_ready_at_once_for_another_worker(tmp_path: Path) -> None:
    job = queue.enqueue(record, 1, str(tmp_path / "runs"))
    assert queue.claim("w1", task_id=job) is not None
    assert queue.release(job, "w1")
    assert not queue.release(job, "w1")  # no longer its lease
    again = queue.claim("w2")
    assert again is not None and str(again.pk) == job and again.worker_ids == ["w1", "w2"]


def test_a_worker_whose_lease_was_taken_records_no_outcome(tmp_path: Path) -> None:
    job = queue.enqueue(record, 7, str(tmp_path / "runs"))
    slow = queue.claim("w-slow", task_id=job)
    assert slow is not None
    Lease.objects.filter(task_id=job).update(worker_id="w-other")  # recovered and claimed by another meanwhile
    assert queue.execute(slow, "w-slow") == "lost"
    assert DBTaskResult.objects.get(pk=job).status == "RUNNING"  # the other worker's run decides


def test_wait_runs_a_job_no_worker_has_taken(tmp_path: Path) -> None:
    job = queue.enqueue(record, 3, str(tmp_path / "runs"))
    assert queue.wait(job, timeout=10)
    assert DBTaskResult.objects.get(pk=job).status == "SUCCESSFUL"
    assert (tmp_path / "runs").read_text().split()[0] == "3"
