"""A node of its own for the queue's tests (a data directory and, on the PostgreSQL run, a database), with
``kizuna worker`` processes started on it and plain SQL to watch its tables without starting Django each time."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.ops.nodes import FreshNode

T0 = "2026-02-01T00:00:00.000Z"
LABEL = {"policy": "NATO", "classification": "UNCLASSIFIED", "categories": {"releasable_to": ["NATO", "IP4"]},
         "tlp": "GREEN", "recipients": []}

SETUP_USER = """
from kizuna.directory.services import create_user, ensure_reference_data
ensure_reference_data()
create_user(username="hanako", nation="JPN", organisation="JPN-MOD", clearances={"NATO": "RESTRICTED"},
            communities=["CYBER"], role="contributor", password="correct horse battery staple")
"""


def write_bundle(path: Path, count: int, prefix: str = "198.51") -> list[str]:
    """A STIX bundle of ``count`` indicators; their ids."""
    ids = [f"indicator--{uuid.uuid4()}" for _ in range(count)]
    with path.open("w", encoding="utf-8") as out:
        out.write(f'{{"type":"bundle","id":"bundle--{uuid.uuid4()}","objects":[')
        for n, stix_id in enumerate(ids):
            value = f"{prefix}.{n // 256 % 256}.{n % 256}"
            out.write(("," if n else "") + json.dumps({
                "type": "indicator", "spec_version": "2.1", "id": stix_id, "created": T0, "modified": T0,
                "name": f"Bad address {n}", "pattern": f"[ipv4-addr:value = '{value}']", "pattern_type": "stix",
                "valid_from": T0}, separators=(",", ":")))
        out.write("]}")
    return ids


class QueueNode(FreshNode):
    def __init__(self, data_dir: Path, database_name: str, **env: str) -> None:
        super().__init__(data_dir, database_name)
        self.env.update(env)
        self.workers: list[subprocess.Popen[bytes]] = []
        done = self.cli("migrate", "--noinput", "-v0", timeout=300)
        assert done.returncode == 0, done.stderr

    def django(self, code: str, timeout: float = 300) -> str:
        """Run Python with Django set up in a process of its own on this node; its standard output."""
        done = subprocess.run([sys.executable, "-c", "import django\ndjango.setup()\n" + code], env=self.env,
                              capture_output=True, text=True, timeout=timeout, cwd=self.data_dir, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def worker(self, *args: str, name: str = "") -> subprocess.Popen[bytes]:
        """``kizuna worker`` in a process of its own (its output in a file of the data directory)."""
        log = (self.data_dir / f"worker-{name or len(self.workers)}.log").open("ab")
        process = subprocess.Popen([sys.executable, "-m", "kizuna", "worker", "--interval", "0.05", *args],
                                   env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir)
        self.workers.append(process)
        return process

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        """Rows of a read-only query (no parameters: the tests build them from their own integers)."""
        if self.database is not None:
            import psycopg

            with psycopg.connect(self.database, autocommit=True) as conn:
                return list(conn.execute(query).fetchall())
        conn = sqlite3.connect(self.data_dir / "kizuna.sqlite3", timeout=30)
        try:
            return list(conn.execute(query).fetchall())
        finally:
            conn.close()

    def one(self, query: str) -> Any:
        rows = self.sql(query)
        return rows[0][0] if rows else None

    def stop_all(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(10)
        self.drop()

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.data_dir.glob("worker-*.log")))


def until(check: Callable[[], Any], timeout: float, what: str, node: QueueNode | None = None,
          step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        failed = [p.returncode for p in (node.workers if node else []) if p.poll() in (1, 2)]
        if failed:  # a worker refused to start (no such command, bad options): no use waiting
            raise AssertionError(f"a worker exited with status {failed[0]} while waiting for {what}\n{node.log()}")
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}" + (f"\n{node.log()}" if node else ""))


def database_name(tag: str) -> str:
    return f"kizuna_jobs_{tag}_{os.getpid()}"
