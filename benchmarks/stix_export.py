"""Benchmark of the STIX bundle export (issue 3). Run by hand (the suite runs it at a tiny size, untimed):

    .venv/bin/python benchmarks/stix_export.py [--objects 100000] [--relationships 10000] [--repeat 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kz_stixexport_bench .venv/bin/python benchmarks/stix_export.py

Builds a fresh node (SQLite under a scratch folder, or the PostgreSQL database named by DATABASE_URL, dropped and
created anew: give it a database of its own, whose name contains 'bench'), inserts N indicators the
measuring user may see (and N/9 more they may not) with raw SQL as the importer stores them (compact JSON text,
no Kizuna marking in ``object_marking_refs``, so every
object takes the export's splice path), under a few labels, and prints, from the same run:

- the export rate: ``write_bundle`` for the user (label filter, relationship rule, id-range chunks, the label marking
  added to each object, the bundle text written to a buffer), objects per second;
- the bare query rate: ``SELECT data FROM threats_stixobject`` fetched whole, rows per second (the ceiling);
- the same export again after adding relationships between the indicators (the relationship rule's EXISTS per end).
Target: at least 100,000 objects per second.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--objects", type=int, default=100_000)
    p.add_argument("--relationships", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=3)
    return p.parse_args()


ARGS = parse()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
SCRATCH = Path(tempfile.mkdtemp(prefix="kizuna-stix-export-"))
os.environ["KIZUNA_DATA_DIR"] = str(SCRATCH)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")


def ensure_postgres_database() -> None:
    """Create (or empty) the benchmark's own PostgreSQL database, so a run never touches anyone else's."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    if "bench" not in name:
        # It drops the database: refuse a name that could be a node's own (DATABASE_URL left set in a shell).
        sys.exit(f"stix_export: refusing to drop database {name!r}; name a database of its own containing 'bench'")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


ensure_postgres_database()

import django  # noqa: E402

django.setup()

from _rows import model_insert  # noqa: E402  (benchmarks/, this script's folder)
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from kizuna.core.access import intern_label  # noqa: E402
from kizuna.directory.models import Organisation  # noqa: E402
from kizuna.directory.services import create_user, ensure_reference_data  # noqa: E402
from kizuna.directory.subjects import subject_for  # noqa: E402
from kizuna.labels import Label  # noqa: E402
from kizuna.threats.exporter import write_bundle  # noqa: E402
from kizuna.threats.models import StixObject  # noqa: E402

TABLE = StixObject._meta.db_table
COLUMNS = ("label_id", "originator_id", "created_at", "updated_at", "stix_id", "type", "spec_version", "created",
           "modified", "is_current", "revoked", "source_ref", "target_ref", "name", "data")
T0 = "2026-02-01T00:00:00.000Z"


def labels() -> tuple[list[int], int]:
    visible = [
        Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["IP4", "NATO"]}, "AMBER", []),
        Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["JPN"]}, "GREEN", []),
        Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["IP4"], "communities": ["CYBER"]}, "AMBER", []),
    ]
    hidden = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["KOR"]}, "AMBER", [])
    return [intern_label(lbl).pk for lbl in visible], intern_label(hidden).pk


def insert(rows: list[tuple[object, ...]]) -> None:
    """Rows of COLUMNS, written with every other column of the model at its default (benchmarks/_rows.py)."""
    sql, make_row = model_insert(StixObject, COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), 10_000):
            cursor.executemany(sql, [make_row(*row) for row in rows[start : start + 10_000]])


def indicator_rows(n: int, visible: list[int], hidden: int, org: int) -> list[tuple[object, ...]]:
    now = datetime.now(UTC)
    rows = []
    for i in range(n + n // 9):
        sid = f"indicator--{uuid.uuid4()}"
        value = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
        obj = {"type": "indicator", "spec_version": "2.1", "id": sid, "created": T0, "modified": T0,
               "name": f"Malicious address {value}", "indicator_types": ["malicious-activity"],
               "pattern": f"[ipv4-addr:value = '{value}']", "pattern_type": "stix", "valid_from": T0}
        label = hidden if i % 10 == 9 else visible[i % len(visible)]  # n visible, and about n/9 more hidden
        rows.append((label, org, now, now, sid, "indicator", "2.1", T0, T0, True, False, "", "", obj["name"],
                     json.dumps(obj, separators=(",", ":"))))
    return rows


def relationship_rows(n: int, ends: list[str], visible: list[int], org: int) -> list[tuple[object, ...]]:
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        sid = f"relationship--{uuid.uuid4()}"
        source, target = ends[i % len(ends)], ends[(i * 7 + 3) % len(ends)]
        obj = {"type": "relationship", "spec_version": "2.1", "id": sid, "created": T0, "modified": T0,
               "relationship_type": "related-to", "source_ref": source, "target_ref": target}
        rows.append((visible[0], org, now, now, sid, "relationship", "2.1", T0, T0, True, False, source, target, "",
                     json.dumps(obj, separators=(",", ":"))))
    return rows


def best_of(fn: Callable[[], int]) -> tuple[float, float, int]:
    times, count = [], 0
    for _ in range(ARGS.repeat):
        start = time.perf_counter()
        count = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), count


def main() -> None:
    call_command("migrate", verbosity=0)
    ensure_reference_data()
    user = create_user(username="bench", nation="JPN", organisation="JPN-NISC", clearances={"NATO": "RESTRICTED"},
                       communities=["CYBER"], role="contributor", password="bench password 4774")
    org = Organisation.objects.get(code="JPN-NISC").pk
    visible, hidden = labels()
    rows = indicator_rows(ARGS.objects, visible, hidden, org)
    start = time.perf_counter()
    insert(rows)
    print(f"database: {connection.vendor}; inserted {len(rows):,} indicators in {time.perf_counter() - start:.1f} s "
          f"(10% under a label the measuring user may not see)")
    ends = [r[4] for r in rows if r[0] != hidden][:5000] + [r[4] for r in rows if r[0] == hidden][:500]
    del rows  # the inserted rows are not part of what is measured
    gc.collect()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {TABLE}")
    subject = subject_for(user)

    def export() -> int:
        out = io.StringIO()
        n = write_bundle(subject, out)
        export.text = out.getvalue()  # type: ignore[attr-defined]
        return n

    def bare() -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT data FROM {TABLE}")
            return len(cursor.fetchall())

    b_best, b_med, b_rows = best_of(bare)
    e_best, e_med, exported = best_of(export)
    bundle = json.loads(export.text)  # type: ignore[attr-defined]
    assert len(bundle["objects"]) >= exported
    print(f"bare SELECT data:     {b_rows:>9,} rows    best {b_rows / b_best:>11,.0f} rows/s   "
          f"median {b_rows / b_med:>11,.0f} rows/s")
    print(f"export (write_bundle): {exported:>8,} objects best {exported / e_best:>11,.0f} obj/s    "
          f"median {exported / e_med:>11,.0f} obj/s   ({len(export.text) / 1e6:.0f} MB)")  # type: ignore[attr-defined]

    if ARGS.relationships:
        insert(relationship_rows(ARGS.relationships, ends, visible, org))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {TABLE}")
        r_best, r_med, r_exported = best_of(export)
        print(f"export with {ARGS.relationships:,} relationships: {r_exported:,} objects "
              f"best {r_exported / r_best:,.0f} obj/s   median {r_exported / r_med:,.0f} obj/s")


if __name__ == "__main__":
    main()
