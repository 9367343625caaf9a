"""Query expansion (``kizuna.glossary.expand``): across the four languages, inside CJK text without spaces, bounded,
and never with a term the subject may not see."""

from __future__ import annotations

import time
from typing import Any

import pytest

from kizuna.directory.subjects import subject_for
from kizuna.glossary import expand
from kizuna.glossary.services import TermInput, do_create_term, do_load_terms
from kizuna.glossary.text import Index, longest_matches, normalise
from tests.conftest import make_label

pytestmark = pytest.mark.django_db

SHARED = make_label(releasable_to=["NATO", "IP4"])
JPN_ONLY = make_label(releasable_to=["JPN"])


@pytest.fixture
def coordinator(make_user: Any) -> Any:
    return make_user("hanako", "JPN", "JPN-MOD", role="coordinator")


def _term(user: Any, en_: str, fr_: str, ja_: str, ko_: str, label: Any = SHARED, area: str = "general",
          **variants: list[str]) -> Any:
    return do_create_term(user, TermInput(en=en_, fr=fr_, ja=ja_, ko=ko_, variants=variants, area=area, label=label))


@pytest.fixture
def terms(coordinator: Any) -> None:
    _term(coordinator, "cyber defence", "cyberdéfense", "サイバー防衛", "사이버 방어", area="cyber",
          en=["cyber defense"])
    _term(coordinator, "ship-to-ship transfer", "transbordement de navire à navire", "瀬取り", "선박 간 환적",
          area="maritime", en=["STS"])
    _term(coordinator, "defence", "défense", "防衛", "방어")


def test_english_finds_the_japanese_french_and_korean_terms(coordinator: Any, terms: None) -> None:
    found = expand(subject_for(coordinator), "cyber defence")
    assert "サイバー防衛" in found and "cyberdéfense" in found and "사이버 방어" in found
    assert "cyber defence" not in found  # already in the query
    assert "防衛" not in found  # "defence" lies inside "cyber defence": the longer term wins


def test_japanese_finds_english(coordinator: Any, terms: None) -> None:
    found = expand(subject_for(coordinator), "サイバー防衛")
    assert found[:3] == ["cyber defence", "cyberdéfense", "사이버 방어"] and "cyber defense" in found


def test_a_term_inside_japanese_text_without_spaces_is_found(coordinator: Any, terms: None) -> None:
    found = expand(subject_for(coordinator), "瀬取りの監視")
    assert found == ["ship-to-ship transfer", "transbordement de navire à navire", "선박 간 환적", "STS"]


def test_case_accents_hyphens_and_korean_spacing_do_not_matter(coordinator: Any, terms: None) -> None:
    subject = subject_for(coordinator)
    assert "瀬取り" in expand(subject, "Ship to Ship TRANSFER reports")
    assert "サイバー防衛" in expand(subject, "CYBERDEFENSE")
    assert "サイバー防衛" in expand(subject, "사이버방어를 강화")
    assert "瀬取り" in expand(subject, "the STS case")


def test_a_latin_term_is_found_only_as_whole_words(coordinator: Any) -> None:
    _term(coordinator, "artificial intelligence", "intelligence artificielle", "人工知能", "인공지능", en=["AI"])
    subject = subject_for(coordinator)
    assert expand(subject, "maintain the fleet") == []
    assert "人工知能" in expand(subject, "AI safety") and "人工知能" in expand(subject, "AI技術")


def test_a_query_with_no_term_or_no_text_expands_to_nothing(coordinator: Any, terms: None) -> None:
    assert expand(subject_for(coordinator), "weather in Tokyo") == []
    assert expand(subject_for(coordinator), "   ") == []


def test_a_term_the_subject_may_not_see_is_never_used(coordinator: Any, make_user: Any) -> None:
    _term(coordinator, "cyber defence", "cyberdéfense", "サイバー防衛", "사이버 방어")
    _term(coordinator, "cyber defence", "cyber-défense nationale", "国家サイバー防衛", "국가 사이버 방어", label=JPN_ONLY)
    korean = make_user("minjun", "KOR", "KOR-MND")
    seen_by_korean = expand(subject_for(korean), "cyber defence")
    assert "サイバー防衛" in seen_by_korean
    assert not {"国家サイバー防衛", "국가 사이버 방어", "cyber-défense nationale"} & set(seen_by_korean)
    assert "国家サイバー防衛" in expand(subject_for(coordinator), "cyber defence")
    # Nor is a hidden term found by its own words.
    assert expand(subject_for(korean), "国家サイバー防衛") == ["cyber defence", "cyberdéfense", "사이버 방어"]


def test_the_expansions_are_bounded(coordinator: Any) -> None:
    for n in range(30):
        _term(coordinator, f"term{n}", f"terme{n}", f"用語{n}", f"용어{n}")
    query = " ".join(f"term{n}" for n in range(30))
    assert len(expand(subject_for(coordinator), query)) == 20


def test_a_huge_query_costs_well_under_a_second_at_a_thousand_terms(coordinator: Any) -> None:
    from kizuna.glossary.data import read_terms

    entries = read_terms()
    entries += [TermInput(en=f"synthetic term {n}", fr=f"terme synthétique {n}", ja=f"合成用語{n}", ko=f"합성 용어 {n}",
                          variants={"en": [f"ST{n}"]}, label=SHARED) for n in range(1000 - len(entries))]
    assert do_load_terms(coordinator, entries).created == 1000
    subject = subject_for(coordinator)
    query = ("瀬取りの監視と cyber defence exercise, サイバー防衛 및 사이버 방어 " * 300)[:10_000]
    started = time.perf_counter()
    found = expand(subject, query)
    elapsed = time.perf_counter() - started
    assert 0 < len(found) <= 20 and "ship-to-ship transfer" in found
    assert elapsed < 0.5, f"{elapsed:.3f} s"


def test_the_longest_match_wins_and_two_terms_sharing_a_form_both_count() -> None:
    index = Index([(1, ["cyber defence"]), (2, ["defence"]), (3, ["defence"])])
    assert [f.key for f in longest_matches(index.find(normalise("cyber defence")))] == [1]
    assert sorted(f.key for f in longest_matches(index.find(normalise("defence")))) == [2, 3]


@pytest.mark.parametrize(("query", "others"), [
    ("cyber defence", {"cyberdéfense", "サイバー防衛", "사이버 방어"}),
    ("cyberdéfense", {"cyber defence", "サイバー防衛", "사이버 방어"}),
    ("サイバー防衛の強化", {"cyber defence", "cyberdéfense", "사이버 방어"}),
    ("사이버 방어 협력", {"cyber defence", "cyberdéfense", "サイバー防衛"}),
])
def test_each_language_finds_the_three_others(coordinator: Any, terms: None, query: str, others: set[str]) -> None:
    assert others <= set(expand(subject_for(coordinator), query))
