"""Set up Django in a benchmark's own process for a scratch node: a data folder of its own (the SQLite file in it
removed, so every run starts empty) or, with ``database_url``, a PostgreSQL database dropped and created anew.
Used by the benchmarks that measure a query in-process (search.py, threat_search.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def configure(data_dir: Path, database_url: str, *, reuse: bool = False) -> None:
    """Point Django at a fresh node in ``data_dir`` (or at ``database_url``, whose name must contain 'bench': it is
    dropped), then ``django.setup()``. With ``reuse`` the node a previous run built is kept as it is."""
    sys.path.insert(0, str(HERE.parent))
    sys.path.insert(0, str(HERE))
    data_dir.mkdir(parents=True, exist_ok=True)
    for stale in [] if reuse else data_dir.glob("kizuna.sqlite3*"):
        stale.unlink()
    os.environ["KIZUNA_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
    os.environ.pop("DATABASE_URL", None)
    if database_url:
        if "bench" not in database_url.rsplit("/", 1)[1]:
            raise SystemExit("--database-url: the database is dropped and created; its name must contain 'bench'")
        if not reuse:
            from taxii_serve import reset_postgres

            reset_postgres(database_url)
        os.environ["DATABASE_URL"] = database_url

    import django

    django.setup()
