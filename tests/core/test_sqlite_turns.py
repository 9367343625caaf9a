"""Turns at SQLite's write lock (kizuna/core/sqlite/turns.py), on a scratch database file with plain sqlite3
connections: a waiting writer is seen by an import, a writer takes the lock as soon as it is free (not a busy
handler's sleep later), and gives up with the lock error after its timeout, as the busy handler would."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from kizuna.core.sqlite import turns


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=20, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


def test_an_import_sees_a_writer_waiting_and_gives_way_until_it_is_through(tmp_path: Path) -> None:
    database = str(tmp_path / "node.sqlite3")
    importing = turns.Turns(database)
    assert not importing.others_waiting(turns.WRITERS)
    with turns.waiting(turns.signal_path(database)):
        assert importing.others_waiting(turns.WRITERS)  # another open file: seen even within one process
        start = time.monotonic()
        assert importing.give_way(turns.WRITERS, 0.05) >= 0.05  # bounded: it gave way as long as allowed
        assert time.monotonic() - start < 1
    assert not importing.others_waiting(turns.WRITERS)
    assert importing.give_way(turns.WRITERS, 1.0) < 0.01  # nobody waiting: no wait at all
    importing.close()


def test_a_writer_takes_the_lock_within_milliseconds_of_its_release(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite3"
    holder, writer = _connect(path), _connect(path)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    took: list[float] = []
    released = [0.0]

    def write() -> None:
        turns.take(lambda: writer.execute("BEGIN IMMEDIATE"), writer.cursor, timeout=20)
        took.append(time.monotonic() - released[0])
        writer.execute("COMMIT")

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.5)  # long enough for SQLite's busy handler to be sleeping 100 ms between tries
    released[0] = time.monotonic()
    holder.execute("COMMIT")
    thread.join(5)
    assert took and took[0] < 0.05, took
    assert writer.execute("PRAGMA busy_timeout").fetchone()[0] == 20_000  # set back after the wait


def test_a_writer_gives_up_with_the_lock_error_after_its_timeout(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite3"
    holder, writer = _connect(path), _connect(path)
    holder.execute("BEGIN IMMEDIATE")
    start = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        turns.take(lambda: writer.execute("BEGIN IMMEDIATE"), writer.cursor, timeout=0.2)
    assert 0.2 <= time.monotonic() - start < 2
    holder.execute("ROLLBACK")


def test_a_begin_answered_not_an_error_is_tried_again(tmp_path: Path) -> None:
    """Python 3.11's sqlite3 sometimes answers a busy BEGIN with ``OperationalError: not an error``: it is the lock
    being taken, and is tried again (it was a 500)."""
    writer = _connect(tmp_path / "node.sqlite3")
    answers = [sqlite3.OperationalError("not an error")]

    def begin() -> None:
        if answers:
            raise answers.pop()
        writer.execute("BEGIN IMMEDIATE")

    turns.take(begin, writer.cursor, timeout=5)
    assert writer.in_transaction
    writer.execute("ROLLBACK")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        turns.take(lambda: writer.execute("INSERT INTO missing VALUES (1)"), writer.cursor, timeout=5)


RACE = """
import threading
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from kizuna.core import audit
errors = []
def append(i):
    from django.db import connection
    for n in range(150):
        try:
            audit.record(f"t{i}", "list", "x", [n])
        except Exception as exc:
            errors.append(repr(exc)[:200])
    connection.close()
threads = [threading.Thread(target=append, args=(i,)) for i in range(12)]
for t in threads: t.start()
for t in threads: t.join()
sealed = audit.seal()
print(len(errors), errors[:3], audit.verify()[:3], sealed)
"""

WAITS = """
import sqlite3, threading, time
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
from kizuna.core import audit
from kizuna.core.sqlite import turns
name = str(settings.DATABASES["default"]["NAME"])
holder = sqlite3.connect(name, isolation_level=None)
holder.execute("BEGIN IMMEDIATE")
done = []
def page_read():
    audit.record("reader", "list", "report", [1])  # outside any transaction, as a page read's entry is
    done.append(time.monotonic())
    connection.close()
reader = threading.Thread(target=page_read)
reader.start()
time.sleep(0.5)
seen = turns.Turns(name).others_waiting(turns.WRITERS)
released = time.monotonic()
holder.execute("COMMIT")
reader.join(20)
print(seen, bool(done) and done[0] - released < 0.05)
"""


def _run_node_script(script: str, tmp_path: Path) -> str:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KIZUNA_TEST_DB", "KIZUNA_TEST_FILE_DB")}
    env.update(KIZUNA_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="kizuna.settings", PYTHONPATH=str(root),
               KIZUNA_LOG_LEVEL="ERROR")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_concurrent_writers_through_the_backend_each_hold_the_write_lock(tmp_path: Path) -> None:
    """12 threads appending to the audit log through Kizuna's backend on a database file: no append fails, and the
    sealer chains all 1,800 into a chain that verifies (a BEGIN retried after SQLITE_BUSY once returned without a
    transaction, and appends, then chained inline, collided on ``core_auditentry.seq``)."""
    assert _run_node_script(RACE, tmp_path) == "0 [] [] 1800"


def test_a_page_reads_audit_entry_takes_its_turn_like_any_writer(tmp_path: Path) -> None:
    """A page read's audit entry is written outside any caller's transaction. It takes a transaction of its own, so
    it signals that it waits for the write lock (an import lets it go first) and takes the lock within milliseconds
    of its release; as a bare INSERT it slept in SQLite's busy handler unseen (list pages 3.5-4.2 s p95 beside 16
    writers)."""
    assert _run_node_script(WAITS, tmp_path) == "True True"
