"""Benchmark of the TAXII 2.1 objects endpoint (issue 4). Run by hand, not part of the suite:

    .venv/bin/python benchmarks/taxii_serve.py [--objects 100000 10000] [--workers 1] [--repeat 3]
    .venv/bin/python benchmarks/taxii_serve.py --database-url postgres://postgres@127.0.0.1:5432/kz_taxii_bench

For each size N: a fresh node (SQLite under a scratch folder, or the PostgreSQL database named by --database-url,
dropped and created anew: give it a database of its own) holding N indicators, half under a label the reader may see
and half under one it may not, interleaved, inserted with raw SQL as the importer stores them (compact JSON text, no
Kizuna marking in ``object_marking_refs``, so every served object takes the marking splice). The node is served by
``kizuna serve`` (gunicorn) on a free 127.0.0.1 port as a subprocess; the reader, authenticated by an API token, pages
through the collection of everything with ``limit=1000`` and ``next`` over real HTTP (one keep-alive connection), and
the rate is objects received per second, end to end at the client (request, server, response body read and parsed
as JSON). Printed beside it, from the same run and the same JSON texts: plain ``sqlite3`` keyset paging
(``WHERE label IN (...) AND id > ? ORDER BY id LIMIT 1000`` joined to a table of the stored JSON, each page joined
into an envelope string), the reference the issue names. Target: at least 100,000 objects per second, and the same
rate at 10,000 and 100,000 objects (linear). The medallion comparison of the issue is not run (medallion is not a
dependency of the project).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVERYTHING = "6b697a75-6e61-4000-8000-000000000001"
T0 = "2026-02-01T00:00:00.000Z"
PAGE = 1000


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--objects", type=int, nargs="+", default=[10_000, 100_000],
                   help="collection sizes to measure (default 10000 100000)")
    p.add_argument("--workers", type=int, default=1, help="gunicorn workers (one reader: one is enough)")
    p.add_argument("--repeat", type=int, default=3, help="walks per size; best and median are printed")
    p.add_argument("--database-url", default="", help="PostgreSQL URL of a database of the benchmark's own")
    return p.parse_args()


def machine() -> str:
    mem = 0
    try:
        with open("/proc/meminfo") as fh:
            mem = int(fh.readline().split()[1]) * 1024
    except OSError:
        pass
    return (f"machine: {os.cpu_count()} cores, {mem / 2**30:.0f} GiB RAM, {platform.platform()}, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reset_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# The node is set up by a child process (Django configured for that node's data dir and database), which prints
# the reader's token: the benchmark itself never imports Django, so every size gets a truly fresh node.
SETUP = r'''
import json, sys, uuid
from datetime import UTC, datetime
import django
django.setup()
from django.core.management import call_command
from django.db import connection, transaction
from kizuna.core.access import intern_label
from kizuna.directory.models import Organisation
from kizuna.directory.services import create_token, create_user, ensure_reference_data
from kizuna.labels import Label
from kizuna.threats.models import StixObject

n, t0 = int(sys.argv[1]), sys.argv[2]
call_command("migrate", verbosity=0)
ensure_reference_data()
user = create_user(username="reader", nation="JPN", organisation="JPN-NISC", clearances={"NATO": "RESTRICTED"},
                   communities=["CYBER"], role="contributor", password="bench password 4774")
org = Organisation.objects.get(code="JPN-NISC").pk
seen = intern_label(Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["JPN"]}, "GREEN", [])).pk
hidden = intern_label(Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["KOR"]}, "AMBER", [])).pk
columns = ("label_id", "originator_id", "created_at", "updated_at", "stix_id", "type", "spec_version", "created",
           "modified", "is_current", "revoked", "source_ref", "target_ref", "name", "data")
sql = (f"INSERT INTO {StixObject._meta.db_table} ({', '.join(columns)}) "
       f"VALUES ({', '.join(['%s'] * len(columns))})")
now = datetime.now(UTC)
rows = []
for i in range(n):
    sid = f"indicator--{uuid.uuid4()}"
    value = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
    obj = {"type": "indicator", "spec_version": "2.1", "id": sid, "created": t0, "modified": t0,
           "name": f"Malicious address {value}", "indicator_types": ["malicious-activity"],
           "pattern": f"[ipv4-addr:value = '{value}']", "pattern_type": "stix", "valid_from": t0}
    rows.append((seen if i % 2 == 0 else hidden, org, now, now, sid, "indicator", "2.1", t0, t0, True, False,
                 "", "", obj["name"], json.dumps(obj, separators=(",", ":"))))
with transaction.atomic(), connection.cursor() as cursor:
    for start in range(0, len(rows), 10_000):
        cursor.executemany(sql, rows[start:start + 10_000])
if connection.vendor == "postgresql":
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {StixObject._meta.db_table}")
_, secret = create_token(user, "taxii benchmark")
with connection.cursor() as cursor:
    cursor.execute(f"SELECT id, label_id, data FROM {StixObject._meta.db_table} ORDER BY id")
    dump = cursor.fetchall()
print(json.dumps({"token": secret, "seen": seen, "hidden": hidden, "vendor": connection.vendor}))
with open(sys.argv[3], "w") as fh:
    json.dump(dump, fh)
'''


def make_node(n: int, env: dict[str, str], dump_path: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", SETUP, str(n), T0, str(dump_path)], env=env, cwd=ROOT, check=True,
                          stdout=subprocess.PIPE, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def start_server(env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "kizuna", "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"kizuna serve exited with {proc.returncode}; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("kizuna serve did not start within 60 s")


def walk_http(port: int, token: str) -> tuple[float, int, int]:
    """One walk over the whole collection: seconds, objects received, pages."""
    import requests

    url = f"http://127.0.0.1:{port}/taxii2/kizuna/collections/{EVERYTHING}/objects/"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/taxii+json;version=2.1"}
    with requests.Session() as session:
        session.get(url, headers=headers, params={"limit": "1"}).raise_for_status()  # warm the worker
        start = time.perf_counter()
        count = pages = 0
        params = {"limit": str(PAGE)}
        while True:
            response = session.get(url, headers=headers, params=params)
            response.raise_for_status()
            envelope = json.loads(response.content)
            count += len(envelope.get("objects", []))
            pages += 1
            if not envelope.get("more"):
                break
            params = {"limit": str(PAGE), "next": envelope["next"]}
        return time.perf_counter() - start, count, pages


def plain_sqlite(dump: list[tuple[int, int, str]], seen: int, folder: Path) -> tuple[float, int]:
    """The reference: keyset paging over an (id, label) table joined to a table of the stored JSON texts."""
    path = folder / "plain.sqlite3"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE objects (id INTEGER PRIMARY KEY, label INTEGER NOT NULL);
        CREATE INDEX objects_label ON objects (label, id);
        CREATE TABLE stored (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
    """)
    db.executemany("INSERT INTO objects VALUES (?, ?)", [(pk, label) for pk, label, _ in dump])
    db.executemany("INSERT INTO stored VALUES (?, ?)", [(pk, data) for pk, _, data in dump])
    db.commit()
    db.execute("ANALYZE")
    sql = ("SELECT o.id, s.data FROM objects o JOIN stored s ON s.id = o.id "
           "WHERE o.label IN (?) AND o.id > ? ORDER BY o.id LIMIT ?")
    start = time.perf_counter()
    last, count = 0, 0
    while True:
        rows = db.execute(sql, (seen, last, PAGE + 1)).fetchall()
        more = len(rows) > PAGE
        rows = rows[:PAGE]
        body = '{"more":' + ("true" if more else "false") + ',"objects":[' + ",".join(r[1] for r in rows) + "]}"
        count += len(rows)
        assert body
        if not more:
            break
        last = rows[-1][0]
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed, count


def measure(n: int, args: argparse.Namespace) -> None:
    scratch = Path(tempfile.mkdtemp(prefix=f"kizuna-taxii-serve-{n}-"))
    env = {**os.environ, "KIZUNA_DATA_DIR": str(scratch), "DJANGO_SETTINGS_MODULE": "kizuna.settings",
           "KIZUNA_COOKIE_SECURE": "0"}
    env.pop("KIZUNA_DEV", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
        reset_postgres(args.database_url)
    else:
        env.pop("DATABASE_URL", None)
    start = time.perf_counter()
    node = make_node(n, env, scratch / "dump.json")
    print(f"\n{n:,} objects ({node['vendor']}), half visible to the reader; node built in "
          f"{time.perf_counter() - start:.1f} s")
    port = free_port()
    server = start_server(env, port, args.workers, scratch / "server.log")
    try:
        walks = [walk_http(port, str(node["token"])) for _ in range(args.repeat)]
    finally:
        server.terminate()
        server.wait(timeout=30)
    counts = {w[1] for w in walks}
    assert counts == {n - n // 2}, f"the reader received {counts} objects, expected {n - n // 2}"
    times = [w[0] for w in walks]
    got, pages = walks[0][1], walks[0][2]
    print(f"  TAXII over HTTP (gunicorn, {args.workers} worker): {got:,} objects in {pages} pages  "
          f"best {got / min(times):>9,.0f} obj/s   median {got / statistics.median(times):>9,.0f} obj/s")
    dump = json.loads((scratch / "dump.json").read_text())
    plain = [plain_sqlite(dump, int(node["seen"]), scratch) for _ in range(args.repeat)]
    p_times = [p[0] for p in plain]
    p_count = plain[0][1]
    assert p_count == got
    print(f"  plain sqlite3 keyset + JSON join:            {p_count:,} objects               "
          f"best {p_count / min(p_times):>9,.0f} obj/s   median {p_count / statistics.median(p_times):>9,.0f} obj/s")
    shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    args = parse()
    print(machine())
    for n in args.objects:
        measure(n, args)


if __name__ == "__main__":
    main()
