"""Benchmark of federation sync (issue 4). Run by hand (the suite runs it at a tiny size, untimed):

    .venv/bin/python benchmarks/federation_sync.py [--objects 100000] [--workers 2]
    .venv/bin/python benchmarks/federation_sync.py --database-url postgres://postgres@127.0.0.1:5432/kz_sync_bench

Two nodes on this machine, each its own data folder and database (SQLite files, or two PostgreSQL databases named
after --database-url with _a and _b, dropped and created anew). Node A holds N indicators releasable to JPN plus N/10
releasable only to KOR, interleaved, all signed by A (``sign_pending``, as the worker does after an import). Node B
is configured as A's peer entitled to JPN, and A as B's peer, through the real CLI (``kizuna node show --json``,
``kizuna peer add --from-card``). A is served by ``kizuna serve`` (gunicorn); ``kizuna sync a`` runs on B as a
separate process and pulls everything: TAXII pages of 1,000 over HTTP, signature verification, label-marking
resolution, the store's import with originator checks, and the cursor saved per page. The rate is objects stored on B
per second of the sync as the command times it (first request to last commit) and, beside it, of the whole command
with its start-up (Python and Django: about 1 s). B must end with exactly the N objects it may see.

Printed beside it from the same run: the transfer ceiling (the same pages fetched and parsed by the same client
without any processing), the verification ceiling (every object's signature checked in two threads, nothing else),
and a second sync with nothing new (every object unchanged). Target: at least 10,000 objects per second.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from taxii_serve import free_port, machine, reset_postgres, start_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
T0 = "2026-02-01T00:00:00.000Z"


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--objects", type=int, default=100_000)
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers serving node A")
    p.add_argument("--database-url", default="", help="PostgreSQL URL: databases <name>_a and <name>_b are used")
    p.add_argument("--profile", action="store_true", help="run the first sync under cProfile; print the top 30")
    return p.parse_args()


SETUP_A = r'''
import json, sys, uuid
from datetime import UTC, datetime
import django
django.setup()
from django.core.management import call_command
from django.db import connection, transaction
from kizuna.core.access import intern_label
from kizuna.directory.models import Organisation
from kizuna.directory.services import create_user, ensure_reference_data
from kizuna.federation.outbound import sign_pending
from kizuna.labels import Label
from kizuna.threats.models import StixObject

n, t0 = int(sys.argv[1]), sys.argv[2]
call_command("migrate", verbosity=0)
ensure_reference_data()
create_user(username="analyst", nation="JPN", organisation="JPN-NISC", clearances={"NATO": "RESTRICTED"},
            communities=["CYBER"], role="contributor")
org = Organisation.objects.get(code="JPN-NISC").pk
seen = intern_label(Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["NATO", "JPN"]}, "GREEN", [])).pk
hidden = intern_label(Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["KOR"]}, "AMBER", [])).pk
columns = ("label_id", "originator_id", "created_at", "updated_at", "stix_id", "type", "spec_version", "created",
           "modified", "is_current", "revoked", "source_ref", "target_ref", "name", "data")
from benchmarks._rows import model_insert  # every other column of the model at its default
sql, make_row = model_insert(StixObject, columns)
now = datetime.now(UTC)
rows = []
total = n + n // 10
for i in range(total):
    sid = f"indicator--{uuid.uuid4()}"
    value = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
    obj = {"type": "indicator", "spec_version": "2.1", "id": sid, "created": t0, "modified": t0,
           "name": f"Malicious address {value}", "indicator_types": ["malicious-activity"],
           "pattern": f"[ipv4-addr:value = '{value}']", "pattern_type": "stix", "valid_from": t0}
    label = hidden if i % 11 == 10 else seen
    rows.append((label, org, now, now, sid, "indicator", "2.1", t0, t0, True, False, "", "", obj["name"],
                 json.dumps(obj, separators=(",", ":"))))
with transaction.atomic(), connection.cursor() as cursor:
    for start in range(0, len(rows), 10_000):
        cursor.executemany(sql, [make_row(*row) for row in rows[start:start + 10_000]])
signed = sign_pending()
if connection.vendor == "postgresql":
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {StixObject._meta.db_table}")
print(json.dumps({"signed": signed, "visible": sum(1 for r in rows if r[0] == seen), "vendor": connection.vendor}))
'''

SETUP_B = r'''
import django
django.setup()
from django.core.management import call_command
from kizuna.directory.services import ensure_reference_data
call_command("migrate", verbosity=0)
ensure_reference_data()
'''

COUNT_B = r'''
import json, django
django.setup()
from django.db.models import Count
from kizuna.threats.models import StixObject
rows = StixObject.objects.count()
distinct = StixObject.objects.values("stix_id", "modified").distinct().count()
print(json.dumps({"rows": rows, "distinct": distinct}))
'''


def run(env: dict[str, str], *argv: str, script: str | None = None, profile: str = "") -> str:
    command = [sys.executable, "-c", script, *argv] if script else [sys.executable, "-m", "kizuna", *argv]
    if profile:
        command = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "kizuna", *argv]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its live children, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:  # fields[1] is the parent pid
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ceilings(url: str, token: str, keys: dict[str, bytes]) -> tuple[float, float, int]:
    """Seconds to fetch and parse every page (no processing), seconds to verify every object (two threads)."""
    from kizuna.federation import signing
    from kizuna.federation.client import EVERYTHING, TaxiiClient

    client = TaxiiClient(url, token, timeout=120)
    objects: list[dict[str, Any]] = []
    start = time.perf_counter()
    token_next = None
    plain = True
    while True:
        page = client.objects(EVERYTHING, next_token=token_next, limit=1000)
        objects.extend(page.objects)
        plain = plain and page.plain
        if not page.more:
            break
        token_next = page.next
    fetch = time.perf_counter() - start
    client.close()
    half = (len(objects) + 1) // 2

    def check(part: list[dict[str, Any]]) -> int:
        return sum(signing.verify_object(o, keys, plain=plain).ok for o in part)

    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        ok = sum(pool.map(check, [objects[:half], objects[half:]]))
    verify = time.perf_counter() - start
    assert ok == len(objects), f"{len(objects) - ok} signatures did not verify"
    return fetch, verify, len(objects)


def main() -> None:
    args = parse()
    print(machine())
    scratch = Path(tempfile.mkdtemp(prefix="kizuna-sync-bench-"))
    envs: dict[str, dict[str, str]] = {}
    for name in ("a", "b"):
        folder = scratch / name
        folder.mkdir()
        env = {**os.environ, "KIZUNA_DATA_DIR": str(folder), "DJANGO_SETTINGS_MODULE": "kizuna.settings",
               "KIZUNA_COOKIE_SECURE": "0", "KIZUNA_NODE_NAME": f"bench node {name}",
               "KIZUNA_NODE_NATION": "" if name == "a" else "JPN"}
        env.pop("KIZUNA_DEV", None)
        if args.database_url:
            env["DATABASE_URL"] = f"{args.database_url}_{name}"
            reset_postgres(env["DATABASE_URL"])
        else:
            env.pop("DATABASE_URL", None)
        envs[name] = env
    a, b = envs["a"], envs["b"]
    start = time.perf_counter()
    info = json.loads(run(a, str(args.objects), T0, script=SETUP_A).strip().splitlines()[-1])
    run(b, script=SETUP_B)
    print(f"{info['visible']:,} objects visible to B and {args.objects // 10:,} not, on node A ({info['vendor']}); "
          f"{info['signed']:,} signed; nodes set up in {time.perf_counter() - start:.1f} s")
    (scratch / "a.json").write_text(run(a, "node", "show", "--json"))
    (scratch / "b.json").write_text(run(b, "node", "show", "--json"))
    token = run(a, "peer", "add", "b", "--from-card", str(scratch / "b.json"), "--nations", "JPN",
                "--clearance", "NATO=RESTRICTED", "--community", "CYBER", "--token").strip().splitlines()[-1]
    (scratch / "token").write_text(token)
    port = free_port()
    url = f"http://127.0.0.1:{port}/taxii2/kizuna/"
    run(b, "peer", "add", "a", "--from-card", str(scratch / "a.json"), "--nations", "NATO", "--url", url,
        "--clearance", "NATO=RESTRICTED",
        "--credential-file", str(scratch / "token"))
    server = start_server(a, port, args.workers, scratch / "server-a.log")
    try:
        card = json.loads((scratch / "a.json").read_text())
        import base64

        keys = {k["key_id"]: base64.b64decode(k["public_key"]) for k in card["keys"]}
        fetch, verify, fetched = ceilings(url, token, keys)
        assert fetched == info["visible"], f"B fetched {fetched}, expected {info['visible']}"
        start = time.perf_counter()
        server_cpu, sync_cpu = tree_cpu(server.pid), children_cpu()
        out = run(b, "sync", "a", profile=str(scratch / "sync.prof") if args.profile else "")
        first = time.perf_counter() - start
        server_cpu, sync_cpu = tree_cpu(server.pid) - server_cpu, children_cpu() - sync_cpu
        if args.profile:
            import pstats

            pstats.Stats(str(scratch / "sync.prof")).sort_stats("cumulative").print_stats(30)
            pstats.Stats(str(scratch / "sync.prof")).sort_stats("tottime").print_stats(25)
        start = time.perf_counter()
        out2 = run(b, "sync", "a")
        second = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=30)
    counts = json.loads(run(b, script=COUNT_B).strip().splitlines()[-1])
    assert counts["rows"] == counts["distinct"] == info["visible"], f"B holds {counts}, expected {info['visible']}"
    received = int(re.search(r"(\d+) received", out).group(1))  # type: ignore[union-attr]
    assert received == info["visible"], out
    assert " 0 received" in out2, out2  # the second sync stores nothing again
    n = info["visible"]
    # The command prints its time to a tenth of a second: at the suite's tiny size that can be "0.0 s". Every time
    # below is at least a millisecond so that a rate is always a number (the suite never reads it as a timing).
    own = max(float(re.search(r"in ([0-9.]+) s \(", out).group(1)), 0.001)  # type: ignore[union-attr]
    first, second, fetch, verify = (max(t, 0.001) for t in (first, second, fetch, verify))
    print(f"  {'sync (B pulls from A: HTTP, verify, labels, store)':<60} {n / own:>9,.0f} obj/s  "
          f"({own:.1f} s for {n:,}, the sync's own time as the command prints it: {out.strip()})")
    print(f"  {'  the same, counting the start-up of the command':<60} {n / first:>9,.0f} obj/s  "
          f"({first:.1f} s)")
    print(f"  {'  CPU: the sync command and its worker processes':<60} {sync_cpu:>9.1f} s; "
          f"node A serving: {server_cpu:.1f} s ({(sync_cpu + server_cpu) / first:.2f} cores busy of "
          f"{os.cpu_count()})")
    print(f"  {'second sync, nothing new (all unchanged)':<60} {n / second:>9,.0f} obj/s  ({second:.1f} s)")
    print(f"  {'ceiling: fetch and parse the same pages, no processing':<60} {n / fetch:>9,.0f} obj/s  "
          f"({fetch:.1f} s)")
    print(f"  {'ceiling: verify every signature, two threads, nothing else':<60} {n / verify:>9,.0f} obj/s  "
          f"({verify:.1f} s)")
    print(f"  B holds {counts['rows']:,} rows, {counts['distinct']:,} distinct (id, modified): none of the "
          f"{args.objects // 10:,} KOR-only objects, nothing twice")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
