"""``GET /api/v1/search``: the node-wide search of the REST API (``kizuna.search.query.find``), audited like a list
read. Hits carry their record's own page (``url``) and a snippet in HTML (the record's text escaped, matches in
``<mark>``). Threat objects are among the hits (``type`` "threat", ``stix_id`` their STIX id)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from kizuna.core.access import label_display, label_of
from kizuna.core.audit import client_address
from kizuna.core.schemas import ERRORS, LabelOut, Out
from kizuna.directory.subjects import subject_for
from kizuna.search.query import Results, find
from kizuna.search.views import audit_search
from kizuna.web.apiauth import caller

router = Router(tags=["search"])


class HitOut(Out):
    type: str
    id: int
    title: str
    url: str
    snippet: str
    label: LabelOut
    label_display: str
    date: datetime
    area: str
    nation: str
    stix_id: str | None = Field(None, description="A threat object's STIX id (type threat); null for other hits.")


class FacetValueOut(Out):
    value: str
    name: str
    count: int


class ThreatsOut(Out):
    count: int
    capped: bool
    url: str


class SearchOut(Out):
    query: str
    terms: list[str]
    expansions: list[str]
    total: int
    capped: bool
    items: list[HitOut]
    next_cursor: str | None
    facets: dict[str, list[FacetValueOut]]
    threats: ThreatsOut | None
    suggestion: str | None


def results_out(results: Results) -> dict[str, Any]:
    items = []
    for hit in results.hits:
        label = label_of(hit.label)
        items.append({"type": hit.kind, "id": hit.record_id, "title": hit.title, "url": hit.url,
                      "snippet": str(hit.snippet), "label": label.as_api(), "label_display": label_display(label),
                      "date": hit.date, "area": hit.area, "nation": hit.nation, "stix_id": hit.stix_id or None})
    return {
        "query": results.query, "terms": list(results.terms), "expansions": list(results.expansions),
        "total": results.total, "capped": results.capped, "items": items, "next_cursor": results.next_cursor,
        "facets": {k: [{"value": f.value, "name": f.name, "count": f.count} for f in v]
                   for k, v in results.facets.items()},
        "threats": (None if results.threats is None else
                    {"count": results.threats.count, "capped": results.threats.capped, "url": results.threats.url}),
        "suggestion": results.suggestion,
    }


@router.get("/search", response={200: SearchOut, **ERRORS}, summary="Search every record type the caller may see")
def search(request: HttpRequest, q: str = "",
           types: list[str] | None = Query(None, alias="type"),  # noqa: B008 - Ninja's way to declare a repeated parameter
           area: str = "", nation: str = "", label: int | None = None, year: int | None = None,
           sort: Literal["relevance", "date"] = "relevance", cursor: str | None = None,
           limit: int = 20) -> dict[str, Any]:
    """Every word of ``q`` (a "quoted phrase" as one), or any glossary equivalent in another language, as a
    substring of a record's title or text; only records whose label the caller may see, in every hit, count and
    facet. Threat objects (type ``threat``, area ``cyber``) are among the hits: what the threat search of the cyber
    page finds for ``q`` (name, description, value, domain, network, hash), the newest 200 of them in the total, the
    facets and the relevance order; ``id`` is the stored version's id, ``stix_id`` the object's STIX id, ``url`` its
    page. ``type`` (repeatable: report, practice, term, series, meeting, agenda-item, minutes, decision, action,
    threat), ``area``, ``nation``, ``label`` (a label id from the facets) and ``year`` narrow the hits (facets count
    before them). ``sort``: relevance or date (newest first, over every match of both kinds). Pass ``next_cursor``
    back as ``cursor`` for the next page. ``total`` and the facets count at most the newest 200 matching records
    and 200 threat objects (``capped``: there were more; relevance ranks those). ``threats``: how many threat objects
    the threat search finds for ``q``, and its page. ``suggestion`` ("did you mean"): when the first page finds
    nothing, a corrected ``q`` (from the glossary terms the caller may see) that finds something with the same
    filters, else null."""
    user = caller(request)
    results = find(subject_for(user), q, types=types or None, area=area or None, nation=nation or None, label=label,
                   year=year, sort=sort, cursor=cursor or None, limit=limit)
    audit_search(user.username, results, client_address(request))
    return results_out(results)
