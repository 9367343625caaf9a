"""Benchmark of the TAXII 2.1 objects endpoint (issue 4). Run by hand (the suite runs it at a tiny size, untimed):

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
rate at 10,000 and 100,000 objects (linear). Last, for scale, the reference TAXII server medallion (memory backend)
paging through small collections in a child process (--medallion sizes, none to skip).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
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
    p.add_argument("--medallion", type=int, nargs="*", default=[500, 1000],
                   help="collection sizes for the medallion comparison (none: skip it)")
    p.add_argument("--medallion-page", type=int, default=100, help="page size asked of medallion")
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
from benchmarks._rows import model_insert  # every other column of the model at its default
sql, make_row = model_insert(StixObject, columns)
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
        cursor.executemany(sql, [make_row(*row) for row in rows[start:start + 10_000]])
from kizuna.federation.outbound import sign_pending
signed = sign_pending()  # as after an import: this node's objects are served with their stored signature
if connection.vendor == "postgresql":
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {StixObject._meta.db_table}")
_, secret = create_token(user, "taxii benchmark")
with connection.cursor() as cursor:
    cursor.execute(f"SELECT id, label_id, data FROM {StixObject._meta.db_table} ORDER BY id")
    dump = cursor.fetchall()
print(json.dumps({"token": secret, "seen": seen, "hidden": hidden, "vendor": connection.vendor, "signed": signed}))
with open(sys.argv[3], "w") as fh:
    json.dump(dump, fh)
'''


def make_node(n: int, env: dict[str, str], dump_path: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", SETUP, str(n), T0, str(dump_path)], env=env, cwd=ROOT, check=True,
                          stdout=subprocess.PIPE, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def start_server(env: dict[str, str], port: int, workers: int, log: Path,
                 code: Path | str = ROOT) -> subprocess.Popen[bytes]:
    """``kizuna serve`` of the checkout ``code`` on the loopback port, once it accepts connections."""
    argv = [sys.executable, "-m", "kizuna", "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=env, cwd=code, stdout=out, stderr=subprocess.STDOUT)
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


_HEAD = re.compile(rb'^\{"more":(true|false)(?:,"next":"([^"]+)")?')


def walk_http(port: int, token: str, *, parse: bool = True) -> tuple[float, int, int]:
    """One walk over the whole collection on one keep-alive connection, every page read whole: seconds, objects
    received, pages. ``parse``: each page parsed as JSON, as a TAXII client does; otherwise only the envelope's head
    is read for ``more`` and ``next`` (the server's rate without the client's parsing; the objects, all indicators
    here, are counted in the text)."""
    path = f"/taxii2/kizuna/collections/{EVERYTHING}/objects/?limit={PAGE}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/taxii+json;version=2.1"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(url: str) -> bytes:
        conn.request("GET", url, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"HTTP {response.status}: {body[:300]!r}")
        return body

    try:
        get(path.replace(f"limit={PAGE}", "limit=1"))  # warm the worker
        start = time.perf_counter()
        count = pages = 0
        url = path
        while True:
            body = get(url)
            pages += 1
            if parse:
                envelope = json.loads(body)
                count += len(envelope.get("objects", []))
                more, nxt = bool(envelope.get("more")), envelope.get("next")
            else:
                head = _HEAD.match(body)
                if head is None:
                    raise SystemExit(f"not an envelope: {body[:100]!r}")
                count += body.count(b'{"type":"indicator"')
                more, nxt = head.group(1) == b"true", (head.group(2) or b"").decode()
            if not more:
                break
            url = f"{path}&next={nxt}"
        return time.perf_counter() - start, count, pages
    finally:
        conn.close()


def plain_sqlite(dump: list[tuple[int, int, str]], seen: int, folder: Path, *, reencode: bool) -> tuple[float, int]:
    """The reference: keyset paging over an (id, label) table joined to a table of the stored JSON texts, each page
    made into an envelope — by joining the texts, or (``reencode``) by parsing each object and dumping the page."""
    path = folder / "plain.sqlite3"
    if not path.exists():
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
        db.close()
    db = sqlite3.connect(path)
    sql = ("SELECT o.id, s.data FROM objects o JOIN stored s ON s.id = o.id "
           "WHERE o.label IN (?) AND o.id > ? ORDER BY o.id LIMIT ?")
    start = time.perf_counter()
    last, count = 0, 0
    while True:
        rows = db.execute(sql, (seen, last, PAGE + 1)).fetchall()
        more = len(rows) > PAGE
        rows = rows[:PAGE]
        if reencode:
            body = json.dumps({"more": more, "next": str(rows[-1][0]) if more else None,
                               "objects": [json.loads(r[1]) for r in rows]}, separators=(",", ":"))
        else:
            body = '{"more":' + ("true" if more else "false") + ',"objects":[' + ",".join(r[1] for r in rows) + "]}"
        count += len(rows)
        assert body
        if not more:
            break
        last = rows[-1][0]
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed, count


# A settings module that is Kizuna's with persistent SQLite connections (kizuna.settings sets CONN_MAX_AGE = 0 for
# SQLite, so every request opens a connection and starts with a cold page cache): written to the scratch folder.
PERSISTENT_SETTINGS = 'from kizuna.settings import *  # noqa: F403\nDATABASES["default"]["CONN_MAX_AGE"] = 60\n'


def rate_line(title: str, count: int, times: list[float]) -> str:
    return (f"  {title:<62} {count:>7,} objects  best {count / min(times):>9,.0f} obj/s   "
            f"median {count / statistics.median(times):>9,.0f} obj/s")


def measure(n: int, args: argparse.Namespace) -> None:
    scratch = Path(tempfile.mkdtemp(prefix=f"kizuna-taxii-serve-{n}-"))
    (scratch / "taxii_bench_settings.py").write_text(PERSISTENT_SETTINGS)
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
    print(f"\n{n:,} objects ({node['vendor']}), half visible to the reader; node built and {node['signed']:,} "
          f"objects signed in {time.perf_counter() - start:.1f} s")
    expected = n - n // 2
    variants = [("kizuna.settings", f"kizuna serve ({args.workers} worker)")]
    if node["vendor"] == "sqlite":
        variants.append(("taxii_bench_settings", "  same, persistent SQLite connections"))
    for settings_module, title in variants:
        run_env = {**env, "DJANGO_SETTINGS_MODULE": settings_module,
                   "PYTHONPATH": os.pathsep.join(p for p in (str(scratch), env.get("PYTHONPATH", "")) if p)}
        port = free_port()
        server = start_server(run_env, port, args.workers, scratch / "server.log")
        try:
            for parse, how in ((True, "client parses"), (False, "client reads")):
                walks = [walk_http(port, str(node["token"]), parse=parse) for _ in range(args.repeat)]
                counts = {w[1] for w in walks}
                assert counts == {expected}, f"the reader received {counts} objects, expected {expected}"
                print(rate_line(f"{title}, {how} ({walks[0][2]} pages)", expected, [w[0] for w in walks]))
        finally:
            server.terminate()
            server.wait(timeout=30)
    dump = json.loads((scratch / "dump.json").read_text())
    for reencode, title in ((False, "plain sqlite3 keyset + JSON join, texts joined"),
                            (True, "plain sqlite3 keyset + JSON join, json.loads/dumps")):
        plain = [plain_sqlite(dump, int(str(node["seen"])), scratch, reencode=reencode) for _ in range(args.repeat)]
        assert plain[0][1] == expected
        print(rate_line(title, expected, [p[0] for p in plain]))
    shutil.rmtree(scratch, ignore_errors=True)


# medallion (the OASIS reference TAXII server, memory backend) in a child process: N indicators posted, then one
# walk with limit/next over real HTTP (werkzeug's server on a free port), timed at the client.
MEDALLION = r'''
import json, sys, threading, time, uuid
import medallion, requests
from medallion.backends.memory_backend import MemoryBackend
from werkzeug.serving import make_server
n, page = int(sys.argv[1]), int(sys.argv[2])
root, coll = "root", "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
app = medallion.application_instance
medallion.set_config(app, "users", {"users": {"u": "p"}})
medallion.set_config(app, "taxii", {"taxii": {"max_page_size": page}})
medallion.register_blueprints(app)
server = make_server("127.0.0.1", 0, app, threaded=True)
base = f"http://127.0.0.1:{server.server_port}"
backend = MemoryBackend()
backend.data = {"/discovery": {"title": "bench", "default": f"{base}/{root}/", "api_roots": [f"{base}/{root}/"]},
                root: {"information": {"title": "bench", "versions": ["application/taxii+json;version=2.1"],
                                       "max_content_length": 500_000_000}, "status": [],
                       "collections": [{"id": coll, "title": "c", "can_read": True, "can_write": True,
                                        "media_types": ["application/stix+json;version=2.1"],
                                        "objects": [], "manifest": []}]}}
app.medallion_backend = backend
threading.Thread(target=server.serve_forever, daemon=True).start()
t0 = "2026-02-01T00:00:00.000Z"
objects = [{"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}", "created": t0,
            "modified": t0, "name": f"Malicious address 10.0.{i >> 8 & 255}.{i & 255}",
            "pattern": f"[ipv4-addr:value = '10.0.{i >> 8 & 255}.{i & 255}']", "pattern_type": "stix",
            "valid_from": t0} for i in range(n)]
url = f"{base}/{root}/collections/{coll}/objects/"
s = requests.Session()
s.auth = ("u", "p")
h = {"Accept": "application/taxii+json;version=2.1", "Content-Type": "application/taxii+json;version=2.1"}
s.post(url, data=json.dumps({"objects": objects}), headers=h).raise_for_status()
start = time.perf_counter()
count, params = 0, {"limit": str(page)}
while True:
    r = s.get(url, params=params, headers=h)
    r.raise_for_status()
    env = r.json()
    count += len(env.get("objects", []))
    if not env.get("more"):
        break
    params = {"limit": str(page), "next": env["next"]}
print(json.dumps([time.perf_counter() - start, count]))
server.shutdown()
'''


def medallion(n: int, page: int) -> None:
    try:
        done = subprocess.run([sys.executable, "-c", MEDALLION, str(n), str(page)], cwd=ROOT, check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=900)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        print(f"  medallion {n:,} objects: not measured ({type(err).__name__})")
        return
    seconds, count = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  medallion 3 (memory backend), {n:,} objects in pages of {page}: {count:,} received in {seconds:.2f} s "
          f"= {count / seconds:,.0f} obj/s")


def main() -> None:
    args = parse()
    print(machine())
    for n in args.objects:
        measure(n, args)
    if args.medallion:
        print("\nmedallion, every object visible, one walk each:")
        for n in args.medallion:
            medallion(n, args.medallion_page)


if __name__ == "__main__":
    main()
