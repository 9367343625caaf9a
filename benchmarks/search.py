"""Benchmark of the node-wide search (issue 14). Run by hand (the suite runs it at a tiny size, untimed):

    .venv/bin/python benchmarks/search.py [--records 1000000] [--queries 50]
    .venv/bin/python benchmarks/search.py --database-url postgres://postgres@127.0.0.1:5432/kz_find_bench

Builds a fresh node (SQLite under --data-dir, or the PostgreSQL database of --database-url, dropped and created: its
name must contain 'bench') with the glossary's shipped terms and N reports whose titles and summaries are written in
English, French, Japanese (no spaces) or Korean, from the office's vocabulary. One report in ten is REL TO BEL (a
Belgian analyst may see it); the others are REL TO one of nine other nations.

Bulk import: the reports are written in batches of 5,000 with ``bulk_create`` (no signals), and each batch is then
indexed with ``kizuna.search.index.index_records`` (entries and trigram text, as a bulk path must); the two times
are summed separately, so the index's share of a bulk import is printed as a ratio (issue 14: no more than 2x).

Queries: for the analyst, p50 and p95 over --queries searches per kind (an English word, a French word, a Japanese
word, a Korean word, two English words, a word in 1% of the reports, a rare title word) of ``find`` — the first page
of 20 by relevance with facets and glossary expansion, the label rule inside the query — and beside each, in the
same run, the bare index query: the same trigram look-ups with the newest 20 entries, without the label rule,
expansion, ranking or facets. One untimed search of each kind comes first.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--queries", type=int, default=50, help="searches per kind")
    p.add_argument("--database-url", default="", help="PostgreSQL (dropped and created; name must contain 'bench')")
    p.add_argument("--data-dir", default="/tmp/kizuna-bench-find")  # noqa: S108 - scratch for a hand-run benchmark
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--reuse", action="store_true",
                   help="search the node a previous run of the same size built (no import figures)")
    return p.parse_args()


ARGS = parse()
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _inprocess import configure  # noqa: E402

DATA_DIR = Path(ARGS.data_dir) / f"{'pg' if ARGS.database_url else 'sqlite'}-r{ARGS.records}"
configure(DATA_DIR, ARGS.database_url, reuse=ARGS.reuse)

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from kizuna.core.access import intern_label  # noqa: E402
from kizuna.core.registry import searchable_types  # noqa: E402
from kizuna.directory.models import Organisation, User  # noqa: E402
from kizuna.directory.services import ensure_reference_data  # noqa: E402
from kizuna.directory.subjects import subject_for  # noqa: E402
from kizuna.glossary import data as glossary_data  # noqa: E402
from kizuna.glossary.services import do_load_terms  # noqa: E402
from kizuna.labels import Label  # noqa: E402
from kizuna.reports.models import Report  # noqa: E402
from kizuna.search import find  # noqa: E402
from kizuna.search.index import TEXT_INDEX, index_records  # noqa: E402
from kizuna.search.models import SearchEntry  # noqa: E402

OTHERS = ["FRA", "DEU", "ITA", "ESP", "POL", "NLD", "NOR", "DNK", "CAN"]
BATCH = 5000
VOCABULARY = {
    "en": ("cyber defence maritime security exercise patrol ship-to-ship transfer satellite disaster relief "
           "consultation partners incident response disinformation campaign port visit coast guard training "
           "emerging technologies space situational awareness ministry cooperation report assessment").split(),
    "fr": ("cyberdéfense sécurité maritime exercice patrouille transbordement satellite secours catastrophe "
           "consultation partenaires réponse incident désinformation campagne escale garde-côtes formation "
           "technologies émergentes espace coopération ministère rapport évaluation").split(),
    "ja": ("サイバー防衛 海洋安全保障 演習 哨戒 瀬取り 衛星 災害救援 協議 パートナー 事案対処 偽情報 寄港 海上保安庁 訓練 "
           "新興技術 宇宙状況把握 防衛省 協力 報告 評価").split(),
    "ko": ("사이버 방어 해양 안보 훈련 초계 선박 간 환적 위성 재난 구호 협의 파트너 사고 대응 허위 정보 기항 해경 교육 "
           "신흥 기술 우주 상황 인식 국방부 협력 보고서 평가").split(),
}
QUERIES: dict[str, Callable[[random.Random], str]] = {
    "English word": lambda rng: rng.choice(["maritime", "exercise", "satellite", "patrol", "cooperation"]),
    "French word": lambda rng: rng.choice(["cyberdéfense", "exercice", "patrouille", "coopération"]),
    "Japanese word": lambda rng: rng.choice(["瀬取り", "海洋安全保障", "災害救援", "宇宙状況把握"]),
    "Korean word": lambda rng: rng.choice(["사이버", "훈련", "보고서", "국방부"]),
    "two English words": lambda rng: " ".join(rng.sample(["maritime", "exercise", "patrol", "report", "space"], 2)),
    "word in 1% of records": lambda rng: f"zm{rng.randrange(5)}",
    "rare title word": lambda rng: f"zq{rng.randrange(max(1, ARGS.records // 1000)):05d}",
}


def machine() -> str:
    from taxii_serve import machine as shared_machine

    db = f"PostgreSQL {connection.pg_version}" if connection.vendor == "postgresql" else "SQLite"
    return f"{shared_machine().removeprefix('machine: ')}; database: {db}"


def text(rng: random.Random, language: str, words: int) -> str:
    chosen = rng.sample(VOCABULARY[language], words)
    return ("" if language == "ja" else " ").join(chosen)


def build(rng: random.Random) -> tuple[User, float, float]:
    call_command("migrate", verbosity=0, interactive=False)
    ensure_reference_data()
    org = Organisation.objects.get_or_create(code="BEL-MOD", defaults={"name": "Belgian defence", "nation_id": "BEL"})[0]
    analyst = User.objects.create(username="bench-bel", nation_id="BEL", organisation=org, role="coordinator",
                                  clearances={"NATO": "RESTRICTED"}, communities=[], password="!")
    do_load_terms(analyst, glossary_data.read_terms(glossary_data.SHIPPED))
    labels = [intern_label(Label.build("NATO", "UNCLASSIFIED", {"releasable_to": [n]}, "AMBER"))
              for n in ["BEL", *OTHERS]]
    spec = next(s for rt, s in searchable_types() if rt.model == "reports.Report")
    languages = list(VOCABULARY)
    import_s = index_s = 0.0
    for start in range(0, ARGS.records, BATCH):
        rows = []
        for i in range(start, min(ARGS.records, start + BATCH)):
            language = languages[i % 4]
            title = text(rng, language, 3) + (f" zq{i // 1000:05d}" if i % 1000 == 0 else "")
            if rng.random() < 0.05:  # five words, each in 1% of the reports: the walk's hardest case (docs/search.md)
                title += f" zm{rng.randrange(5)}"
            rows.append(Report(title=title, summary=text(rng, language, 8), body="", label=labels[(i // 4) % 10],
                               originator=org, author=analyst))
        t0 = time.perf_counter()
        with transaction.atomic():
            made = Report.objects.bulk_create(rows)
        t1 = time.perf_counter()
        with transaction.atomic():
            index_records(spec, made, fresh=True)
        t2 = time.perf_counter()
        import_s += t1 - t0
        index_s += t2 - t1
    if connection.vendor == "postgresql":
        # What autovacuum does on a node after an import (PostgreSQL 13+ vacuums insert-only tables too): the
        # statistics, and the visibility map that lets an index-only scan skip the rows (search/0004's key index).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return analyst, import_s, index_s


def bare(query: str) -> None:
    """The index alone: every word's trigram look-up, newest 20 entries, no label rule."""
    qs = SearchEntry.objects.all()
    for word in query.lower().split():
        qs = qs.filter(pk__in=TEXT_INDEX.matching(word))
    list(qs.order_by("-date", "-id").values_list("pk", flat=True)[:20])


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    rng = random.Random(ARGS.seed)
    if ARGS.reuse:
        analyst, import_s, index_s = User.objects.get(username="bench-bel"), 0.0, 0.0
    else:
        analyst, import_s, index_s = build(rng)
    print(machine())
    visible = ARGS.records // 10 + (1 if ARGS.records % 10 else 0)
    print(f"built {ARGS.records} reports ({visible} visible to bench-bel) and "
          f"{SearchEntry.objects.count()} search entries")
    if not ARGS.reuse:
        print(f"bulk import: {import_s:.1f} s without the index, {import_s + index_s:.1f} s with it "
              f"(x{(import_s + index_s) / max(import_s, 1e-9):.2f})")
    subject = subject_for(analyst)
    # One untimed search of each kind first: the first query after the import reads the index from disk.
    for draw in QUERIES.values():
        find(subject, draw(random.Random(0)), threats=False)
    for kind, draw in QUERIES.items():
        found: list[float] = []
        index_only: list[float] = []
        totals: list[int] = []
        for _ in range(ARGS.queries):
            query = draw(rng)
            t0 = time.perf_counter()
            totals.append(find(subject, query, threats=False).total)
            found.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            bare(query)
            index_only.append((time.perf_counter() - t0) * 1000)
        print(f"{kind}: find p50 {statistics.median(found):.1f} ms, p95 {p(found, .95):.1f} ms "
              f"(about {statistics.median(totals):.0f} visible hits) | bare index query p50 "
              f"{statistics.median(index_only):.1f} ms, p95 {p(index_only, .95):.1f} ms")


if __name__ == "__main__":
    main()
