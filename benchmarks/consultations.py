"""Benchmark of the consultation calendar, "my actions" and the scheduling assistant (issue 5). Run by hand (the
suite runs it at a tiny size, untimed):

    .venv/bin/python benchmarks/consultations.py [--meetings 10000] [--actions 100000] [--requests 50]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kz_consult_bench .venv/bin/python benchmarks/consultations.py

Builds (once, cached: a SQLite file under --data-dir, or the PostgreSQL database of DATABASE_URL) a node with N
meetings under labels of several kinds across the nations, spread over two years, most in series, and M actions of
which a realistic share is owned by the measured user (JPN) and by their organisation, all with bulk_create. Then
prints p50/p95 of: the bare SQL of each query (a database cursor, no ORM), the query functions of
``kizuna.consultations.queries``, the web pages (calendar month view, my actions) and the API equivalents through
Django's test client in-process (middleware, auth, label filter, rendering) — each page only once it exists — and
the scheduling assistant ranking a 4-week range for 8 nations; and the measured user's inbox (``kizuna.notifications``:
the unread count of the navigation badge and the inbox of 100), over 1,550 consultation notices given to them once
(1,000 unread, 500 read, 50 about meetings they may not see). Exits 0; the targets are printed, not enforced.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--meetings", type=int, default=10_000)
    p.add_argument("--actions", type=int, default=100_000)
    p.add_argument("--requests", type=int, default=50)
    p.add_argument("--data-dir", default="/tmp/kizuna-bench-consultations")  # noqa: S108 - scratch for a hand-run benchmark
    p.add_argument("--seed", type=int, default=505)
    return p.parse_args()


ARGS = parse()
DB_URL = os.environ.get("DATABASE_URL", "")
DATA_DIR = Path(ARGS.data_dir) / f"{'pg' if DB_URL else 'sqlite'}-m{ARGS.meetings}-a{ARGS.actions}-v2"
DATA_DIR.mkdir(parents=True, exist_ok=True)
os.environ["KIZUNA_DATA_DIR"] = str(DATA_DIR)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
os.environ["KIZUNA_COOKIE_SECURE"] = "0"
os.environ["KIZUNA_ALLOWED_HOSTS"] = "testserver,127.0.0.1"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402

from kizuna.consultations import queries, timezones  # noqa: E402
from kizuna.consultations.models import ActionItem, ActionStatus, Meeting, MeetingMode, MeetingStatus, Series  # noqa: E402
from kizuna.core.access import clear_caches, intern_label, visible_label_ids, visible_labels  # noqa: E402, TID251
from kizuna.directory.models import Nation, Organisation, User  # noqa: E402
from kizuna.directory.services import create_token, ensure_reference_data  # noqa: E402
from kizuna.directory.subjects import subject_for  # noqa: E402
from kizuna.labels import Label  # noqa: E402
from kizuna.notifications import queries as inbox_queries  # noqa: E402
from kizuna.notifications.models import Notification  # noqa: E402

BENCH_USER = "bench-me"
BENCH_ORG = "JPN-MOFA"
COMMUNITIES = ["CYBER", "MARITIME", "HADR", "SPACE", "EDT", "DISINFO"]
SCHEDULER_NATIONS = ["BEL", "USA", "GBR", "DEU", "JPN", "KOR", "AUS", "NZL"]
ZONES = ["Europe/Brussels", "Asia/Tokyo", "Asia/Seoul", "Australia/Canberra", "Pacific/Auckland", "America/New_York"]
SPAN_START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN_DAYS = 730
TODAY = date(2026, 1, 15)  # "today" of the overdue and the pages' data: in the middle of the span
INBOX = 100  # entries of the measured inbox
STAMP = "%Y-%m-%dT%H:%M:%SZ"  # UTC in a query string (a "+00:00" offset would arrive as a space)


def labels(rng: random.Random, nations: list[str]) -> list[Label]:
    """Labels of the kinds consultations carry: group-wide (NATO+IP4, IP4), bilateral (a NATO nation with a partner),
    national, with and without a community, both classifications, TLP levels."""
    partners = ["JPN", "KOR", "AUS", "NZL"]
    out: dict[str, Label] = {}
    kinds: list[list[str]] = [["NATO", "IP4"], ["IP4"], ["NATO"]]
    kinds += [[p, "NATO"] for p in partners]
    kinds += [[n, p] for p in partners for n in rng.sample([x for x in nations if x not in partners], 6)]
    kinds += [[n] for n in nations]
    for rel in kinds:
        for communities in ([], [rng.choice(COMMUNITIES)]):
            for classification in ("UNCLASSIFIED", "RESTRICTED"):
                cats: dict[str, list[str]] = {"releasable_to": sorted(rel)}
                if communities:
                    cats["communities"] = communities
                label = Label.build("NATO", classification, cats, rng.choice(["GREEN", "AMBER"]), [])
                out[label.key()] = label
    return list(out.values())


def build() -> None:
    call_command("migrate", verbosity=0, interactive=False)
    if User.objects.filter(username=BENCH_USER).exists():
        return
    rng = random.Random(ARGS.seed)
    print(f"building {ARGS.meetings:,} meetings, {ARGS.actions:,} actions in {DB_URL or DATA_DIR} ...", flush=True)
    started = time.perf_counter()
    ensure_reference_data()
    nations = list(Nation.objects.values_list("code", flat=True))
    orgs = {code: Organisation.objects.get_or_create(code=f"{code}-GOV", defaults={
        "name": f"{code} government", "nation_id": code})[0] for code in nations}
    mine = Organisation.objects.get_or_create(code=BENCH_ORG, defaults={"name": "JPN foreign ministry",
                                                                         "nation_id": "JPN"})[0]
    label_pool = labels(rng, nations)
    label_ids = [intern_label(label).pk for label in label_pool]
    users = [User(username=BENCH_USER, nation_id="JPN", organisation=mine, role="contributor",
                  clearances={"NATO": "RESTRICTED"}, communities=COMMUNITIES[:4], password="!")]
    for i in range(300):
        nation = rng.choice(nations)
        users.append(User(username=f"bench-{i}", nation_id=nation, organisation=orgs[nation], role="contributor",
                          clearances={"NATO": "RESTRICTED"}, communities=rng.sample(COMMUNITIES, 3), password="!"))
    for i in range(20):  # colleagues in the measured user's organisation
        users.append(User(username=f"bench-jpn-{i}", nation_id="JPN", organisation=mine, role="contributor",
                          clearances={"NATO": "RESTRICTED"}, communities=COMMUNITIES[:4], password="!"))
    User.objects.bulk_create(users)
    me = User.objects.get(username=BENCH_USER)
    # The measured user sees some of the labels only: which ones decides who owns what below.
    mine_visible = visible_labels(subject_for(me))
    my_labels = [i for i in label_ids if i in mine_visible]
    user_ids = list(User.objects.values_list("pk", flat=True))
    org_ids = [o.pk for o in orgs.values()]
    creator = User.objects.get(username="bench-0")
    with transaction.atomic():
        series = Series.objects.bulk_create([
            Series(title=f"Dialogue {i}", nations=sorted(rng.sample(nations, 4)), rrule="FREQ=MONTHLY;BYDAY=2TU",
                   time_zone=rng.choice(ZONES), created_by=creator, label_id=rng.choice(label_ids),
                   originator_id=rng.choice(org_ids))
            for i in range(60)])
        meetings = []
        for i in range(ARGS.meetings):
            start = SPAN_START + timedelta(days=rng.uniform(0, SPAN_DAYS))
            start = start.replace(minute=rng.choice([0, 30]), second=0, microsecond=0)
            length = (timedelta(days=rng.randint(1, 4)) if rng.random() < 0.03
                      else timedelta(minutes=rng.choice([60, 90, 120, 180])))
            in_series = rng.random() < 0.7
            s = rng.choice(series) if in_series else None
            meetings.append(Meeting(
                series=s, title=f"Consultation {i}", start=start, end=start + length, time_zone=rng.choice(ZONES),
                mode=rng.choice(MeetingMode.values), link="https://meet.example.org/x",
                status=MeetingStatus.CANCELLED if rng.random() < 0.05 else MeetingStatus.SCHEDULED,
                uid=f"{uuid.uuid4()}@bench", created_by=creator, originator_id=rng.choice(org_ids),
                label_id=s.label_id if s is not None and rng.random() < 0.8 else rng.choice(label_ids)))
        Meeting.objects.bulk_create(meetings, batch_size=2000)
        meeting_rows = list(Meeting.objects.values_list("pk", "series_id", "label_id", "start"))
        statuses = [ActionStatus.OPEN] * 3 + [ActionStatus.IN_PROGRESS] + [ActionStatus.DONE] * 5 + [ActionStatus.DROPPED]
        batch: list[ActionItem] = []
        for i in range(ARGS.actions):
            pk, series_id, label_id, start = rng.choice(meeting_rows)
            due = None if rng.random() < 0.1 else (start + timedelta(days=rng.randint(7, 90))).date()
            roll = rng.random()
            owner_user, owner_org = None, None
            if roll < 0.01:  # 1%: the measured user's own (about 1,000)
                owner_user, label_id = me.pk, rng.choice(my_labels)
            elif roll < 0.04:  # 3%: their organisation's (about 3,000), mostly under labels its members may see
                owner_org = mine.pk
                if rng.random() < 0.9:
                    label_id = rng.choice(my_labels)
            elif roll < 0.6:
                owner_user = rng.choice(user_ids)
            else:
                owner_org = rng.choice(org_ids)
            batch.append(ActionItem(
                meeting_id=pk, series_id=series_id, title=f"Action {i}", owner_user_id=owner_user,
                owner_organisation_id=owner_org, due=due, status=rng.choice(statuses), label_id=label_id,
                originator_id=rng.choice(org_ids)))
            if len(batch) == 5000:
                ActionItem.objects.bulk_create(batch)
                batch.clear()
        ActionItem.objects.bulk_create(batch)
    # No ANALYZE: a node's database has no statistics unless someone runs it, and the plans must not need them.
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(name: str, fn: Callable[[int], Any], n: int) -> tuple[str, float, float, float, float]:
    """Wall-clock p50/p95 and CPU p50/p95 of this process (the CPU figures move less with other work on the machine;
    they leave out time spent waiting for the PostgreSQL server)."""
    for i in range(3):
        fn(i)
    wall, cpu = [], []
    for i in range(n):
        t, c = time.perf_counter(), time.process_time()
        fn(i)
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - t) * 1000)
    return name, statistics.median(wall), percentile(wall, 0.95), statistics.median(cpu), percentile(cpu, 0.95)


def routed(path: str) -> bool:
    """Whether a page exists yet (other helpers build the pages and the API while this benchmark is written)."""
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return bool(match)


def main() -> None:
    build()
    clear_caches()
    me = User.objects.select_related("organisation").get(username=BENCH_USER)
    subject = subject_for(me)
    ids = sorted(visible_label_ids(subject))
    months = [date(2025 + (m // 12), m % 12 + 1, 1) for m in range(2, 22)]  # 20 months inside the span

    def month_grid(i: int) -> tuple[datetime, datetime]:
        """The six weeks a month view shows: from the Monday on or before the 1st."""
        first = months[i % len(months)]
        monday = first - timedelta(days=first.weekday())
        start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
        return start, start + timedelta(days=42)

    total_m = Meeting.objects.count()
    total_a = ActionItem.objects.count()
    visible_m = Meeting.objects.visible_to(subject).count()
    sample = queries.calendar_range(subject, *month_grid(0))
    owned = ActionItem.objects.visible_to(subject).filter(owner_user=me).count()
    org_owned = ActionItem.objects.visible_to(subject).filter(owner_organisation_id=me.organisation_id).count()
    open_page = queries.my_actions(me, today=TODAY, limit=50)
    print(f"{connection.vendor}: {total_m:,} meetings ({visible_m:,} visible to {me.username}, {len(ids)} visible "
          f"labels; a six-week grid holds about {len(sample)}), {total_a:,} actions ({owned:,} own and {org_owned:,} of "
          f"the organisation visible; first open page {len(open_page.items)})")

    # The bare SQL: what the query functions ask, by a database cursor without the ORM.
    marks = ",".join(["%s"] * len(ids))
    cal_sql = (f"SELECT m.id, m.title, m.start, m.\"end\", m.status, s.title, l.display FROM consultations_meeting m "
               f"LEFT JOIN consultations_series s ON s.id = m.series_id JOIN kizuna_label l ON l.id = m.label_id "
               f"WHERE m.label_id IN ({marks}) AND m.start >= %s AND m.start < %s AND m.\"end\" > %s "
               f"ORDER BY m.start, m.id")
    act_sql = (f"SELECT id, due FROM consultations_actionitem WHERE label_id IN ({marks}) AND {{owner}} = %s "
               f"AND status IN ('open', 'in_progress') AND due IS NOT NULL ORDER BY due, id LIMIT 51")
    raw = connection.cursor()

    def bare_calendar(i: int) -> None:
        start, end = month_grid(i)
        raw.execute(cal_sql, [*ids, start - queries.LOOKBACK, end, start])
        raw.fetchall()

    def bare_actions(i: int) -> None:
        for owner, value in (("owner_user_id", me.pk), ("owner_organisation_id", me.organisation_id)):
            raw.execute(act_sql.format(owner=owner), [*ids, value])
            raw.fetchall()

    _, token = create_token(me, "bench")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    web = Client()
    web.force_login(me)

    def get(client: Client, path: str) -> Callable[[int], None]:
        def fn(i: int) -> None:
            start, end = month_grid(i)
            url = path.format(month=months[i % len(months)].isoformat(), start=start.strftime(STAMP),
                              end=end.strftime(STAMP))
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"unexpected {response.status_code} for {url}: {response.content[:300]!r}")
        return fn

    n = ARGS.requests
    print(f"load average before the timed requests: {os.getloadavg()[0]:.2f} (1 min)")
    third = third_page_cursor(me, subject)
    unread, shown = notices(me, subject)
    results = [
        measure("bare SQL: six-week calendar range", bare_calendar, n),
        measure("bare SQL: open actions, first page keys", bare_actions, n),
        measure("queries.calendar_range (six weeks)", lambda i: queries.calendar_range(subject, *month_grid(i)), n),
        measure("queries.my_actions (open, first page)",
                lambda i: queries.my_actions(me, today=TODAY, subject=subject), n),
        measure("queries.my_actions (all, third page)",
                lambda i: queries.my_actions(me, state="all", today=TODAY, subject=subject, cursor=third), n),
    ]
    results += [
        measure(f"notifications: unread count ({unread:,} unread)", lambda i: inbox_queries.unread_count(me), n),
        measure(f"notifications: inbox of {shown}", lambda i: inbox_queries.inbox(me, limit=INBOX), n),
    ]
    pages = [
        ("web  GET /consultations/?view=month", "/consultations/", web, "/consultations/?view=month&date={month}"),
        ("web  GET /consultations/actions/", "/consultations/actions/", web, "/consultations/actions/"),
    ]
    missing = []
    for name, route, client, url in pages:
        if routed(route):
            results.append(measure(name, get(client, url), n))
        else:
            missing.append(name)
    apis = [
        ("API  GET /api/v1/consultations/meetings", "/api/v1/consultations/meetings?start={start}&end={end}"),
        ("API  GET /api/v1/consultations/actions", "/api/v1/consultations/actions"),
    ]
    for name, url in apis:
        first = api.get(url.format(start=month_grid(0)[0].strftime(STAMP), end=month_grid(0)[1].strftime(STAMP)))
        if first.status_code == 200:
            results.append(measure(name, get(api, url), n))
        else:
            missing.append(f"{name} (answered {first.status_code})")

    slot_times, slot_cpu = [], []
    ranked: list[Any] = []
    for _ in range(5):
        t, c = time.perf_counter(), time.process_time()
        ranked = timezones.propose_slots(SCHEDULER_NATIONS, timedelta(hours=1), date(2027, 3, 1), date(2027, 3, 28))
        slot_cpu.append((time.process_time() - c) * 1000)
        slot_times.append((time.perf_counter() - t) * 1000)

    print(f"\n{'what':48} {'p50 ms':>8} {'p95 ms':>8} {'CPU p50':>8} {'CPU p95':>8}")
    for name, p50, p95, c50, c95 in results:
        print(f"{name:48} {p50:8.2f} {p95:8.2f} {c50:8.2f} {c95:8.2f}")
    print(f"{'scheduler: 4 weeks, 8 nations (p50/max of 5)':48} {statistics.median(slot_times):8.1f} "
          f"{max(slot_times):8.1f} {statistics.median(slot_cpu):8.1f} {max(slot_cpu):8.1f}")
    print(f"  ({len(ranked)} one-hour slots ranked; the best has {len(ranked[0].outside) if ranked else '-'} of 8 "
          f"nations outside their hours)")
    for name in missing:
        print(f"not measured (not built yet): {name}")
    print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")
    print("\ntargets: month view and my actions p95 < 100 ms on SQLite; scheduler < 1000 ms")
    print(json.dumps({"database": connection.vendor, "meetings": total_m, "actions": total_a,
                      "results": {k: [round(x, 2) for x in v] for k, *v in results},
                      "load": [round(x, 2) for x in os.getloadavg()],
                      "scheduler_ms": [round(x, 1) for x in slot_times],
                      "scheduler_cpu_ms": [round(x, 1) for x in slot_cpu], "python": sys.version.split()[0],
                      "cores": os.cpu_count()}))


def notices(me: User, subject: Any) -> tuple[int, int]:
    """Give the measured user (once) 1,000 unread and 500 read consultation notices about meetings and actions they
    may see, and 50 unread about records they may not see now (relabelled away: not shown, not counted). Returns the
    unread count and the inbox's length, both as the resolver decides them."""
    if not Notification.objects.filter(user=me, key__startswith="bench:").exists():
        rng = random.Random(ARGS.seed + 1)
        meetings = list(Meeting.objects.visible_to(subject).order_by("pk").values_list("pk", flat=True))
        actions = list(ActionItem.objects.visible_to(subject).filter(owner_user=me).order_by("pk")
                       .values_list("pk", flat=True))
        hidden = list(Meeting.objects.exclude(pk__in=meetings).order_by("pk").values_list("pk", flat=True)[:50])
        refs = [("meeting", pk) for pk in rng.sample(meetings, min(len(meetings), 600))]
        refs += [("action", pk) for pk in rng.sample(actions, min(len(actions), 900))]
        rng.shuffle(refs)
        rows = []
        for i, (kind, pk) in enumerate(refs + [("meeting", pk) for pk in hidden]):
            read = i < len(refs) and i % 3 == 0  # a third of the visible ones read
            created = datetime(2026, 1, 15, tzinfo=UTC) - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
            rows.append(Notification(user=me, module="consultations", ref=f"{kind}:{pk}", record_id=pk,
                                     kind="invitation" if kind == "meeting" else "action_assigned", key=f"bench:{i}",
                                     created_at=created, read_at=created + timedelta(hours=1) if read else None))
        Notification.objects.bulk_create(rows, batch_size=1000)
    return inbox_queries.unread_count(me), len(inbox_queries.inbox(me, limit=INBOX))


def third_page_cursor(me: User, subject: Any) -> str | None:
    page = queries.my_actions(me, state="all", today=TODAY, subject=subject)
    return queries.my_actions(me, state="all", today=TODAY, subject=subject, cursor=page.next_cursor).next_cursor


if __name__ == "__main__":
    main()
