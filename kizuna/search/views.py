"""The search results page (``/search/?q=``), reached from the box in every page's header: hits with snippets and
their labels, facets as filter links, the sort toggle, keyset or offset pages, and the glossary equivalents that
were also searched. Thin: ``find`` does the work inside the label rule; the page notes every hit's label for its
banners and audits the read as list pages do."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kizuna.core import audit
from kizuna.core.access import label_display, label_of
from kizuna.core.errors import ServiceError
from kizuna.directory.subjects import subject_for
from kizuna.search.query import Results, Sort, find
from kizuna.web.banner import chip_class, note_labels
from kizuna.web.shortcuts import signed_in_user

PAGE_SIZE = 20
_FILTERS = ("type", "area", "nation", "label", "year")


def audit_search(actor: str, results: Results, address: str) -> None:
    """One audit entry per page of results shown, naming the records as ``type:id`` (as list reads name theirs)."""
    if results.hits:
        audit.record(actor, "search", "search", [f"{h.kind}:{h.record_id}" for h in results.hits],
                     results.hits[0].label.pk if len(results.hits) == 1 else None, address,
                     detail={"q": results.query[:200]})


def _int(value: str) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    q = request.GET.get("q", "")
    chosen = {key: request.GET.get(key, "") for key in _FILTERS}
    sort: Sort = "date" if request.GET.get("sort") == "date" else "relevance"
    cursor = request.GET.get("cursor") or None
    base = {"q": q, **{k: v for k, v in chosen.items() if v}, **({"sort": sort} if sort == "date" else {})}
    results: Results | None = None
    error = ""
    status = 200
    if q.strip():
        try:
            results = find(subject_for(user), q, types=[chosen["type"]] if chosen["type"] else None,
                           area=chosen["area"] or None, nation=chosen["nation"] or None,
                           label=_int(chosen["label"]), year=_int(chosen["year"]), sort=sort, cursor=cursor,
                           limit=PAGE_SIZE)
        except ServiceError as exc:
            error, status = exc.message, 400
        else:
            note_labels(request, *(h.label for h in results.hits))
            audit_search(user.username, results, audit.client_address(request))

    def link(**changes: str) -> str:
        params = {**base, **changes}
        return "?" + urlencode({k: v for k, v in params.items() if v})

    rows: list[dict[str, Any]] = []
    facets: list[dict[str, Any]] = []
    next_url = ""
    suggestion_url = ""
    if results is not None:
        rows = [{"hit": h, "label": label_display(label_of(h.label)),
                 "chip": chip_class(h.label.policy, h.label.classification)} for h in results.hits]
        for key, values in results.facets.items():
            if values:
                facets.append({"key": key, "clear": link(**{key: ""}) if chosen.get(key) else "",
                               "values": [{"facet": f, "url": link(**{key: f.value}),
                                           "current": chosen.get(key) == f.value} for f in values]})
        if results.next_cursor:
            next_url = link(cursor=results.next_cursor)
        if results.suggestion:
            suggestion_url = link(q=results.suggestion, cursor="")
    context = {
        "q": q, "results": results, "rows": rows, "facets": facets, "error": error, "sort": sort,
        "sort_relevance_url": link(sort=""), "sort_date_url": link(sort="date"), "next_url": next_url,
        "suggestion_url": suggestion_url,
        "first_url": link() if cursor else "",
    }
    return render(request, "search/search.html", context, status=status)
