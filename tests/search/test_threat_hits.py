"""Threat objects among the hits of the node-wide search (issue 14): a visible object the threat search finds is a hit
(type ``threat``, its own page, its label) on ``find``, the page, the API (checked against the OpenAPI document) and
the CLI; a hidden one changes nothing at all; the type and area filters; one date order paged over reports and threat
objects together (no duplicate, no gap, ties at one instant included); relevance merges both. Objects are stored by the
real importer (``do_import_objects``), so the threat search's index is written as for any import.

Every test here failed before threat objects were merged (they were only counted, with a link)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from kizuna.directory.subjects import subject_for
from kizuna.search import find
from kizuna.search.models import SearchEntry
from kizuna.search.query import Results
from kizuna.threats.models import StixObject
from kizuna.threats.services import do_import_objects
from tests.cli.helpers import kizuna
from tests.search.conftest import JPN_ONLY, SHARED, report

pytestmark = pytest.mark.django_db

T0 = "2026-02-01T00:00:00.000Z"


def malware(name: str, description: str = "") -> dict[str, Any]:
    obj: dict[str, Any] = {"type": "malware", "spec_version": "2.1", "id": f"malware--{uuid.uuid4()}", "created": T0,
                           "modified": T0, "name": name, "is_family": True}
    if description:
        obj["description"] = description
    return obj


def store(user: Any, *objects: dict[str, Any], label: Any = SHARED) -> list[StixObject]:
    assert do_import_objects(user, list(objects), label).accepted == len(objects)
    return [StixObject.objects.get(stix_id=o["id"], is_current=True) for o in objects]


def threat_hits(results: Results) -> list[Any]:
    return [h for h in results.hits if h.kind == "threat"]


def every_page(user: Any, query: str, **options: Any) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    cursor = None
    for _ in range(50):
        page = find(subject_for(user), query, cursor=cursor, facets=False, **options)
        seen += [(h.kind, h.record_id) for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("more than 50 pages")


def test_a_visible_threat_object_is_among_the_hits_with_its_page_and_label(coordinator: Any, korean: Any) -> None:
    obj = store(coordinator, malware("Sakura Loader", "A loader seen against <b>ministries</b> & agencies"))[0]
    report(coordinator, "Weekly cyber note", "The sakura loader campaign continues.")
    results = find(subject_for(korean), "sakura")
    assert results.total == 2
    [hit] = threat_hits(results)
    assert hit.url == f"/threats/objects/{obj.stix_id}/" and hit.stix_id == obj.stix_id
    assert hit.title == "Sakura Loader" and hit.record_id == obj.pk and hit.area == "cyber"
    assert hit.label.pk == obj.label_id and hit.nation == "JPN" and hit.date == obj.created_at
    assert hit.kind_name == "Threat object"
    assert results.hits[0] == hit  # the name is a title match: it ranks above the report mentioning it in its text
    description = find(subject_for(korean), "ministries").hits[0]
    assert "<mark>ministries</mark>" in description.snippet and "&lt;b&gt;" in description.snippet
    assert "&amp;" in description.snippet
    assert {f.value: f.count for f in results.facets["type"]} == {"threat": 1, "report": 1}
    assert {f.value: f.count for f in results.facets["area"]}.get("cyber") == 1
    assert results.threats is not None and results.threats.count == 1  # the link to the threat search stays


def test_a_hidden_threat_object_changes_nothing(coordinator: Any, korean: Any) -> None:
    report(coordinator, "Kumo campaign overview", "Partners shared what they saw.")

    def answer(user: Any, **options: Any) -> tuple[Any, ...]:
        r = find(subject_for(user), "kumo", **options)
        return (r.hits, r.total, r.capped, r.facets, r.threats, r.next_cursor)

    before = {sort: answer(korean, sort=sort) for sort in ("relevance", "date")}
    nothing = answer(korean, sort="relevance", types=["threat"])
    hidden = store(coordinator, malware("Kumo dropper", "kumo kumo"), label=JPN_ONLY)[0]
    # The Japanese coordinator may see it: it is among their hits ...
    assert [h.record_id for h in threat_hits(find(subject_for(coordinator), "kumo"))] == [hidden.pk]
    # ... and for the Korean reader it is as if it were not stored: hits, total, facets, threat count, cursor.
    assert {sort: answer(korean, sort=sort) for sort in ("relevance", "date")} == before
    assert answer(korean, sort="relevance", types=["threat"]) == nothing
    assert find(subject_for(korean), "dropper").total == 0


def test_the_type_and_area_filters(coordinator: Any) -> None:
    store(coordinator, malware("Typhoon kit"))
    report(coordinator, "Typhoon season briefing", "maritime", focus_areas=["maritime"])
    me = subject_for(coordinator)
    only = find(me, "typhoon", types=["threat"])
    assert [h.kind for h in only.hits] == ["threat"] and only.total == 1
    assert {f.value for f in only.facets["type"]} == {"threat", "report"}  # facets count before the filters
    assert [h.kind for h in find(me, "typhoon", types=["report"]).hits] == ["report"]
    assert [h.kind for h in find(me, "typhoon", types=["report"], sort="date").hits] == ["report"]
    assert [h.kind for h in find(me, "typhoon", area="cyber").hits] == ["threat"]
    assert [h.kind for h in find(me, "typhoon", area="maritime").hits] == ["report"]
    assert [h.kind for h in find(me, "typhoon", nation="JPN", sort="date").hits] == ["report", "threat"]
    assert find(me, "typhoon", nation="KOR").hits == []


def test_threats_false_runs_no_threat_search(coordinator: Any) -> None:
    store(coordinator, malware("Typhoon kit"))
    results = find(subject_for(coordinator), "typhoon", threats=False)
    assert results.hits == [] and results.total == 0 and results.threats is None
    assert all(v == [] for v in results.facets.values())
    assert find(subject_for(coordinator), "typhoon").total == 1


def test_date_order_pages_over_reports_and_threat_objects_without_duplicates_or_gaps(coordinator: Any) -> None:
    made: set[tuple[str, int]] = set()
    for n in range(5):
        made.add(("report", report(coordinator, f"Paging probe report {n}").pk))
        made.add(("threat", store(coordinator, malware(f"Paging probe malware {n}"))[0].pk))
    for limit in (1, 3, 4, 20):
        seen = every_page(coordinator, "paging probe", sort="date", limit=limit)
        assert len(seen) == len(set(seen)) and set(seen) == made, limit
    hits = find(subject_for(coordinator), "paging probe", sort="date", limit=20).hits
    assert [h.date for h in hits] == sorted((h.date for h in hits), reverse=True)
    assert {h.kind for h in hits[:2]} == {"report", "threat"}  # interleaved by date, not one source after the other
    for limit in (1, 3, 7):
        seen = every_page(coordinator, "paging probe", limit=limit)
        assert len(seen) == len(set(seen)) and set(seen) == made, limit


def test_date_order_pages_across_both_sources_at_one_instant(coordinator: Any) -> None:
    reports = [report(coordinator, f"Instant probe {n}").pk for n in range(3)]
    threats = [o.pk for o in store(coordinator, *(malware(f"Instant probe {n}") for n in range(3)))]
    instant = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    SearchEntry.objects.filter(kind="report", record_id__in=reports).update(date=instant)
    StixObject.objects.filter(pk__in=threats).update(created_at=instant)
    expected = [("report", pk) for pk in sorted(reports, reverse=True)] + \
        [("threat", pk) for pk in sorted(threats, reverse=True)]
    for limit in (1, 2, 4, 6):
        assert every_page(coordinator, "instant probe", sort="date", limit=limit) == expected, limit


def test_a_threat_hit_opens_the_objects_page(coordinator: Any, korean: Any) -> None:
    obj = store(coordinator, malware("Hanami stealer"))[0]
    [hit] = threat_hits(find(subject_for(korean), "hanami"))
    client = Client()
    client.force_login(korean)
    response = client.get(hit.url)
    assert response.status_code == 200 and obj.stix_id in response.content.decode()


def test_the_page_the_api_and_the_cli_show_threat_hits(coordinator: Any, korean: Any, api_for: Any) -> None:
    obj = store(coordinator, malware("Fuji backdoor", "A backdoor named after the mountain"))[0]
    store(coordinator, malware("Fuji implant"), label=JPN_ONLY)
    client = Client()
    client.force_login(korean)
    html = client.get("/search/?q=fuji").content.decode()
    assert f'href="/threats/objects/{obj.stix_id}/"' in html and "Threat object" in html
    assert "Fuji implant" not in html
    assert "/search/?q=fuji&amp;type=threat" in html or "type=threat" in html  # the type facet's link
    html = client.get("/search/?q=fuji&type=threat").content.decode()
    assert f'href="/threats/objects/{obj.stix_id}/"' in html
    body = api_for(korean).get("search?q=" + quote("fuji")).json()
    [item] = body["items"]
    assert item["type"] == "threat" and item["id"] == obj.pk and item["stix_id"] == obj.stix_id
    assert item["url"] == f"/threats/objects/{obj.stix_id}/" and item["label"]["categories"]["releasable_to"]
    assert body["total"] == 1 and body["facets"]["type"] == [{"value": "threat", "name": "Threat object", "count": 1}]
    assert body["threats"]["count"] == 1
    dated = api_for(korean).get("search?q=fuji&type=threat&sort=date&limit=1").json()
    assert [i["stix_id"] for i in dated["items"]] == [obj.stix_id] and dated["next_cursor"] is None
    out = kizuna("search", "find", "fuji", "--user", "minjun").out
    assert f"/threats/objects/{obj.stix_id}/" in out and "Fuji implant" not in out


def test_the_threat_type_name_is_translated(coordinator: Any, korean: Any) -> None:
    store(coordinator, malware("Ginkgo wiper"))
    korean.language = "ja"
    korean.save()
    client = Client()
    client.force_login(korean)
    html = client.get("/search/?q=ginkgo").content.decode()
    assert '<span class="search-hit__type">脅威オブジェクト</span>' in html and "Threat object" not in html


def test_a_hidden_threat_object_answers_as_a_missing_one_on_the_page_and_the_api(coordinator: Any, korean: Any,
                                                                                  api_for: Any) -> None:
    hidden = store(coordinator, malware("Sumire implant", "Japanese eyes only"), label=JPN_ONLY)[0]
    mine = api_for(coordinator).get("search?q=sumire").json()
    assert [i["stix_id"] for i in mine["items"]] == [hidden.stix_id]  # its reader finds it ...
    api = api_for(korean)
    found, missing = api.get("search?q=sumire").json(), api.get("search?q=zqzqzq").json()
    assert {k: v for k, v in found.items() if k not in ("query", "terms")} == \
        {k: v for k, v in missing.items() if k not in ("query", "terms")}  # ... the Korean reader finds nothing

    def main(query: str) -> str:
        client = Client()
        client.force_login(korean)
        html = client.get(f"/search/?q={query}").content.decode()
        return html[html.index('<main id="main"'):html.index("</main>")].replace(query, "Q")

    assert main("sumire") == main("zqzqzq")


def test_threat_candidates_are_the_newest_few(coordinator: Any) -> None:
    from unittest import mock

    made = [o.pk for o in store(coordinator, *(malware(f"Bounded kit {n}") for n in range(4)))]
    with mock.patch("kizuna.search.query.MAX_THREATS", 2):
        results = find(subject_for(coordinator), "bounded kit", limit=10)
        by_date = every_page(coordinator, "bounded kit", sort="date", limit=3)
    assert results.capped and results.total == 2 and results.facets["type"][0].count == 2
    assert sorted(h.record_id for h in results.hits) == sorted(made)[-2:]  # relevance ranks the newest two
    assert sorted(pk for _kind, pk in by_date) == sorted(made)  # the date order pages over every match
