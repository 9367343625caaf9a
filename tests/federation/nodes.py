"""Real Kizuna nodes for the multi-node federation test: each a separate ``kizuna serve`` process on a free
127.0.0.1 port with its own KIZUNA_DATA_DIR and its own database (a SQLite file, or on the PostgreSQL run a fresh
PostgreSQL database of its own, dropped at the end), driven only through its CLI (subprocesses), its HTTP APIs and,
for assertions and for simulating a compromised node, direct reads and writes of its database."""

from __future__ import annotations

import base64
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

EVERYTHING = "6b697a75-6e61-4000-8000-000000000001"  # Kizuna's collection of everything (the same on every node)
TAXII_ACCEPT = "application/taxii+json;version=2.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def on_postgres() -> bool:
    return os.environ.get("KIZUNA_TEST_DB") == "postgres" or os.environ.get("DATABASE_URL", "").startswith("postgres")


def _pg_server() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    return base.rpartition("/")[0]


def create_postgres_database(name: str) -> str:
    import psycopg

    server = _pg_server()
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def drop_postgres_database(url: str) -> None:
    import psycopg

    server, _, name = url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Run independent steps (usually one per node) at the same time; the first failure is raised."""
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(c) for c in calls]
        return [f.result() for f in futures]


class CliError(AssertionError):
    pass


class Node:
    """One node: its environment, its server process, its CLI, its HTTP APIs and its database."""

    def __init__(self, key: str, name: str, nation: str, base_dir: Path) -> None:
        self.key, self.name, self.nation = key, name, nation
        self.data_dir = base_dir / key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.database: str | None = None
        if on_postgres():
            self.database = create_postgres_database(f"kz_threenodes_{key}_{os.getpid()}")
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "KIZUNA_TEST_DB", "KIZUNA_TEST_FILE_DB", "KIZUNA_NODE_NATION",
                                 "KIZUNA_NODE_NAME", "KIZUNA_SECRET_KEY")}
        self.env.update(
            KIZUNA_DATA_DIR=str(self.data_dir), KIZUNA_NODE_NAME=name, KIZUNA_NODE_NATION=nation,
            KIZUNA_COOKIE_SECURE="0", KIZUNA_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_SETTINGS_MODULE="kizuna.settings", KIZUNA_LOG_LEVEL="WARNING",
        )
        if self.database is not None:
            self.env["DATABASE_URL"] = self.database
        self.server: subprocess.Popen[bytes] | None = None
        self.timings: list[tuple[str, float]] = []  # (command, seconds) of every CLI call, for the report
        self._log: Any = None

    def __repr__(self) -> str:
        return f"<Node {self.key} :{self.port}>"

    # --- addresses ---------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def taxii_root(self) -> str:
        return f"{self.url}/taxii2/kizuna/"

    # --- CLI ---------------------------------------------------------------------------------------------------

    def cli(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``kizuna ARGS`` on this node, in a subprocess; fails the test with the command's stderr when it fails."""
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "kizuna", *args], env=self.env, capture_output=True,
                                text=True, timeout=timeout, cwd=self.data_dir)
        self.timings.append((" ".join(args[:2]), time.monotonic() - started))
        if check and result.returncode != 0:
            raise CliError(f"[{self.key}] kizuna {' '.join(args)} exited {result.returncode}: "
                           f"{(result.stderr or result.stdout).strip()[-1500:]}")
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "kizuna", *args], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.data_dir)

    def last_line(self, *args: str) -> str:
        return self.cli(*args).stdout.strip().splitlines()[-1].strip()

    def write(self, name: str, text: str) -> Path:
        path = self.data_dir / name
        path.write_text(text, encoding="utf-8")
        return path

    # --- server ------------------------------------------------------------------------------------------------

    def start(self, timeout: float = 30) -> None:
        self._log = (self.data_dir / "server.log").open("wb")
        self.server = subprocess.Popen(
            [sys.executable, "-m", "kizuna", "serve", "--bind", f"127.0.0.1:{self.port}", "--workers", "1"],
            env=self.env, stdout=self._log, stderr=subprocess.STDOUT, cwd=self.data_dir,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.server.poll() is not None:
                    raise RuntimeError(f"[{self.key}] server exited: {self.server_log()[-1500:]}") from None
                time.sleep(0.1)
        raise RuntimeError(f"[{self.key}] server did not start within {timeout} s")

    def server_log(self) -> str:
        path = self.data_dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and drop the node's PostgreSQL database."""
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.database is not None:
            drop_postgres_database(self.database)
            self.database = None

    # --- HTTP --------------------------------------------------------------------------------------------------

    def http(self, path: str, credential: str | tuple[str, str], params: Sequence[tuple[str, str]] = (),
             accept: str = "application/json") -> tuple[int, Any]:
        """GET ``path`` with an API token (Bearer) or a (username, password) pair (HTTP Basic); (status, parsed
        JSON body or None)."""
        url = self.url + path + (f"?{urllib.parse.urlencode(list(params))}" if params else "")
        if isinstance(credential, tuple):
            pair = base64.b64encode(":".join(credential).encode()).decode("ascii")
            authorization = f"Basic {pair}"
        else:
            authorization = f"Bearer {credential}"
        request = urllib.request.Request(url, headers={"Authorization": authorization, "Accept": accept})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
                return response.status, json.loads(body) if body else None
        except urllib.error.HTTPError as exc:
            body = exc.read()
            try:
                return exc.code, json.loads(body) if body else None
            except ValueError:
                return exc.code, body.decode(errors="replace")

    def taxii_object(self, credential: str | tuple[str, str], stix_id: str) -> tuple[int, Any]:
        """The TAXII object-by-id endpoint (latest version) in the collection of everything."""
        return self.http(f"/taxii2/kizuna/collections/{EVERYTHING}/objects/{stix_id}/", credential,
                         accept=TAXII_ACCEPT)

    def taxii_all(self, credential: str | tuple[str, str], *, versions: str = "all", limit: int = 1000) -> list[dict[str, Any]]:
        """Every object (every version) the token's subject may read in the collection of everything."""
        out: list[dict[str, Any]] = []
        params: list[tuple[str, str]] = [("match[version]", versions), ("limit", str(limit))]
        path = f"/taxii2/kizuna/collections/{EVERYTHING}/objects/"
        while True:
            status, envelope = self.http(path, credential, params, accept=TAXII_ACCEPT)
            assert status == 200, (status, envelope)
            out.extend(envelope.get("objects") or [])
            if not envelope.get("more"):
                return out
            params = [p for p in params if p[0] != "next"] + [("next", str(envelope["next"]))]

    # --- database ----------------------------------------------------------------------------------------------

    def _connect(self) -> Any:
        if self.database is not None:
            import psycopg

            return psycopg.connect(self.database, autocommit=True)
        conn = sqlite3.connect(self.data_dir / "kizuna.sqlite3", timeout=20, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=20000")
        return conn

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one statement (``%s`` placeholders on both engines), in autocommit."""
        if self.database is None:
            sql = sql.replace("%s", "?")
        conn = self._connect()
        try:
            cur = conn.execute(sql, tuple(params))
            return list(cur.fetchall()) if cur.description else []
        finally:
            conn.close()

    def transaction(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Several writes in one transaction (for simulating a compromised node)."""
        conn = self._connect()
        try:
            if self.database is None:
                conn.execute("BEGIN IMMEDIATE")
                for sql, params in statements:
                    conn.execute(sql.replace("%s", "?"), tuple(params))
                conn.execute("COMMIT")
            else:
                with conn.transaction():
                    for sql, params in statements:
                        conn.execute(sql, tuple(params))
        finally:
            conn.close()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self.query(sql, params)
        return rows[0][0] if rows else None
