""""Did you mean" (``kizuna.search.suggest``): a misspelt query that finds nothing is offered a corrected one taken
from the glossary terms the subject may see, only when that correction finds something for the same subject; a
term the subject may not see never shapes the answer (identical to a node without the term); a query that finds
something gets no suggestion. On ``find``, the API (checked against the OpenAPI document), the page and the CLI."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client

from kizuna.directory.subjects import subject_for
from kizuna.glossary.services import TermInput, do_create_term
from kizuna.search import find
from kizuna.search.suggest import Vocabulary, candidates, distance
from tests.cli.helpers import kizuna
from tests.search.conftest import JPN_ONLY, SHARED, report

pytestmark = pytest.mark.django_db


def _term(user: Any, en: str, label: Any = SHARED, **names: str) -> Any:
    return do_create_term(user, TermInput(en=en, fr=names.get("fr", ""), ja=names.get("ja", ""),
                                          ko=names.get("ko", ""), variants={}, area="general", label=label))


def _suggestion(user: Any, query: str, **options: Any) -> str | None:
    return find(subject_for(user), query, threats=False, **options).suggestion


def test_a_misspelt_word_gets_the_glossary_spelling(coordinator: Any, korean: Any, corpus: Any) -> None:
    results = find(subject_for(korean), "cyber defense", threats=False)
    assert results.total == 0 and results.hits == []
    assert results.suggestion == "cyber defence"
    assert find(subject_for(korean), results.suggestion, threats=False).total > 0


def test_one_misspelt_word_alone(coordinator: Any, corpus: Any) -> None:
    _term(coordinator, "maritime security", fr="sûreté maritime")
    report(coordinator, "Maritime domain awareness in the Pacific")
    assert _suggestion(coordinator, "maritme") == "maritime"
    assert _suggestion(coordinator, "Maritme securty") == "maritime security"


def test_a_suggestion_that_finds_nothing_is_not_offered(coordinator: Any, corpus: Any) -> None:
    _term(coordinator, "maritime security")
    # The term itself is a visible record ("term"), but no report holds the word: with type=report, nothing.
    assert _suggestion(coordinator, "maritme", types=["report"]) is None
    report(coordinator, "Maritime domain awareness in the Pacific")
    assert _suggestion(coordinator, "maritme", types=["report"]) == "maritime"


def test_a_query_that_finds_something_gets_no_suggestion(coordinator: Any, corpus: Any) -> None:
    report(coordinator, "Cyber defense posture review")  # the American spelling, in a record
    results = find(subject_for(coordinator), "cyber defense", threats=False)
    assert results.total == 1 and results.suggestion is None
    assert _suggestion(coordinator, "cyber defence") is None


def _answers(user: Any, api_for: Any, query: str) -> tuple[Any, ...]:
    results = find(subject_for(user), query, threats=False)
    client = Client()
    client.force_login(user)
    html = client.get(f"/search/?q={quote(query)}").content.decode()
    main = html[html.index('<main id="main"'):html.index("</main>")]
    body = api_for(user).get("search?q=" + quote(query)).json()
    return (results.total, results.hits, results.facets, results.expansions, results.suggestion, main, body,
            kizuna("search", "find", query, "--user", user.username).out)


def test_a_hidden_term_never_shapes_a_suggestion(coordinator: Any, korean: Any, corpus: Any, api_for: Any) -> None:
    report(coordinator, "Hydrographic survey of the strait", "Soundings shared with partners.")
    query = "hydrografic survey"
    without_term = _answers(korean, api_for, query)
    hidden = _term(coordinator, "hydrographic survey", label=JPN_ONLY)  # the Korean reader may not see it
    with_hidden_term = _answers(korean, api_for, query)
    assert with_hidden_term == without_term
    assert with_hidden_term[4] is None and with_hidden_term[6]["suggestion"] is None
    # The same term, visible to its reader, gives the suggestion: the label rule is what kept it out above.
    assert _suggestion(coordinator, query) == "hydrographic survey"
    assert hidden.pk


def test_the_api_the_page_and_the_cli_show_the_suggestion(korean: Any, corpus: Any, api_for: Any) -> None:
    body = api_for(korean).get("search?q=" + quote("cyber defense")).json()
    assert body["total"] == 0 and body["suggestion"] == "cyber defence"
    assert api_for(korean).get("search?q=" + quote("cyber defence")).json()["suggestion"] is None
    client = Client()
    client.force_login(korean)
    html = client.get("/search/?q=cyber+defense&type=report").content.decode()
    assert 'data-testid="search-suggestion"' in html and "Did you mean:" in html
    assert 'href="?q=cyber+defence&amp;type=report"' in html
    assert "did you mean: cyber defence" in kizuna("search", "find", "cyber defense", "--user", "minjun").out


def test_the_page_says_it_in_the_readers_language(korean: Any, corpus: Any) -> None:
    client = Client()
    client.force_login(korean)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    html = client.get("/search/?q=cyber+defense").content.decode()
    assert "혹시 이것을 찾으셨나요:" in html and "Did you mean:" not in html


def test_words_are_corrected_within_a_small_distance_only() -> None:
    words = Vocabulary(["cyber defence", "cyberdéfense", "사이버 방어", "ship-to-ship transfer", "STS"])
    assert candidates("cyberdefence", words) == ["cyberdéfense", "cyber defence"]  # accents shown back
    assert candidates("사이바 방어", words) == ["사이버 방어"]
    assert candidates("sts", words) == []  # already a form
    assert candidates("sea", words) == []  # too short to correct
    assert candidates("cyborg offence", words) == []  # two edits from "defence": too far for 7 letters
    assert candidates("cyber defance", words) == ["cyber defence"]
    assert distance("kitten", "sitting", 5) == 3 and distance("kitten", "sitting", 1) == 2
