"""Benchmark of the label decision at scale (issue 12: "labels by the hundred thousand"). Run by hand (the suite runs
it at a tiny size, untimed):

    .venv/bin/python benchmarks/labels.py [--labels 100000] [--reports 100000] [--objects 100000] [--requests 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kz_labels_bench .venv/bin/python benchmarks/labels.py

Builds a fresh node (SQLite under --data-dir, or the PostgreSQL database of DATABASE_URL, dropped and created) with
N reports and M STIX objects under 30 distinct labels, and measures, for a Belgian user (NATO RESTRICTED), the first
page of ``/api/v1/reports`` and ``/api/v1/stix/objects`` through the whole Django stack in-process (token auth, label
filter, audit, rendering). Then it adds labels until there are --labels distinct ones — each "NATO UNCLASSIFIED REL TO
NATO" plus five member nations, as federation and per-combination releasability make them — spreads the same records
over them, and measures again: the same run's figure with 30 labels is the baseline (the target: under 30 ms p95 and
within 3x of it).

It also measures the alternative the issue names, a per-subject materialised set: the time to decide and store the
subject's visible label ids (``visible_label_ids``) and the bare first-page query joined to that set, beside the bare
query with the decision in SQL (``visible_q``), both on the same database cursor. Exits 0; targets are printed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from taxii_serve import machine as shared_machine
from taxii_serve import reset_postgres


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--labels", type=int, default=100_000)
    p.add_argument("--reports", type=int, default=100_000)
    p.add_argument("--objects", type=int, default=100_000)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--data-dir", default="/tmp/kizuna-bench-labels")  # noqa: S108 - scratch for a hand-run benchmark
    p.add_argument("--seed", type=int, default=4774)
    return p.parse_args()


ARGS = parse()
DB_URL = os.environ.get("DATABASE_URL", "")
DATA_DIR = Path(ARGS.data_dir) / f"{'pg' if DB_URL else 'sqlite'}-l{ARGS.labels}-r{ARGS.reports}-o{ARGS.objects}"
DATA_DIR.mkdir(parents=True, exist_ok=True)
for stale in DATA_DIR.glob("kizuna.sqlite3*"):
    stale.unlink()
os.environ["KIZUNA_DATA_DIR"] = str(DATA_DIR)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
os.environ["KIZUNA_COOKIE_SECURE"] = "0"
os.environ["KIZUNA_ALLOWED_HOSTS"] = "testserver,127.0.0.1"
if DB_URL:
    reset_postgres(DB_URL)

import django  # noqa: E402

django.setup()

from _rows import model_insert  # noqa: E402  (benchmarks/, this script's folder)
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from kizuna.core.access import clear_caches, intern_label, registry, visible_label_ids, visible_q  # noqa: E402, TID251
from kizuna.core.models import LabelRecord, LabelTerm, label_id_for, parse_sound, terms_of  # noqa: E402
from kizuna.directory.models import Nation, Organisation, User  # noqa: E402
from kizuna.directory.services import create_token, ensure_reference_data  # noqa: E402
from kizuna.directory.subjects import subject_for  # noqa: E402
from kizuna.labels import Label  # noqa: E402
from kizuna.labels.decision import display  # noqa: E402
from kizuna.labels.stixid import label_marking_id  # noqa: E402
from kizuna.reports.models import Report  # noqa: E402
from kizuna.threats.models import StixObject  # noqa: E402

MEMBERS = ["ALB", "BEL", "BGR", "CAN", "HRV", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "ISL", "ITA",
           "LVA", "LTU", "LUX", "MNE", "NLD", "MKD", "NOR", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE", "TUR",
           "GBR", "USA"]
PAGE = 50


def machine() -> str:
    db = f"PostgreSQL {connection.pg_version}" if connection.vendor == "postgresql" else "SQLite"
    return f"{shared_machine().removeprefix('machine: ')}; database: {db}"


def labels_rel(count: int, rng: random.Random) -> list[Label]:
    """``count`` distinct labels REL TO NATO plus five members (the first 30 include BEL, so the user sees them)."""
    combos = list(itertools.combinations(MEMBERS, 5))
    rng.shuffle(combos)
    with_bel = [c for c in combos if "BEL" in c]
    rest = [c for c in combos if "BEL" not in c]
    mixed = [c for pair in zip(rest, with_bel[30:], strict=False) for c in pair]
    ordered = with_bel[:30] + mixed + rest[len(with_bel) - 30:]
    return [Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["NATO", *c]}, "AMBER") for c in ordered[:count]]


def add_labels(labels: list[Label]) -> list[int]:
    """Bulk-write label rows and their terms exactly as ``LabelRecord.save`` derives them (the ORM's save per label
    would take most of the build)."""
    rows, terms = [], []
    for label in labels:
        pk = label_id_for(label)
        assert parse_sound(pk, label.key()) == label
        rows.append(LabelRecord(id=pk, key=label.key(), policy=label.policy, classification=label.classification,
                                tlp=label.tlp.value, sound=True, marking=label_marking_id(label),
                                display=display(label, registry())[:1000]))
        terms.extend(terms_of(pk, label))
    with transaction.atomic():
        LabelRecord.objects.bulk_create(rows, batch_size=2000)
        LabelTerm.objects.bulk_create(terms, batch_size=5000)
    return [r.pk for r in rows]


def build(first: list[Label]) -> tuple[User, list[int]]:
    call_command("migrate", verbosity=0, interactive=False)
    ensure_reference_data()
    nations = set(Nation.objects.values_list("code", flat=True))
    missing = [m for m in MEMBERS if m not in nations]
    if missing:
        raise SystemExit(f"reference data lacks NATO members {missing}")
    org = Organisation.objects.get_or_create(code="BEL-MOD", defaults={"name": "Belgian defence", "nation_id": "BEL"})[0]
    user = User.objects.create(username="bench-bel", nation_id="BEL", organisation=org, role="contributor",
                               clearances={"NATO": "RESTRICTED"}, communities=[], password="!")
    few = [intern_label(label).pk for label in first]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    sql, make_row = model_insert(
        Report,
        constant={"summary": "Summary.", "body": "Body.", "kind": "report", "focus_areas": ["cyber"],
                  "status": "active", "author_id": user.pk, "version": 1, "originator_id": org.pk},
        varying=("title", "label_id", "created_at", "updated_at"),
    )
    osql, make_object = model_insert(
        StixObject,
        constant={"type": "indicator", "spec_version": "2.1", "is_current": True, "originator_id": org.pk},
        varying=("stix_id", "label_id", "created_at", "updated_at", "created", "modified", "name", "data"),
    )
    with transaction.atomic(), connection.cursor() as cur:
        rows = []
        for i in range(ARGS.reports):
            at = start + timedelta(seconds=i * 60)
            rows.append(make_row(f"Report {i}", few[i % len(few)], at, at))
        cur.executemany(sql, rows)
        objects = []
        for i in range(ARGS.objects):
            at = start + timedelta(seconds=i * 60)
            stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            sid = f"indicator--{i:08d}-0000-4000-8000-000000000000"
            data = json.dumps({"type": "indicator", "spec_version": "2.1", "id": sid, "created": stamp, "modified": stamp,
                               "pattern": f"[ipv4-addr:value = '10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}']",
                               "pattern_type": "stix", "valid_from": stamp})
            objects.append(make_object(sid, few[i % len(few)], at, at, stamp, stamp, f"10.0.0.{i & 255}", data))
        cur.executemany(osql, objects)
    analyze()
    return user, few


def analyze() -> None:
    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def spread(label_ids: list[int]) -> None:
    """Give every record one of ``label_ids`` (round robin), so the same records sit under many labels."""
    with transaction.atomic(), connection.cursor() as cur:
        for table, count in (("reports_report", ARGS.reports), ("threats_stixobject", ARGS.objects)):
            cur.execute(f"SELECT id FROM {table} ORDER BY id")
            ids = [r[0] for r in cur.fetchall()]
            cur.executemany(f"UPDATE {table} SET label_id = %s WHERE id = %s",
                            [(label_ids[i % len(label_ids)], pk) for i, pk in enumerate(ids)])
            assert len(ids) == count
    analyze()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(fn: Callable[[], object], n: int) -> tuple[float, float]:
    for _ in range(5):
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), percentile(samples, 0.95)


def run_phase(name: str, api: Client, user: User) -> dict[str, tuple[float, float]]:
    clear_caches()
    subject = subject_for(user)

    def get(path: str) -> Callable[[], object]:
        def call() -> object:
            response = api.get(path)
            if response.status_code != 200 or not response.json().get("items"):
                raise SystemExit(f"{path}: {response.status_code} {response.content[:200]!r}")
            return response
        return call

    decided = Report.objects.filter(visible_q(subject)).order_by("-created_at", "-id").values_list("id", "title")
    sql_decided, params_decided = decided[:PAGE].query.sql_with_params()

    def bare_decided() -> None:
        with connection.cursor() as cur:
            cur.execute(sql_decided, params_decided)
            cur.fetchall()

    started = time.perf_counter()
    visible = sorted(visible_label_ids(subject))
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_visible")
        cur.execute("CREATE TABLE bench_visible (label_id bigint PRIMARY KEY)")
        cur.executemany("INSERT INTO bench_visible (label_id) VALUES (%s)", [(i,) for i in visible])
    materialise_ms = (time.perf_counter() - started) * 1000
    analyze()
    sql_set = ("SELECT id, title FROM reports_report r WHERE EXISTS (SELECT 1 FROM bench_visible v WHERE "
               f"v.label_id = r.label_id) ORDER BY created_at DESC, id DESC LIMIT {PAGE}")

    def bare_set() -> None:
        with connection.cursor() as cur:
            cur.execute(sql_set)
            cur.fetchall()

    results = {
        "API GET /api/v1/reports (first page)": measure(get(f"/api/v1/reports?limit={PAGE}"), ARGS.requests),
        "API GET /api/v1/stix/objects (first page)": measure(get(f"/api/v1/stix/objects?limit={PAGE}"), ARGS.requests),
        "bare SQL, decision in SQL (visible_q)": measure(bare_decided, ARGS.requests),
        "bare SQL, materialised per-subject set": measure(bare_set, ARGS.requests),
    }
    print(f"\n{name}: {LabelRecord.objects.count():,} labels, {len(visible):,} visible to {user.username}; "
          f"materialising that set took {materialise_ms:.0f} ms")
    print(f"{'what':48} {'p50 ms':>8} {'p95 ms':>8}")
    for what, (p50, p95) in results.items():
        print(f"{what:48} {p50:8.2f} {p95:8.2f}")
    return results


def main() -> None:
    rng = random.Random(ARGS.seed)
    print(f"machine: {machine()}")
    started = time.perf_counter()
    labels = labels_rel(max(ARGS.labels, 30), rng)
    user, few = build(labels[:30])
    _, token = create_token(user, "bench")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    print(f"built {ARGS.reports:,} reports and {ARGS.objects:,} STIX objects in {time.perf_counter() - started:.0f} s")
    baseline = run_phase("30 labels (baseline)", api, user)
    started = time.perf_counter()
    many = few + add_labels(labels[30:])
    spread(many)
    print(f"\nadded {len(many) - 30:,} labels and spread the records over them in {time.perf_counter() - started:.0f} s")
    scaled = run_phase(f"{len(many):,} labels", api, user)
    print(f"\n{'what':48} {'30 p95':>8} {'many p95':>9} {'ratio':>6}")
    for what, (_, p95) in scaled.items():
        base = baseline[what][1]
        print(f"{what:48} {base:8.2f} {p95:9.2f} {p95 / base:6.2f}")
    print(json.dumps({"labels": len(many), "reports": ARGS.reports, "objects": ARGS.objects,
                      "baseline": baseline, "scaled": scaled, "python": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
