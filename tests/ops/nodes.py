"""Fresh nodes for the backup tests: a data directory of their own and, on the PostgreSQL run, a database of their
own named after the test database (dropped at the end), driven through ``kizuna`` in subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.federation.nodes import create_postgres_database, drop_postgres_database, on_postgres

ROOT = Path(__file__).resolve().parents[2]


class FreshNode:
    def __init__(self, data_dir: Path, database_name: str) -> None:
        self.data_dir = data_dir
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database = create_postgres_database(database_name) if on_postgres() else None
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "KIZUNA_TEST_DB", "KIZUNA_TEST_FILE_DB", "KIZUNA_SECRET_KEY")}
        self.env.update(KIZUNA_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="kizuna.settings",
                        KIZUNA_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
        if self.database is not None:
            self.env["DATABASE_URL"] = self.database

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kizuna", *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, cwd=self.data_dir, check=False)

    def python(self, code: str, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-c", code, *args], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.data_dir)

    def drop(self) -> None:
        if self.database is not None:
            drop_postgres_database(self.database)
