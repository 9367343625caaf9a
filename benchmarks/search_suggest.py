"""Benchmark of the search's "did you mean" (issue 14, ``kizuna.search.suggest``). Run by hand (the suite runs it at a
tiny size, untimed):

    .venv/bin/python benchmarks/search_suggest.py [--terms 1000] [--queries 50]
    .venv/bin/python benchmarks/search_suggest.py --database-url postgres://postgres@127.0.0.1:5432/kz_suggest_bench

Builds a fresh node (SQLite under --data-dir, or the PostgreSQL database of --database-url, dropped and created: its
name must contain 'bench') with the glossary's shipped terms topped up with synthetic ones to --terms (four languages
and a variant each, as tests/glossary/test_expand.py does), all visible to the searching user, and a few hundred
reports. Then, p50 and p95 over --queries searches each:

- the vocabulary: reading the visible terms' forms from the enforcement point and building the word lists;
- the comparison alone: ``candidates`` for a misspelt query of two words, against that vocabulary;
- ``find`` of a misspelt query that finds nothing (so the suggestion is computed, and checked with one more search),
  beside ``find`` of the corrected query (which finds something, so no suggestion is computed).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--terms", type=int, default=1000)
    p.add_argument("--reports", type=int, default=500)
    p.add_argument("--queries", type=int, default=50, help="searches per kind")
    p.add_argument("--database-url", default="", help="PostgreSQL (dropped and created; name must contain 'bench')")
    p.add_argument("--data-dir", default="/tmp/kizuna-bench-suggest")  # noqa: S108 - scratch for a hand-run benchmark
    p.add_argument("--seed", type=int, default=14)
    return p.parse_args()


ARGS = parse()
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _inprocess import configure  # noqa: E402

configure(Path(ARGS.data_dir) / ("pg" if ARGS.database_url else "sqlite"), ARGS.database_url)

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from kizuna.core.access import intern_label  # noqa: E402
from kizuna.directory.models import Organisation, User  # noqa: E402
from kizuna.directory.services import ensure_reference_data  # noqa: E402
from kizuna.directory.subjects import subject_for  # noqa: E402
from kizuna.glossary import data as glossary_data  # noqa: E402
from kizuna.glossary.services import TermInput, do_load_terms  # noqa: E402
from kizuna.labels import Label  # noqa: E402
from kizuna.reports.services import ReportInput, do_create_report  # noqa: E402
from kizuna.search import find  # noqa: E402
from kizuna.search.suggest import candidates, vocabulary  # noqa: E402

# Misspelt queries (nothing found) and what they should become.
MISSPELT = {"cyber defnce": "cyber defence", "maritme security": "maritime security",
            "disinformaton": "disinformation", "humanitarian asistance": "humanitarian assistance"}


def machine() -> str:
    from taxii_serve import machine as shared_machine

    db = f"PostgreSQL {connection.pg_version}" if connection.vendor == "postgresql" else "SQLite"
    return f"{shared_machine().removeprefix('machine: ')}; database: {db}"


def build() -> User:
    call_command("migrate", verbosity=0, interactive=False)
    ensure_reference_data()
    org = Organisation.objects.get_or_create(code="BEL-MOD", defaults={"name": "Belgian defence", "nation_id": "BEL"})[0]
    analyst = User.objects.create(username="bench-bel", nation_id="BEL", organisation=org, role="coordinator",
                                  clearances={"NATO": "RESTRICTED"}, communities=[], password="!")
    label = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["BEL"]}, "AMBER")
    intern_label(label)
    entries = glossary_data.read_terms(glossary_data.SHIPPED)
    entries += [TermInput(en=f"synthetic term {n}", fr=f"terme synthétique {n}", ja=f"合成用語{n}", ko=f"합성 용어 {n}",
                          variants={"en": [f"ST{n}"]}, label=label) for n in range(max(0, ARGS.terms - len(entries)))]
    do_load_terms(analyst, entries[: ARGS.terms])
    for n in range(ARGS.reports):
        right = list(MISSPELT.values())[n % len(MISSPELT)]
        do_create_report(analyst, ReportInput(title=f"Report {n} on {right}", label=label, body="Shared notes."))
    return analyst


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(kind: str, call: object) -> None:
    spent: list[float] = []
    for _ in range(ARGS.queries):
        t0 = time.perf_counter()
        call()  # type: ignore[operator]
        spent.append((time.perf_counter() - t0) * 1000)
    print(f"{kind}: p50 {statistics.median(spent):.1f} ms, p95 {p(spent, .95):.1f} ms")


def main() -> None:
    analyst = build()
    subject = subject_for(analyst)
    print(machine())
    words = vocabulary(subject)
    print(f"built {ARGS.terms} terms ({len(words.forms)} forms, {len(words.words)} words) and {ARGS.reports} reports")
    rng = random.Random(ARGS.seed)
    for wrong, right in MISSPELT.items():
        results = find(subject, wrong, threats=False)
        if results.suggestion is None or find(subject, right, threats=False, suggest=False).total == 0:
            raise SystemExit(f"no suggestion for {wrong!r} (expected {right!r})")
    timed("vocabulary (read and build)", lambda: vocabulary(subject))
    timed("candidates (compare, two words)", lambda: candidates(rng.choice(list(MISSPELT)), words))
    timed("find, misspelt (nothing found, suggestion)",
          lambda: find(subject, rng.choice(list(MISSPELT)), threats=False))
    timed("find, corrected (found, no suggestion)",
          lambda: find(subject, rng.choice(list(MISSPELT.values())), threats=False))


if __name__ == "__main__":
    main()
