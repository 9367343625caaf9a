"""Benchmark of the report list and detail at scale (issue: the spine). Run by hand (the suite runs it at a tiny
size, untimed):

    .venv/bin/python benchmarks/reports.py [--reports 1000000] [--users 1000] [--labels 600] [--requests 300]

Builds (once, cached under --data-dir) a SQLite node with N reports under random labels and M users, picks a user
who may see about 10% of the reports, and prints p50/p95 for the first page of the report list (REST API and web
page) and for a detail view (both), beside the bare SQL query that selects that page, measured in the same run.
Requests go through the whole Django stack in-process (middleware, auth, label filter, audit write, rendering).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reports", type=int, default=1_000_000)
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--labels", type=int, default=600)
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--target", type=float, default=0.10, help="share of reports the measured user may see")
    p.add_argument("--data-dir", default="/tmp/kizuna-bench")  # noqa: S108 - a scratch folder for a hand-run benchmark
    p.add_argument("--seed", type=int, default=4774)
    return p.parse_args()


ARGS = parse()
DATA_DIR = Path(ARGS.data_dir) / f"r{ARGS.reports}-u{ARGS.users}-l{ARGS.labels}"
DATA_DIR.mkdir(parents=True, exist_ok=True)
os.environ["KIZUNA_DATA_DIR"] = str(DATA_DIR)
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
os.environ["KIZUNA_COOKIE_SECURE"] = "0"
os.environ["KIZUNA_ALLOWED_HOSTS"] = "testserver,127.0.0.1"

import django  # noqa: E402

django.setup()

from _rows import model_insert  # noqa: E402  (benchmarks/, this script's folder)
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from kizuna.core.access import clear_caches, intern_label, visible_label_ids  # noqa: E402, TID251
from kizuna.directory.models import Nation, Organisation, User  # noqa: E402
from kizuna.directory.services import create_token, ensure_reference_data  # noqa: E402
from kizuna.directory.subjects import subject_for  # noqa: E402
from kizuna.labels import Label  # noqa: E402
from kizuna.reports.models import Report  # noqa: E402

COMMUNITIES = ["CYBER", "MARITIME", "HADR", "SPACE", "EDT", "DISINFO", "INDUSTRY"]
TLPS = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def random_label(rng: random.Random, nations: list[str]) -> Label:
    rel = set(rng.sample(nations, rng.choice([1, 1, 1, 2, 3])))
    if rng.random() < 0.15:
        rel.add(rng.choice(["NATO", "IP4"]))
    cats: dict[str, list[str]] = {"releasable_to": sorted(rel)}
    if rng.random() < 0.5:
        cats["communities"] = rng.sample(COMMUNITIES, rng.choice([1, 1, 2]))
    return Label.build("NATO", rng.choice(["UNCLASSIFIED", "UNCLASSIFIED", "RESTRICTED"]), cats, rng.choice(TLPS), [])


def build() -> None:
    rng = random.Random(ARGS.seed)
    call_command("migrate", verbosity=0, interactive=False)
    built = DATA_DIR / "built"  # written once the whole node is in place
    if built.exists():
        return
    if User.objects.filter(username="bench-0").exists():
        if Report.objects.count() == ARGS.reports:  # built completely by a version that wrote no mark
            built.write_text(datetime.now(UTC).isoformat())
            return
        raise SystemExit(f"{DATA_DIR} holds a benchmark node whose build did not finish: remove that folder and "
                         f"run again")
    print(f"building {ARGS.reports:,} reports, {ARGS.users:,} users, {ARGS.labels} labels in {DATA_DIR} ...", flush=True)
    started = time.perf_counter()
    ensure_reference_data()
    nations = list(Nation.objects.values_list("code", flat=True))
    orgs = {
        code: Organisation.objects.get_or_create(
            code=f"{code}-GOV", defaults={"name": f"{code} government", "nation_id": code}
        )[0]
        for code in nations
    }
    label_ids = []
    seen: set[str] = set()
    while len(label_ids) < ARGS.labels:
        label = random_label(rng, nations)
        if label.key() not in seen:
            seen.add(label.key())
            label_ids.append(intern_label(label).pk)
    users = []
    for i in range(ARGS.users):
        nation = rng.choice(nations)
        users.append(User(
            username=f"bench-{i}", nation_id=nation, organisation=orgs[nation], role="contributor",
            clearances={"NATO": rng.choice(["UNCLASSIFIED", "RESTRICTED"])},
            communities=rng.sample(COMMUNITIES, rng.randint(0, 4)), password="!",
        ))
    User.objects.bulk_create(users)
    author_id = User.objects.get(username="bench-0").pk
    org_ids = [o.pk for o in orgs.values()]
    # Label popularity follows a long tail, as real sharing does.
    weights = [1.0 / (1 + i) ** 0.6 for i in range(len(label_ids))]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    # Raw SQL (a million rows through the ORM would take most of the build), made from the model's fields.
    sql, make_row = model_insert(
        Report,
        constant={"summary": "Summary of the observations.", "body": "Body text in *Markdown*.", "kind": "report",
                  "focus_areas": ["cyber"], "status": "active", "author_id": author_id, "version": 1},
        varying=("title", "label_id", "originator_id", "created_at", "updated_at"),
    )
    with transaction.atomic(), connection.cursor() as cur:
        batch = []
        for i in range(ARGS.reports):
            created = start + timedelta(seconds=i * 60 + rng.randint(0, 59))
            batch.append(make_row(f"Report {i}: observations and assessment", rng.choices(label_ids, weights)[0],
                                  rng.choice(org_ids), created, created))
            if len(batch) == 20000:
                cur.executemany(sql, batch)
                batch.clear()
        if batch:
            cur.executemany(sql, batch)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    built.write_text(datetime.now(UTC).isoformat())
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)


def pick_user() -> tuple[User, frozenset[int]]:
    """The user whose visible share of reports is closest to the target (about 10%)."""
    with connection.cursor() as cur:
        cur.execute("SELECT label_id, COUNT(*) FROM reports_report GROUP BY label_id")
        per_label = dict(cur.fetchall())
    total = sum(per_label.values())
    best: tuple[float, User, frozenset[int]] | None = None
    for user in User.objects.filter(username__startswith="bench-").select_related("organisation"):
        ids = visible_label_ids(subject_for(user))
        share = sum(per_label.get(i, 0) for i in ids) / total
        if best is None or abs(share - ARGS.target) < abs(best[0] - ARGS.target):
            best = (share, user, ids)
    assert best is not None
    print(f"measured user {best[1].username} ({best[1].nation_id}) may see {best[0]:.1%} of {total:,} reports "
          f"through {len(best[2])} of {len(per_label)} labels")
    return best[1], best[2]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(name: str, fn, n: int) -> tuple[str, float, float]:  # type: ignore[no-untyped-def]
    for _ in range(5):
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return name, statistics.median(samples), percentile(samples, 0.95)


def main() -> None:
    build()
    clear_caches()
    user, ids = pick_user()
    _, token = create_token(user, "bench")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    web = Client()
    web.force_login(user)
    first = api.get("/api/v1/reports?limit=25")
    assert first.status_code == 200, first.content[:300]
    page = first.json()["items"]
    assert len(page) == 25
    detail_id = page[3]["id"]
    assert web.get("/reports/").status_code == 200
    db_path = settings.DATABASES["default"]["NAME"]
    bare = sqlite3.connect(db_path)
    placeholders = ",".join("?" * len(ids))
    sql = (f"SELECT id, title, summary, kind, focus_areas, status, label_id, originator_id, created_at FROM reports_report "
           f"WHERE status = 'active' AND label_id IN ({placeholders}) ORDER BY created_at DESC, id DESC LIMIT 26")
    params = sorted(ids)

    def bare_query() -> None:
        bare.execute(sql, params).fetchall()

    def check(response) -> None:  # type: ignore[no-untyped-def]
        if response.status_code != 200:
            raise SystemExit(f"unexpected {response.status_code}: {response.content[:200]!r}")

    rss_before = rss_mb()
    results = [
        measure("bare SQL: first page (sqlite3)", bare_query, ARGS.requests),
        measure("API  GET /api/v1/reports (first page)", lambda: check(api.get("/api/v1/reports?limit=25")), ARGS.requests),
        measure("web  GET /reports/ (first page)", lambda: check(web.get("/reports/")), ARGS.requests),
        measure(f"API  GET /api/v1/reports/{detail_id}", lambda: check(api.get(f"/api/v1/reports/{detail_id}")), ARGS.requests),
        measure(f"web  GET /reports/{detail_id}/", lambda: check(web.get(f"/reports/{detail_id}/")), ARGS.requests),
    ]
    print(f"\n{'what':45} {'p50 ms':>8} {'p95 ms':>8}")
    for name, p50, p95 in results:
        print(f"{name:45} {p50:8.2f} {p95:8.2f}")
    print(f"\nmax RSS: {rss_before:.0f} MB before the timed requests, {rss_mb():.0f} MB after "
          f"({ARGS.reports:,} reports; {5 * ARGS.requests} requests)")
    print(json.dumps({"reports": ARGS.reports, "results": {n: [round(a, 2), round(b, 2)] for n, a, b in results},
                      "python": sys.version.split()[0], "cores": os.cpu_count()}))


if __name__ == "__main__":
    main()
