"""The readiness checks of ``/readyz``: the database answers a trivial query, no migration is left unapplied, the
data directory takes a file. Each returns ``None`` when ready, else a short reason fit for a public answer (details
go to the log, never to the caller: a driver's message can name hosts and users)."""

from __future__ import annotations

import logging
import tempfile

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

log = logging.getLogger(__name__)

# Set once every migration on disk was found applied: the migrations a process knows are fixed when it starts, so
# the walk of the migration files (tens of milliseconds) is done until it first succeeds and then not again.
_migrations_ok = False


def check_database() -> str | None:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure to answer is "not ready", whatever the driver raises
        log.warning("readiness: the database did not answer", exc_info=True)
        return "unreachable"
    return None


def check_migrations() -> str | None:
    global _migrations_ok
    if _migrations_ok:
        return None
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:
        log.warning("readiness: the migration state could not be read", exc_info=True)
        return "unknown"
    if plan:
        return f"{len(plan)} unapplied"
    _migrations_ok = True
    return None


def check_data_dir() -> str | None:
    try:
        with tempfile.TemporaryFile(dir=settings.DATA_DIR, prefix=".readyz-") as fh:
            fh.write(b"k")
            fh.flush()
    except OSError:
        log.warning("readiness: the data directory %s is not writable", settings.DATA_DIR, exc_info=True)
        return "not writable"
    return None


def readiness() -> dict[str, str]:
    """Every check's reason, by name; empty when ready. The migrations are not read when the database is down."""
    problems: dict[str, str] = {}
    database = check_database()
    if database:
        problems["database"] = database
    else:
        migrations = check_migrations()
        if migrations:
            problems["migrations"] = migrations
    data_dir = check_data_dir()
    if data_dir:
        problems["data_dir"] = data_dir
    return problems
