"""Benchmark of the job queue (issue 12). Run by hand (the suite runs it at a tiny size, untimed):

    .venv/bin/python benchmarks/bench_jobs.py [--jobs 10000]
    .venv/bin/python benchmarks/bench_jobs.py --database-url postgres://postgres@127.0.0.1:5432/kz_jobs_bench

A fresh node (a data folder of its own; a SQLite file, or the PostgreSQL database named, dropped and created anew).
Jobs are the no-op ``kizuna.jobs.tasks.noop``: what is measured is the queue itself. Printed:

- enqueue: N jobs enqueued one by one, each in its own transaction (as web requests do), per second; beside it the
  baseline of the same run: the no-op called inline N times;
- latency from enqueue to start (p50, p95) of jobs enqueued one at a time, every 20 ms, while one idle worker polls;
- throughput with 1 and with 2 ``kizuna worker`` processes (``--until-idle``): N jobs from the first start to the
  last finish, as the queue's own timestamps record them;
- crash and resume: 1 worker is killed with SIGKILL halfway through N jobs and a second started at once; the time
  from the kill until every job is done (it includes the lease of the job that was running: KIZUNA_JOB_LEASE_SECONDS,
  5 s here), and the check that every job ran to success exactly once in the queue's records.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from taxii_serve import machine, reset_postgres

ROOT = Path(__file__).resolve().parent.parent
LEASE_SECONDS = 5


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jobs", type=int, default=10_000)
    p.add_argument("--paced", type=int, default=200, help="jobs enqueued one at a time for the latency figure")
    p.add_argument("--database-url", default="", help="PostgreSQL URL of a database to drop and create anew")
    return p.parse_args()


class Node:
    def __init__(self, data_dir: Path, database_url: str) -> None:
        self.data_dir = data_dir
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KIZUNA_DEV")}
        self.env.update(KIZUNA_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="kizuna.settings",
                        KIZUNA_LOG_LEVEL="WARNING", KIZUNA_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
                        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
        if database_url:
            self.env["DATABASE_URL"] = database_url

    def django(self, code: str) -> str:
        done = subprocess.run([sys.executable, "-c", "import django\ndjango.setup()\n" + code], env=self.env,
                              capture_output=True, text=True, cwd=self.data_dir, check=False)
        if done.returncode:
            sys.exit(f"child failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def worker(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "kizuna", "worker", "--no-periodic", "--interval", "0.01",
                                 *args], env=self.env, cwd=self.data_dir, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    def json(self, code: str) -> object:
        return json.loads(self.django(code).strip().splitlines()[-1])


ENQUEUE = """
import json, time
from kizuna.jobs import queue
from kizuna.jobs.tasks import noop
n = {n}
t = time.perf_counter()
for i in range(n):
    noop.call(i)
inline = time.perf_counter() - t
t = time.perf_counter()
for i in range(n):
    queue.enqueue(noop, i)
print(json.dumps({{"inline": inline, "enqueue": time.perf_counter() - t}}))
"""

PACED = """
import json, time
from kizuna.jobs import queue
from kizuna.jobs.tasks import noop
for i in range({n}):
    queue.enqueue(noop, i)
    time.sleep(0.02)
print(json.dumps(None))
"""

SPAN = """
import json
from django.db.models import Count, Max, Min
from django_tasks_db.models import DBTaskResult
rows = DBTaskResult.objects.filter(status="SUCCESSFUL")
agg = rows.aggregate(n=Count("id"), first=Min("started_at"), last=Max("finished_at"))
waits = sorted((s - e).total_seconds() for s, e in rows.values_list("started_at", "enqueued_at"))
print(json.dumps({"n": agg["n"], "seconds": (agg["last"] - agg["first"]).total_seconds() if agg["n"] else 0,
                  "waits": waits, "left": DBTaskResult.objects.exclude(status="SUCCESSFUL").count()}))
"""

CLEAR = "from django_tasks_db.models import DBTaskResult\nDBTaskResult.objects.all().delete()\n"
DONE = "from django_tasks_db.models import DBTaskResult\nprint(DBTaskResult.objects.filter(status='SUCCESSFUL').count())"


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def throughput(node: Node, n: int, workers: int) -> tuple[float, float]:
    node.django(CLEAR + ENQUEUE.format(n=n))
    started = time.perf_counter()
    procs = [node.worker("--until-idle") for _ in range(workers)]
    for p in procs:
        p.wait()
    wall = time.perf_counter() - started
    span = node.json(SPAN)
    assert isinstance(span, dict) and span["n"] == n and span["left"] == 0, span
    return n / span["seconds"], n / wall


def main() -> None:
    args = parse()
    n = args.jobs
    tmp = Path(tempfile.mkdtemp(prefix="kizuna-bench-jobs-"))
    try:
        if args.database_url:
            reset_postgres(args.database_url)
        node = Node(tmp, args.database_url)
        subprocess.run([sys.executable, "-m", "kizuna", "migrate", "--noinput", "-v0"], env=node.env, cwd=tmp,
                       check=True)
        vendor = "postgresql" if args.database_url else "sqlite"
        print(machine())
        print(f"{n:,} no-op jobs, queue on {vendor}; lease {LEASE_SECONDS} s")

        timing = node.json(ENQUEUE.format(n=n))
        assert isinstance(timing, dict)
        print(f"  enqueue, one transaction per job:      {n / timing['enqueue']:>10,.0f} jobs/s")
        print(f"  baseline: the no-op called inline:      {n / timing['inline']:>10,.0f} calls/s")

        node.django(CLEAR)
        idle = node.worker()
        time.sleep(3)  # started and polling
        node.django(PACED.format(n=args.paced))
        while int(node.django(DONE).strip()) < args.paced:
            time.sleep(0.2)
        idle.send_signal(signal.SIGTERM)
        idle.wait(10)
        span = node.json(SPAN)
        assert isinstance(span, dict)
        waits = span["waits"]
        print(f"  enqueue to start, 1 idle worker:        p50 {1000 * pct(waits, 0.5):.1f} ms, "
              f"p95 {1000 * pct(waits, 0.95):.1f} ms ({args.paced} jobs, one every 20 ms; poll interval 10 ms)")

        for workers in (1, 2):
            rate, wall_rate = throughput(node, n, workers)
            print(f"  throughput, {workers} worker(s):                 {rate:>10,.0f} jobs/s "
                  f"({wall_rate:,.0f} jobs/s counting the workers' start-up)")

        node.django(CLEAR + ENQUEUE.format(n=n))
        first = node.worker()
        while int(node.django(DONE).strip()) < n // 2:
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        killed = time.perf_counter()
        first.wait()
        second = node.worker("--until-idle")
        second.wait()
        while True:  # the job that was running when the worker died waits for its lease: --until-idle may end first
            span = node.json(SPAN)
            assert isinstance(span, dict)
            if span["left"] == 0:
                break
            resumed = node.worker("--until-idle")
            resumed.wait()
        finish = time.perf_counter() - killed
        assert span["n"] == n, span
        print(f"  crash and resume: SIGKILL halfway, all {n:,} done {finish:.1f} s after the kill "
              f"(lease {LEASE_SECONDS} s); {span['n']:,} successful, none lost")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if args.database_url:
            import psycopg

            name = args.database_url.rsplit("/", 1)[1]
            with psycopg.connect(args.database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
