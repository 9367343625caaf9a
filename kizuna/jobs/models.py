"""What django-tasks' database backend does not keep: who holds a running job and until when (a lease renewed by
the worker's heartbeat), and when each periodic job is next due."""

from __future__ import annotations

from django.db import models
from django_tasks_db.models import DBTaskResult


class Lease(models.Model):
    """A running job's claim. A worker renews it every few seconds while the job runs; once ``expires_at`` has passed
    the worker is taken for dead and the job is made ready again (docs/operations.md, "What happens on a crash")."""

    task = models.OneToOneField(DBTaskResult, primary_key=True, on_delete=models.CASCADE, related_name="+")
    worker_id = models.CharField(max_length=64, db_index=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"lease of {self.task_id} by {self.worker_id} until {self.expires_at:%H:%M:%S}"


class PeriodicRun(models.Model):
    """One row per periodic job: the worker that moves ``next_run_at`` on (a compare-and-set) is the one that enqueues
    the period's run, so N workers still run each period once."""

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_task_id = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"{self.name} next at {self.next_run_at:%Y-%m-%d %H:%M:%S}"
