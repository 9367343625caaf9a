"""Benchmark of interactive load beside a large import (issue 12). Run by hand (the suite runs it at a tiny size,
untimed):

    .venv/bin/python benchmarks/bench_load.py [--seconds 60] [--writers 16] [--readers 8] [--import-mb 200]
    .venv/bin/python benchmarks/bench_load.py --database-url postgres://postgres@127.0.0.1:5432/kz_load_bench

A fresh node (SQLite under a scratch folder, or the PostgreSQL database named by --database-url, dropped and created
anew: give it a database of its own) served by ``kizuna serve`` on a free 127.0.0.1 port. Clients in this process,
each on its own keep-alive HTTP connection with an API token of its own: writers create reports
(``POST /api/v1/reports``), readers read the first page of ``/api/v1/reports`` and of ``/api/v1/stix/objects`` in
turn. Two phases, printed side by side:

1. the clients alone for --seconds (the baseline, measured in the same run on the same node);
2. the same clients while ``kizuna stix import`` (a separate process, as an operator runs it) imports a generated
   bundle of --import-mb MB of indicators, from its start to its end.

For each phase: writes per second, p50/p95/max latency of each kind of request, and errors (any status but the
expected one, or a failed connection: there must be none). The issue's target: interactive p95 under 1 s beside
the import. --code names the checkout that serves and imports (default: this one), so the same benchmark can measure
an older commit on the same machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from taxii_serve import free_port, machine, reset_postgres, start_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._bundle import BYTES_PER_INDICATOR, write_bundle  # noqa: E402

LABEL = {"policy": "NATO", "classification": "UNCLASSIFIED", "categories": {"releasable_to": ["NATO", "IP4"],
         "communities": ["CYBER"]}, "tlp": "GREEN", "recipients": []}


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=60, help="length of the phase without an import")
    p.add_argument("--writers", type=int, default=16)
    p.add_argument("--readers", type=int, default=8)
    p.add_argument("--import-mb", type=float, default=200, help="size of the generated bundle")
    p.add_argument("--workers", type=int, default=2, help="kizuna serve workers (its default)")
    p.add_argument("--database-url", default="", help="PostgreSQL URL of a database of the benchmark's own")
    p.add_argument("--data-dir", default="/tmp/kizuna-bench-load")  # noqa: S108 - scratch folder, run by hand
    p.add_argument("--code", default=str(ROOT), help="the checkout that serves and imports (default: this one)")
    return p.parse_args()


# The node is set up by a child process (Django configured for that node), which prints the clients' tokens.
SETUP = r'''
import json, sys
import django
django.setup()
from django.core.management import call_command
from kizuna.directory.services import create_token, create_user, ensure_reference_data

call_command("migrate", verbosity=0)
ensure_reference_data()
user = create_user(username="analyst", nation="JPN", organisation="JPN-MOD", clearances={"NATO": "RESTRICTED"},
                   communities=["CYBER"], role="contributor", password="bench password 4774")
print(json.dumps([create_token(user, f"client {i}")[1] for i in range(int(sys.argv[1]))]))
'''


@dataclass
class Kind:
    """One kind of request: its latencies (seconds) and errors."""

    name: str
    times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def line(self, seconds: float) -> str:
        t = sorted(self.times)
        if not t:
            return f"{self.name:<32} no requests; errors {len(self.errors)}"
        p50, p95 = t[len(t) // 2], t[min(len(t) - 1, int(len(t) * 0.95))]
        return (f"{self.name:<32} {len(t) / seconds:7.1f}/s  p50 {p50 * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  "
                f"max {t[-1] * 1000:7.1f} ms  errors {len(self.errors)}")

    def p95(self) -> float:
        t = sorted(self.times)
        return t[min(len(t) - 1, int(len(t) * 0.95))] if t else 0.0


class Client(threading.Thread):
    """One client on one keep-alive connection: a writer (creates reports) or a reader (two first pages in turn)."""

    def __init__(self, port: int, token: str, number: int, writer: bool, kinds: dict[str, Kind],
                 stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.token, self.number, self.writer, self.kinds, self.stop = port, token, number, writer, kinds, stop

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        n = 0
        while not self.stop.is_set():
            n += 1
            if self.writer:
                kind, method, path, expected = "write: POST /api/v1/reports", "POST", "/api/v1/reports", 201
                body: bytes | None = json.dumps({"title": f"Load report {self.number}-{n}", "label": LABEL,
                                                 "summary": "Written by benchmarks/bench_load.py"}).encode()
            else:
                kind, method, expected, body = "", "GET", 200, None
                path = "/api/v1/reports" if n % 2 else "/api/v1/stix/objects"
                kind = f"read: GET {path}"
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                elapsed = time.perf_counter() - start
                if response.status != expected:
                    self.kinds[kind].errors.append(f"HTTP {response.status}: {data[:200]!r}")
                else:
                    self.kinds[kind].times.append(elapsed)
            except (OSError, http.client.HTTPException) as exc:
                self.kinds[kind].errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.close()


def run_clients(port: int, tokens: list[str], writers: int, readers: int, until: threading.Event,
                seconds: float | None) -> tuple[dict[str, Kind], float]:
    """Run the clients until ``seconds`` have passed or ``until`` is set; the kinds and the seconds it took."""
    kinds = {name: Kind(name) for name in ("write: POST /api/v1/reports", "read: GET /api/v1/reports",
                                           "read: GET /api/v1/stix/objects")}
    stop = threading.Event()
    clients = [Client(port, tokens[i], i, i < writers, kinds, stop) for i in range(writers + readers)]
    start = time.perf_counter()
    for client in clients:
        client.start()
    until.wait(seconds)
    stop.set()
    for client in clients:
        client.join()
    return kinds, time.perf_counter() - start


def report(title: str, kinds: dict[str, Kind], seconds: float) -> float:
    """Print a phase; its worst interactive p95."""
    print(f"{title} ({seconds:.1f} s):")
    for kind in kinds.values():
        print("  " + kind.line(seconds))
    return max(kind.p95() for kind in kinds.values())


def main() -> None:
    args = parse()
    data = Path(args.data_dir)
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KIZUNA_DEV")}
    env.update(KIZUNA_DATA_DIR=str(data), DJANGO_SETTINGS_MODULE="kizuna.settings", KIZUNA_LOG_LEVEL="WARNING",
               PYTHONPATH=os.pathsep.join(p for p in (args.code, os.environ.get("PYTHONPATH", "")) if p))
    if args.database_url:
        reset_postgres(args.database_url)
        env["DATABASE_URL"] = args.database_url
    clients = args.writers + args.readers
    done = subprocess.run([sys.executable, "-c", SETUP, str(clients)], env=env, cwd=args.code, check=True,
                          stdout=subprocess.PIPE, text=True)
    tokens: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    bundle = data / "bundle.json"
    n = max(1, int(args.import_mb * 1e6 / BYTES_PER_INDICATOR))
    size = write_bundle(bundle, n)
    vendor = "postgresql" if args.database_url else "sqlite"
    print(machine())
    print(f"node: {vendor}; kizuna serve, {args.workers} workers; code: {args.code}; clients: {args.writers} writers "
          f"(POST /api/v1/reports), {args.readers} readers (first pages of /api/v1/reports and /api/v1/stix/objects)")
    print(f"bundle: {n:,} indicators, {size / 1e6:.1f} MB")
    port = free_port()
    server = start_server(env, port, args.workers, data / "serve.log", code=args.code)
    try:
        run_clients(port, tokens, args.writers, args.readers, threading.Event(), min(2.0, args.seconds))  # warm up
        kinds, seconds = run_clients(port, tokens, args.writers, args.readers, threading.Event(), args.seconds)
        alone = report("clients alone (baseline)", kinds, seconds)

        finished = threading.Event()
        result: dict[str, object] = {}

        def run_import() -> None:
            start = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-m", "kizuna", "stix", "import", str(bundle), "--user", "analyst",
                 "--releasable-to", "NATO,IP4", "--community", "CYBER", "--no-progress"],
                env=env, cwd=args.code, capture_output=True, text=True)
            result.update(seconds=time.perf_counter() - start, out=out.stdout + out.stderr, code=out.returncode)
            finished.set()

        importer = threading.Thread(target=run_import, daemon=True)
        importer.start()
        kinds, seconds = run_clients(port, tokens, args.writers, args.readers, finished, None)
        importer.join()
        beside = report("the same clients beside the import", kinds, seconds)
    finally:
        server.terminate()
        server.wait(30)
    out = str(result["out"])
    if result["code"] != 0:
        raise SystemExit(f"the import failed:\n{out[-2000:]}")
    lines = [line.strip() for line in out.splitlines()]
    accepted = next((line for line in lines if line.startswith("accepted:")), "accepted: ?")
    slices = next((line for line in lines if line.startswith("write transactions:")), "write transactions: not shown")
    import_seconds = float(str(result["seconds"]))
    print(f"import beside the clients: {import_seconds:.1f} s, {n / import_seconds:,.0f} objects/s ({accepted}; "
          f"{slices})")
    print(f"interactive p95, worst kind: {alone * 1000:.1f} ms alone, {beside * 1000:.1f} ms beside the import "
          f"(target: under 1,000 ms) -> {'met' if beside < 1.0 else 'MISSED'}")
    errors = sum(len(k.errors) for k in kinds.values())
    print(f"errors beside the import: {errors}" + (f" (first: {next(e for k in kinds.values() for e in k.errors)})"
                                                    if errors else ""))
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
    sys.exit(0)
