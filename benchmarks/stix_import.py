"""Benchmark of STIX bundle import (issue 3). Run by hand (the suite runs it at a tiny size, untimed):

    .venv/bin/python benchmarks/stix_import.py [--objects 100000] [--database-url postgres://postgres@127.0.0.1:5432/kizuna_bench]

Generates a bundle of N indicators with simple patterns (IPv4, domain, URL, SHA-256; pattern validation on), imports
it into a fresh node through ``do_import_bundle`` (streamed parse, validation, labels, raw-SQL batches, observable
index, audit; a bundle this size is parsed in a child process while this one writes), and prints, from the same run:

- the end-to-end import rate, and the CPU time of this process, of the parsing child and (PostgreSQL) of the server
  process serving the import;
- the ceiling: plain ``sqlite3`` ``executemany`` of the same objects as (id, type, modified, JSON) rows into a table of
  four columns with a unique (id, modified) key (on PostgreSQL also plain COPY of the same rows; the PostgreSQL target
  is the same absolute rate as the SQLite one, half the ``executemany`` rate);
- a naive importer: ``stix2.parse`` of every object (a 2,000-object sample, extrapolated);
- a second import of the same bundle (everything unchanged).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--objects", type=int, default=100_000)
    p.add_argument("--database-url", default="", help="PostgreSQL URL (default: a fresh SQLite file)")
    p.add_argument("--data-dir", default="/tmp/kizuna-bench-stix")  # noqa: S108 - scratch folder, run by hand
    p.add_argument("--sample", type=int, default=2000, help="objects parsed with stix2.parse for the naive rate")
    return p.parse_args()


ARGS = parse()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's kizuna and benchmarks packages
DATA_DIR = Path(ARGS.data_dir)
shutil.rmtree(DATA_DIR, ignore_errors=True)
DATA_DIR.mkdir(parents=True)
os.environ["KIZUNA_DATA_DIR"] = str(DATA_DIR)
if ARGS.database_url:
    os.environ["DATABASE_URL"] = ARGS.database_url
else:
    os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")


def ensure_postgres_database(url: str) -> None:
    """Create the benchmark database when missing; drop and recreate it so every run starts empty."""
    name = url.rsplit("/", 1)[1]
    server = url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", server, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True)
    subprocess.run(["psql", server, "-qc", f'CREATE DATABASE "{name}"'], check=True)


if ARGS.database_url:
    ensure_postgres_database(ARGS.database_url)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from benchmarks._bundle import indicator  # noqa: E402
from kizuna.directory.services import create_user, ensure_reference_data  # noqa: E402
from kizuna.labels import Label  # noqa: E402
from kizuna.threats.models import ObservableValue, StixObject  # noqa: E402
from kizuna.threats.services import do_import_bundle  # noqa: E402

T0 = "2026-02-01T00:00:00.000Z"


def write_bundle(path: Path, n: int) -> list[dict[str, object]]:
    objects = [indicator(i) for i in range(n)]
    with path.open("w") as f:
        json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}, f)
    return objects


def plain_executemany(objects: list[dict[str, object]]) -> tuple[float, float]:
    """The ceiling: the objects as rows of (id, type, modified, JSON) in a bare table, one executemany, one
    transaction. Two rates: with the JSON text made from the objects in the timed part (what storing the objects
    costs), and of executemany alone (rows prepared beforehand)."""
    rates = []
    for prepared in (False, True):
        path = DATA_DIR / f"plain-{prepared}.sqlite3"
        db = sqlite3.connect(path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE o (id TEXT, type TEXT, modified TEXT, data TEXT, UNIQUE (id, modified))")
        rows = [(o["id"], o["type"], o["modified"], json.dumps(o)) for o in objects] if prepared else []
        start = time.perf_counter()
        if not prepared:
            rows = [(o["id"], o["type"], o["modified"], json.dumps(o)) for o in objects]
        with db:
            db.executemany("INSERT INTO o VALUES (?, ?, ?, ?)", rows)
        rates.append(len(rows) / (time.perf_counter() - start))
        db.close()
    return rates[0], rates[1]


def plain_copy(objects: list[dict[str, object]]) -> tuple[float, float]:
    rates = []
    for prepared in (False, True):
        rows = [(o["id"], o["type"], o["modified"], json.dumps(o)) for o in objects] if prepared else []
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE plain_o (id TEXT, type TEXT, modified TEXT, data TEXT, UNIQUE (id, modified))")
            start = time.perf_counter()
            if not prepared:
                rows = [(o["id"], o["type"], o["modified"], json.dumps(o)) for o in objects]
            with cursor.cursor.copy("COPY plain_o FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            rates.append(len(rows) / (time.perf_counter() - start))
            cursor.execute("DROP TABLE plain_o")
    return rates[0], rates[1]


def server_cpu() -> float:
    """CPU seconds used so far by the PostgreSQL server process of this connection (Linux /proc; 0 elsewhere)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def naive_rate(objects: list[dict[str, object]], sample: int) -> float:
    import stix2

    texts = [json.dumps(o) for o in objects[:sample]]
    start = time.perf_counter()
    for text in texts:
        stix2.parse(text, allow_custom=False)
    return len(texts) / (time.perf_counter() - start)


def cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    n = ARGS.objects
    call_command("migrate", verbosity=0)
    ensure_reference_data()
    user = create_user(username="bench", nation="JPN", organisation="JPN-MOD", clearances={"NATO": "RESTRICTED"},
                       communities=["CYBER"], role="contributor", password="bench-password-4774")
    label = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["NATO", "IP4"], "communities": ["CYBER"]}, "GREEN")

    tmp = Path(tempfile.mkdtemp(dir=DATA_DIR))
    bundle = tmp / "bundle.json"
    objects = write_bundle(bundle, n)
    size = bundle.stat().st_size
    vendor = connection.vendor
    database = f"SQLite {sqlite3.sqlite_version}" if vendor == "sqlite" else \
        f"PostgreSQL {getattr(connection, 'pg_version', '')}"
    print(f"machine: {os.cpu_count()} cores, {cpu()}; Python {platform.python_version()}; {database}")
    print(f"bundle: {n:,} indicators, {size / 1e6:.1f} MB")

    sqlite_ceiling, sqlite_prepared = plain_executemany(objects)
    ceiling, ceiling_prepared = (sqlite_ceiling, sqlite_prepared) if vendor == "sqlite" else plain_copy(objects)
    naive = naive_rate(objects, ARGS.sample)
    del objects

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_start = server_cpu()
    start, cpu_start = time.perf_counter(), time.process_time()
    with bundle.open("rb") as stream:
        summary = do_import_bundle(user, stream, "bench", label)
    elapsed, cpu_used = time.perf_counter() - start, time.process_time() - cpu_start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    server_used = server_cpu() - server_start
    assert summary.accepted == n, (summary.accepted, summary.errors[:3])
    assert StixObject.objects.count() == n
    values = ObservableValue.objects.count()

    start = time.perf_counter()
    with bundle.open("rb") as stream:
        again = do_import_bundle(user, stream, "bench", label)
    elapsed_again = time.perf_counter() - start
    assert again.unchanged == n

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = n / elapsed
    ceiling_name = "plain sqlite3 executemany" if vendor == "sqlite" else "plain psycopg COPY"
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.1f} (other work on the machine slows every figure alike)")
    server_note = f", {server_used:.2f} s in the PostgreSQL server process" if vendor == "postgresql" else ""
    print(f"import (end to end, validation on):  {rate:>9,.0f} objects/s  ({elapsed:.2f} s wall; CPU {cpu_used:.2f} s "
          f"in this process, {child_cpu:.2f} s in the parsing child{server_note}; {values:,} values indexed)")
    print(f"{ceiling_name + ' of the objects:':<37}{ceiling:>9,.0f} rows/s   -> import is {rate / ceiling:.0%} "
          "(rows of id, type, modified, JSON text made in the timed part)")
    print(f"{'  the same, rows prepared beforehand:':<37}{ceiling_prepared:>9,.0f} rows/s   -> import is "
          f"{rate / ceiling_prepared:.0%}")
    if vendor != "sqlite":
        print(f"{'plain sqlite3 executemany (target):':<37}{sqlite_ceiling:>9,.0f} rows/s   -> import is "
              f"{rate / sqlite_ceiling:.0%} (target: 50%)")
    print(f"{'naive stix2.parse per object:':<37}{naive:>9,.0f} objects/s (sample {ARGS.sample:,}, extrapolated "
          f"{n / naive:.0f} s for {n:,}) -> import is {rate / naive:.0f}x")
    print(f"{'second import (all unchanged):':<37}{n / elapsed_again:>9,.0f} objects/s  ({elapsed_again:.2f} s)")
    print(f"peak RSS of the process: {rss:.0f} MB (the generated objects were held in memory for the baselines)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    sys.exit(0)
