"""The search page (``/search/``, the header box on every page) and ``GET /api/v1/search`` (checked against the
OpenAPI document): hits link to their records' own pages, facets filter, the glossary equivalents are named, the
banners carry the hits' labels, reads are audited, and a hidden record answers exactly as a missing one."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from kizuna.core.models import AuditEntry
from tests.search.conftest import report

pytestmark = pytest.mark.django_db


def _page(user: Any, query: str) -> Any:
    client = Client()
    client.force_login(user)
    return client.get(f"/search/?q={quote(query)}")


def test_the_header_of_every_page_has_the_search_box(coordinator: Any) -> None:
    client = Client()
    client.force_login(coordinator)
    html = client.get("/reports/").content.decode()
    assert 'role="search"' in html and 'action="/search/"' in html and 'for="site-search-q"' in html


def test_the_page_shows_hits_facets_expansions_and_banner(korean: Any, corpus: Any) -> None:
    response = _page(korean, "사이버 방어")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/reports/{corpus["en"].pk}/"' in html and "<mark>" in html
    assert 'data-testid="search-expansions"' in html and "cyber defence" in html
    assert 'data-testid="facet-type"' in html
    assert "Japanese-only" not in html
    assert "REL TO NATO, IP4" in html  # the banner carries the hits' labels
    assert AuditEntry.objects.filter(action="search", actor="minjun").exists()


def test_a_facet_link_filters_and_the_sort_toggle_sorts(coordinator: Any, corpus: Any) -> None:
    client = Client()
    client.force_login(coordinator)
    html = client.get("/search/?q=cyber&type=term&sort=date").content.decode()
    assert "Glossary term" in html and f'href="/reports/{corpus["en"].pk}/"' not in html


def test_hidden_and_missing_answer_alike_on_the_page(korean: Any, corpus: Any) -> None:
    def main(html: str) -> str:  # the page's content (the header holds a per-request CSRF token)
        return html[html.index('<main id="main"'):html.index("</main>")]

    hidden = main(_page(korean, "assessment").content.decode())
    missing = main(_page(korean, "zqzqzqzq").content.decode())
    assert hidden.replace("assessment", "Q") == missing.replace("zqzqzqzq", "Q")


def test_a_bad_cursor_is_a_clean_400(coordinator: Any) -> None:
    client = Client()
    client.force_login(coordinator)
    assert client.get("/search/?q=cyber&cursor=%%%").status_code == 400


def test_the_api_finds_and_facets_within_the_label_rule(korean: Any, coordinator: Any, corpus: Any,
                                                        api_for: Any) -> None:
    api = api_for(korean)
    body = api.get("search?q=" + quote("사이버 방어")).json()
    ids = {(i["type"], i["id"]) for i in body["items"]}
    assert ("report", corpus["en"].pk) in ids and ("report", corpus["secret"].pk) not in ids
    assert body["total"] == len(body["items"]) and "cyber defence" in body["expansions"]
    assert sum(f["count"] for f in body["facets"]["type"]) == body["total"]
    hit = next(i for i in body["items"] if (i["type"], i["id"]) == ("report", corpus["en"].pk))
    assert hit["url"] == f"/reports/{corpus['en'].pk}/" and hit["label"]["categories"]["releasable_to"]
    answer = api_for(coordinator).get("search?q=assessment&type=report&sort=date&limit=5")
    assert answer.status_code == 200, answer.content
    mine = answer.json()
    assert [i["id"] for i in mine["items"]] == [corpus["secret"].pk]


def test_the_api_hidden_equals_missing_and_refuses_bad_parameters(korean: Any, corpus: Any, api_for: Any) -> None:
    api = api_for(korean)
    hidden = api.get("search?q=assessment").json()
    missing = api.get("search?q=zqzqzqzq").json()
    assert {k: v for k, v in hidden.items() if k not in ("query", "terms")} == \
        {k: v for k, v in missing.items() if k not in ("query", "terms")}
    assert api.get("search?q=cyber&limit=1000").status_code == 400
    assert api.get("search?q=cyber&cursor=nonsense").status_code == 400
    assert api.get("search?q=" + quote('"' * 5000 + "\x00")).status_code == 200


def test_the_api_pages_with_a_cursor(coordinator: Any, api_for: Any) -> None:
    for n in range(5):
        report(coordinator, f"Cursor note {n}")
    api = api_for(coordinator)
    first = api.get("search?q=cursor+note&limit=3").json()
    second = api.get(f"search?q=cursor+note&limit=3&cursor={first['next_cursor']}").json()
    assert len(first["items"]) == 3 and len(second["items"]) == 2 and second["next_cursor"] is None


def test_a_capped_search_says_there_are_more_than_it_ranks(coordinator: Any) -> None:
    from unittest import mock

    for i in range(3):
        report(coordinator, f"Capped harbour note {i}")
    with mock.patch("kizuna.search.query.POOL", 2):
        capped = _page(coordinator, "harbour").content.decode()
    exact = _page(coordinator, "harbour").content.decode()
    assert "More than 2 records found" in capped and "sort by date" in capped
    assert "3 records found" in exact and "More than" not in exact
