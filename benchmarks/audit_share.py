"""Benchmark of the audit chain's share of a write (issue 12: "the hash-chained audit log must not become the one lock
every write waits for"). Run by hand (the suite runs it at a tiny size, untimed):

    .venv/bin/python benchmarks/audit_share.py [--writers 8] [--seconds 20]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kz_audit_bench .venv/bin/python benchmarks/audit_share.py

Builds a fresh node (SQLite under --data-dir, or the PostgreSQL database of DATABASE_URL, dropped and created) and runs
--writers threads creating reports through the service (``do_create_report``: label, row, STIX form, version, audit
entry in one transaction) for --seconds, three times: as shipped (the entry appended unsealed, with a sealer thread
chaining entries every second as the worker's periodic job does every 5 s), with the entry chained inline under one
lock as before issue 12 closed (each append read the head of the chain; on PostgreSQL under an advisory lock held
to the commit), and with the audit append skipped (the baseline). Prints writes per second and latency for each, and
the audit's share of a write: the time from the start of the append to the commit, against the whole write. Each
mode runs twice, in the order A B C C B A; the figures are the means. Exits 0; the chain is sealed and verified at
the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from taxii_serve import machine as shared_machine
from taxii_serve import reset_postgres


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--writers", type=int, default=8)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--data-dir", default="/tmp/kizuna-bench-audit")  # noqa: S108 - scratch for a hand-run benchmark
    return p.parse_args()


ARGS = parse()
DB_URL = os.environ.get("DATABASE_URL", "")
DATA_DIR = Path(ARGS.data_dir) / ("pg" if DB_URL else "sqlite")
DATA_DIR.mkdir(parents=True, exist_ok=True)
for stale in DATA_DIR.glob("kizuna.sqlite3*"):
    stale.unlink()
os.environ["KIZUNA_DATA_DIR"] = str(DATA_DIR)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
if DB_URL:
    reset_postgres(DB_URL)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from kizuna.core import audit  # noqa: E402
from kizuna.core.models import AuditEntry  # noqa: E402
from kizuna.directory.models import Organisation, User  # noqa: E402
from kizuna.directory.services import ensure_reference_data  # noqa: E402
from kizuna.labels import Label  # noqa: E402
from kizuna.reports.services import ReportInput, do_create_report  # noqa: E402

LABEL = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["NATO", "IP4"]}, "AMBER")


def machine() -> str:
    db = f"PostgreSQL {connection.pg_version}" if connection.vendor == "postgresql" else "SQLite"
    return f"{shared_machine().removeprefix('machine: ')}; database: {db}"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def chained_inline(actor: str, action: str, target_type: str = "", target_ids: Any = (), label_id: int | None = None,
                   address: str = "", detail: dict[str, Any] | None = None) -> AuditEntry:
    """The append as it was before sealing was split from it (commit a9c402c): the next ``seq`` and the link to the
    head computed in the write's transaction, serialised on PostgreSQL by an advisory lock held until the commit. Kept
    here only as the baseline the shipped append is measured against."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [4775])  # not the sealers' key: no mixing
        last = AuditEntry.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "hash").first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, audit.GENESIS)
        entry = AuditEntry(seq=seq, at=timezone.now(), actor=actor[:150], action=action[:40],
                           target_type=target_type[:64], target_ids=",".join(str(t) for t in target_ids),
                           label_id=label_id, address=address[:64], detail=detail or {}, prev_hash=prev)
        entry.hash = audit.entry_hash(entry.content())
        entry.save()
    return entry


SEALER = """
import time, django
django.setup()
from kizuna.core import audit
while True:
    audit.seal()
    time.sleep(1.0)
"""


def start_sealer() -> subprocess.Popen[bytes]:
    """What the worker's periodic job does (every 5 s there, every second here), in a process of its own as the
    worker is: chain what the writers appended."""
    return subprocess.Popen([sys.executable, "-c", SEALER], env=os.environ.copy())


def run(name: str, users: list[User], append: Callable[..., Any], sealing: bool = False) -> dict[str, float]:
    """--writers threads writing reports for --seconds; ``append`` stands in for ``audit.record``; with ``sealing``
    a sealer thread runs beside them."""
    lock = threading.Lock()
    writes: list[float] = []
    audit_spans: list[float] = []
    errors: list[str] = []
    local = threading.local()
    original = audit.record

    def timed_append(*args: Any, **kwargs: Any) -> Any:
        local.audit_start = time.perf_counter()
        return append(*args, **kwargs)

    audit.record = timed_append  # type: ignore[assignment]
    deadline = time.perf_counter() + ARGS.seconds

    def writer(user: User) -> None:
        n = 0
        try:
            while time.perf_counter() < deadline:
                local.audit_start = None
                started = time.perf_counter()
                do_create_report(user, ReportInput(title=f"{name} {user.username} {n}", label=LABEL))
                ended = time.perf_counter()  # after the commit, which releases the chain's lock
                n += 1
                with lock:
                    writes.append(ended - started)
                    if local.audit_start is not None:
                        audit_spans.append(ended - local.audit_start)
        except Exception as exc:
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(u,)) for u in users]
    sealer = start_sealer() if sealing else None
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if sealer is not None:
        sealer.terminate()  # a seal cut short rolls back whole: the next pass does it again
        sealer.wait()
    audit.record = original  # type: ignore[assignment]
    result = {
        "writes/s": len(writes) / elapsed,
        "p50 ms": statistics.median(writes) * 1000 if writes else 0.0,
        "p95 ms": percentile(writes, 0.95) * 1000,
        "audit share": sum(audit_spans) / sum(writes) if audit_spans else 0.0,
        "audit p95 ms": percentile(audit_spans, 0.95) * 1000,
        "errors": float(len(errors)),
    }
    if errors:
        print(f"{name}: {len(errors)} errors, first: {errors[0]}")
    return result


def main() -> None:
    print(f"machine: {machine()}")
    call_command("migrate", verbosity=0, interactive=False)
    ensure_reference_data()
    org = Organisation.objects.get_or_create(code="JPN-MOFA", defaults={"name": "MOFA", "nation_id": "JPN"})[0]
    users = [User.objects.create(username=f"writer-{i}", nation_id="JPN", organisation=org, role="contributor",
                                 clearances={"NATO": "RESTRICTED"}, password="!") for i in range(ARGS.writers)]
    do_create_report(users[0], ReportInput(title="warm-up", label=LABEL))

    def skipped(*args: Any, **kwargs: Any) -> None:
        return None

    modes: dict[str, tuple[Callable[..., Any], bool]] = {
        "as shipped": (audit.record, True),
        "chained inline (before)": (chained_inline, False),
        "audit append skipped": (skipped, False),
    }
    # Each mode twice, in the order A B C C B A, so that a drift in the machine or the tables' growth favours none.
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in modes}
    for name in [*modes, *reversed(modes)]:
        append, sealing = modes[name]
        audit.seal()  # the inline mode continues the chain from its sealed head
        runs[name].append(run(name, users, append, sealing))
    results = {name: {k: statistics.mean(r[k] for r in rs) if k != "errors" else sum(r[k] for r in rs)
                      for k in rs[0]} for name, rs in runs.items()}
    print(f"\n{ARGS.writers} writers, {ARGS.seconds:.0f} s each run, two runs per mode (means)")
    print(f"{'':24} {'writes/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'audit share':>12} {'audit p95 ms':>13} {'errors':>7}")
    for name, r in results.items():
        print(f"{name:24} {r['writes/s']:9.1f} {r['p50 ms']:8.2f} {r['p95 ms']:8.2f} {r['audit share']:12.1%} "
              f"{r['audit p95 ms']:13.2f} {r['errors']:7.0f}")
    for name in ("as shipped", "chained inline (before)"):
        cost = 1 - results[name]["writes/s"] / results["audit append skipped"]["writes/s"]
        print(f"throughput cost of the audit log, {name}: {cost:.1%}")
    started = time.perf_counter()
    sealed = audit.seal()
    print(f"sealing what was left: {sealed} entries in {time.perf_counter() - started:.2f} s")
    problems = audit.verify()
    print(f"audit chain: {'verified' if not problems else problems[:3]}")
    if problems or any(r["errors"] for r in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
