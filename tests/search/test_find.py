"""The node-wide search (``kizuna.search.find``): a mixed-language corpus found in each language and across them
through the glossary, the label rule inside the query (hits, counts, facets), the index kept in the writer's
transaction, and bad input answered cleanly."""

from __future__ import annotations

from typing import Any

import pytest

from kizuna.directory.subjects import subject_for
from kizuna.reports.services import do_withdraw_report
from kizuna.search import find
from kizuna.search.index import rebuild
from kizuna.search.models import SearchEntry
from tests.search.conftest import report

pytestmark = pytest.mark.django_db


def _titles(user: Any, query: str, **options: Any) -> set[str]:
    return {h.title for h in find(subject_for(user), query, threats=False, **options).hits}


def test_english_query_finds_english_record_and_others_through_the_glossary(coordinator: Any, corpus: Any) -> None:
    found = _titles(coordinator, "cyber defence")
    assert {"Cyber defence exercise in Tokyo", "Rapport sur la cyberdéfense", "사이버 방어 협력 회의"} <= found


def test_korean_query_finds_the_english_report_about_cyber_defence(korean: Any, corpus: Any) -> None:
    results = find(subject_for(korean), "사이버 방어", threats=False)
    titles = {h.title for h in results.hits}
    assert "Cyber defence exercise in Tokyo" in titles and "사이버 방어 협력 회의" in titles
    assert "cyber defence" in results.expansions
    assert "Japanese-only cyber defence assessment" not in titles  # REL TO JPN: hidden from a Korean reader


def test_japanese_query_finds_ship_to_ship_transfer(coordinator: Any, corpus: Any) -> None:
    found = _titles(coordinator, "瀬取り")
    assert {"東シナ海における瀬取りの監視", "Ship-to-ship transfer off the coast"} <= found


def test_french_and_japanese_substrings_without_spaces(coordinator: Any, corpus: Any) -> None:
    assert "Rapport sur la cyberdéfense" in _titles(coordinator, "CYBERDÉFENSE")
    assert "東シナ海における瀬取りの監視" in _titles(coordinator, "監視活動")
    assert "東シナ海における瀬取りの監視" in _titles(coordinator, "監視")  # two characters: checked row by row


def test_every_word_must_match_and_a_phrase_is_one_substring(coordinator: Any, corpus: Any) -> None:
    assert _titles(coordinator, "tokyo exercise") == {"Cyber defence exercise in Tokyo"}
    assert _titles(coordinator, '"exercise in tokyo"') == {"Cyber defence exercise in Tokyo"}
    assert _titles(coordinator, '"tokyo exercise"') == set()
    assert _titles(coordinator, "tok* exerc*") == {"Cyber defence exercise in Tokyo"}


def test_hidden_records_reach_no_hit_count_or_facet(korean: Any, corpus: Any) -> None:
    results = find(subject_for(korean), "assessment")
    assert results.hits == [] and results.total == 0
    assert all(v == [] for v in results.facets.values())
    missing = find(subject_for(korean), "zzqqxxnothing")
    assert (results.total, results.facets, results.next_cursor) == (missing.total, missing.facets,
                                                                    missing.next_cursor)


def test_facets_count_only_visible_matches(korean: Any, coordinator: Any, corpus: Any) -> None:
    mine = find(subject_for(coordinator), "cyber", threats=False)
    theirs = find(subject_for(korean), "cyber", threats=False)
    assert mine.total == theirs.total + 1
    assert sum(f.count for f in theirs.facets["type"]) == theirs.total
    label_ids = {int(f.value) for f in theirs.facets["label"]}
    assert corpus["secret"].label_id not in label_ids


def test_snippet_marks_the_match_and_escapes_the_rest(coordinator: Any) -> None:
    report(coordinator, "Markup <script>alert(1)</script> test", "before <b>bold</b> the needle here & after")
    hit = find(subject_for(coordinator), "needle", threats=False).hits[0]
    assert "<mark>needle</mark>" in hit.snippet and "&lt;b&gt;bold&lt;/b&gt;" in hit.snippet
    assert "<b>" not in hit.snippet and "&amp;" in hit.snippet


def test_a_snippet_is_plain_text_without_markdown_markers(coordinator: Any) -> None:
    report(coordinator, "Harbour notes", "## Lessons\n- Practise the **reporting chain** for C# and ship_to_ship cases")
    snippet = str(find(subject_for(coordinator), "reporting", threats=False).hits[0].snippet)
    assert "**" not in snippet and "##" not in snippet and "- Practise" not in snippet
    assert "<mark>reporting</mark> chain" in snippet and "C# and ship_to_ship" in snippet


def test_title_match_ranks_first_and_date_sort_is_newest_first(coordinator: Any) -> None:
    older = report(coordinator, "Maritime awareness", "nothing")
    newer = report(coordinator, "Weekly note", "maritime awareness is improving")
    relevance = find(subject_for(coordinator), "maritime", threats=False).hits
    assert [h.record_id for h in relevance] == [older.pk, newer.pk]
    by_date = find(subject_for(coordinator), "maritime", sort="date", threats=False).hits
    assert [h.record_id for h in by_date] == [newer.pk, older.pk]


def test_paging_by_date_and_relevance_visits_every_hit_once(coordinator: Any) -> None:
    made = {report(coordinator, f"Paging note {i}").pk for i in range(7)}
    for sort in ("date", "relevance"):
        seen: list[int] = []
        cursor = None
        while True:
            page = find(subject_for(coordinator), "paging note", sort=sort, cursor=cursor, limit=3, facets=False,
                        threats=False)
            seen += [h.record_id for h in page.hits]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert sorted(seen) == sorted(made)


def test_a_hit_opens_the_records_own_page(coordinator: Any, corpus: Any) -> None:
    hit = find(subject_for(coordinator), "tokyo", threats=False).hits[0]
    assert hit.url == f"/reports/{corpus['en'].pk}/" and hit.kind == "report"


def test_index_follows_the_record_in_its_transaction(coordinator: Any) -> None:
    made = report(coordinator, "Withdrawn soon: orbital debris")
    assert _titles(coordinator, "orbital debris") == {"Withdrawn soon: orbital debris"}
    do_withdraw_report(coordinator, made, "superseded")
    assert _titles(coordinator, "orbital debris") == set()
    assert not SearchEntry.objects.filter(kind="report", record_id=made.pk).exists()


def test_reindex_is_idempotent(coordinator: Any, corpus: Any) -> None:
    before = sorted(SearchEntry.objects.values_list("kind", "record_id", "label_id"))
    first = rebuild()
    assert rebuild() == first
    assert sorted(SearchEntry.objects.values_list("kind", "record_id", "label_id")) == before
    assert "Cyber defence exercise in Tokyo" in _titles(coordinator, "tokyo")


@pytest.mark.parametrize("query", ["x" * 10_000, 'NEAR(a b) OR "c*" AND -d:e ^f', '"""', "\x00\x00", "a\x00b",
                                   "\ud800 lone", "%_\\[*?]", "   ", "'; DROP TABLE search_searchentry; --",
                                   "a b c d e f g h i j k l m n o p"])
def test_bad_input_is_answered_cleanly(coordinator: Any, corpus: Any, query: str) -> None:
    results = find(subject_for(coordinator), query)
    assert results.total >= 0 and len(results.query) <= 200 and len(results.terms) <= 10


def test_totals_and_facets_are_bounded_to_the_newest_candidates(coordinator: Any) -> None:
    from unittest import mock

    made = [report(coordinator, f"Bounded note {i}").pk for i in range(6)]
    with mock.patch("kizuna.search.query.POOL", 4):
        results = find(subject_for(coordinator), "bounded note", threats=False, limit=10)
        by_date = find(subject_for(coordinator), "bounded note", sort="date", threats=False, limit=10)
    assert results.capped and results.total == 4 and sum(f.count for f in results.facets["type"]) == 4
    assert sorted(h.record_id for h in results.hits) == sorted(made[-4:])  # relevance ranks the newest four
    assert len(by_date.hits) == 6  # the date order pages over every match


def test_a_deleted_record_leaves_the_index_and_a_rolled_back_write_never_enters_it(coordinator: Any,
                                                                                   glossary: None) -> None:
    from django.db import transaction

    from kizuna.glossary.models import Term
    from kizuna.glossary.services import do_delete_term

    term = Term.objects.get(en="ship-to-ship transfer")
    assert SearchEntry.objects.filter(kind="term", record_id=term.pk).exists()
    do_delete_term(coordinator, term)
    assert not SearchEntry.objects.filter(kind="term", record_id=term.pk).exists()
    assert "ship-to-ship transfer" not in _titles(coordinator, "transbordement")

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        report(coordinator, "Never committed: lunar relay")
        raise Abort
    assert _titles(coordinator, "lunar relay") == set()
