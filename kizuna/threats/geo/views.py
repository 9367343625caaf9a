"""Maritime and strategic pages: lists on an offline map, a timeline of strategic events, detail pages, create forms.

Every read starts from ``kizuna.threats.queries`` (``visible_objects`` / ``get_object_or_404``: the label rule in the
query), so what a reader may not see is neither listed, nor drawn on the map, nor found by id (404). Objects come
from partners too: their extension values are read defensively (a marker only for a position that is in range).
Writes go through ``kizuna.threats.geo.services``; a ``ServiceError`` becomes a form error and nothing is stored.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kizuna.core import audit
from kizuna.core.access import label_display, label_of
from kizuna.core.dates import format_local
from kizuna.core.errors import ServiceError
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Subject
from kizuna.stix.timestamps import parse_timestamp_or_none
from kizuna.threats import queries
from kizuna.threats.geo import basemap, forms, services, stix
from kizuna.threats.models import StixObject
from kizuna.web.banner import chip_class, note_labels
from kizuna.web.labelpicker import describe
from kizuna.web.shortcuts import forbidden, signed_in_user

LIST_LIMIT = 500  # the most recent; a map with more markers is unreadable anyway (the STIX export has them all)
_CHOICE_NAMES = {
    **dict(forms.MARITIME_TYPE_CHOICES), **dict(forms.SITE_TYPE_CHOICES), **dict(forms.EVENT_TYPE_CHOICES),
}
_STATUS_NAMES = dict(forms.SITE_STATUS_CHOICES)


def _kind_name(code: Any) -> str:
    return str(_CHOICE_NAMES.get(str(code), str(code or "")))


@dataclass
class Item:
    """One maritime incident, strategic site or strategic event, read from its stored STIX JSON for display."""

    row: StixObject
    data: dict[str, Any]
    ext: dict[str, Any]
    kind: str  # "maritime", "site" or "event"
    latitude: float | None = None
    longitude: float | None = None
    when: datetime | None = None
    until: datetime | None = None
    site: Item | None = None
    photos: list[dict[str, str]] = field(default_factory=list)

    @property
    def stix_id(self) -> str:
        return self.row.stix_id

    @property
    def title(self) -> str:
        return str(self.data.get("name") or self.row.name or self.row.stix_id)

    @property
    def type_name(self) -> str:
        key = {"maritime": "observation_type", "site": "site_type", "event": "event_type"}[self.kind]
        return _kind_name(self.ext.get(key))

    @property
    def status_name(self) -> str:
        return str(_STATUS_NAMES.get(str(self.ext.get("status")), self.ext.get("status") or ""))

    @property
    def url(self) -> str:
        name = "geo:maritime_detail" if self.kind == "maritime" else "geo:strategic_detail"
        return reverse(name, args=[self.row.stix_id])

    @property
    def label_text(self) -> str:
        return label_display(label_of(self.row.label))

    @property
    def chip(self) -> str:
        return chip_class(self.row.label.policy, self.row.label.classification)

    @property
    def vessels(self) -> list[stix.Vessel]:
        raw = self.ext.get("vessels")
        return [stix.Vessel.from_stix(v) for v in raw if isinstance(v, dict)] if isinstance(raw, list) else []

    @property
    def notified_to(self) -> list[str]:
        raw = self.ext.get("notified_to")
        return [str(v) for v in raw] if isinstance(raw, list) else []

    @property
    def has_position(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def confidence(self) -> int | None:
        value = self.data.get("confidence")
        return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100 else None

    @property
    def confidence_wording(self) -> str:
        return stix.wep_wording(self.confidence) if self.confidence is not None else ""


_EXTENSION = {"maritime": stix.MARITIME_EXTENSION_ID, "site": stix.SITE_EXTENSION_ID, "event": stix.EVENT_EXTENSION_ID}
_TYPE = {"maritime": "incident", "site": "location", "event": "incident"}


def _item(row: StixObject, kind: str) -> Item | None:
    try:
        data = json.loads(row.data)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    ext = stix.extension_of(data, _EXTENSION[kind])
    if ext is None:
        return None
    item = Item(row, data, ext, kind)
    source = data if kind == "site" else ext
    item.latitude = stix.coordinate(source.get("latitude"), -90, 90)
    item.longitude = stix.coordinate(source.get("longitude"), -180, 180)
    if kind == "maritime":
        item.when = parse_timestamp_or_none(str(ext.get("observed_start") or ""))
        item.until = parse_timestamp_or_none(str(ext.get("observed_end") or ""))
    elif kind == "event":
        item.when = parse_timestamp_or_none(str(ext.get("event_start") or ""))
        item.until = parse_timestamp_or_none(str(ext.get("event_end") or ""))
    else:
        item.when = parse_timestamp_or_none(row.created)
    return item


def _items(subject: Subject, kind: str, ids: list[str] | None = None) -> list[Item]:
    qs = (
        queries.visible_objects(subject, types=[_TYPE[kind]])
        .filter(data__contains=_EXTENSION[kind])
        .select_related("label", "originator")
    )
    if ids is not None:
        qs = qs.filter(stix_id__in=ids)
    rows = qs.order_by("-created_at", "-id")[:LIST_LIMIT]
    items = [i for i in (_item(r, kind) for r in rows) if i is not None]
    items.sort(key=lambda i: (i.when is not None, i.when or datetime.min), reverse=True)
    return items


def _attach_sites(subject: Subject, events: list[Item]) -> None:
    """An event at a site is drawn at the site; the site only when the reader may see it."""
    wanted = sorted({str(e.ext.get("site_ref")) for e in events if e.ext.get("site_ref")})
    if not wanted:
        return
    sites = {s.stix_id: s for s in _items(subject, "site", wanted)}
    for event in events:
        site = sites.get(str(event.ext.get("site_ref") or ""))
        if site is not None:
            event.site = site
            if not event.has_position:
                event.latitude, event.longitude = site.latitude, site.longitude


def _photos(subject: Subject, item: Item) -> None:
    """Photos are artifacts under their own labels: shown only when visible, inline as data: URIs (CSP img-src)."""
    refs = item.ext.get("evidence_refs")
    if not isinstance(refs, list):
        return
    ids = [str(r) for r in refs if isinstance(r, str) and r.startswith("artifact--")][:20]
    for row in queries.visible_objects(subject, types=["artifact"]).filter(stix_id__in=ids):
        try:
            data = json.loads(row.data)
        except ValueError:
            continue
        mime = data.get("mime_type")
        payload = data.get("payload_bin")
        if mime in services.PHOTO_TYPES and isinstance(payload, str) and payload.isascii():
            item.photos.append({"src": f"data:{mime};base64,{payload}", "id": row.stix_id})


@dataclass
class Marker:
    x: float
    y: float
    kind: str
    title: str
    url: str


def _query(request: HttpRequest, **changes: str) -> str:
    """The current query string with some parameters changed (switching the area keeps the type filter)."""
    params = request.GET.copy()
    for key, value in changes.items():
        params[key] = value
    return params.urlencode()


def _map(request: HttpRequest, items: list[Item], closest: bool = False) -> dict[str, Any]:
    """The map context; with ``closest`` (a detail page) and no area asked for, the smallest area that shows it."""
    view = basemap.view_for(request.GET.get("view"))
    if closest and not request.GET.get("view"):
        placed = [i for i in items if i.latitude is not None and i.longitude is not None]
        close = basemap.VIEWS["east-asia"]
        if placed and all(close.contains(i.longitude or 0.0, i.latitude or 0.0) for i in placed):
            view = close
    markers: list[Marker] = []
    outside: list[Item] = []
    for item in items:
        if item.latitude is None or item.longitude is None:
            continue
        if not view.contains(item.longitude, item.latitude):
            outside.append(item)
            continue
        x, y = view.project(item.longitude, item.latitude)
        when = format_local(item.when, "WHEN_DATE_FORMAT") if item.when else ""
        title = " · ".join(p for p in (item.title, item.type_name, when) if p)
        markers.append(Marker(x, y, item.kind, title, item.url))
    return {
        "width": int(basemap.WIDTH), "height": view.height, "view": view.key,
        "views": [(key, key == view.key, _query(request, view=key)) for key in basemap.VIEWS],
        # Built by basemap from the vendored file only, with names escaped: the one value marked safe here.
        "base": mark_safe(basemap.base_svg(view.key)),  # noqa: S308
        "markers": markers, "outside": outside,
    }


def _note(request: HttpRequest, items: list[Item]) -> None:
    note_labels(request, *(i.row.label for i in items))


def _audit(request: HttpRequest, user: User, items: list[Item], action: str) -> None:
    if items:
        audit.record(user.username, action, "stix", [i.stix_id for i in items[:100]],
                     items[0].row.label_id if len(items) == 1 else None, audit.client_address(request))


# --- maritime ---------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def maritime_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    items = _items(subject_for(user), "maritime")
    kind = request.GET.get("type", "")
    if kind in stix.MARITIME_TYPES:
        items = [i for i in items if i.ext.get("observation_type") == kind]
    _note(request, items)
    _audit(request, user, items, "list")
    return render(request, "geo/maritime_list.html", {
        "rows": items, "map": _map(request, items), "types": forms.MARITIME_TYPE_CHOICES, "type": kind,
        "may_create": user.can_contribute,
    })


def _detail_item(request: HttpRequest, stix_id: str, kinds: tuple[str, ...]) -> tuple[User, Item]:
    user = signed_in_user(request)
    row = queries.get_object_or_404(subject_for(user), stix_id)
    for kind in kinds:
        if row.type == _TYPE[kind]:
            item = _item(row, kind)
            if item is not None:
                return user, item
    raise Http404("not found")


def _detail_context(request: HttpRequest, user: User, item: Item) -> dict[str, Any]:
    subject = subject_for(user)
    _photos(subject, item)
    if item.kind == "event":
        _attach_sites(subject, [item])
    labels = [item.row.label]
    if item.site is not None:
        labels.append(item.site.row.label)
    author = queries.authors(subject, [item.row]).get(item.stix_id)
    if author is not None and author.label is not None:
        labels.append(author.label)  # its name is shown
    note_labels(request, *labels)
    _audit(request, user, [item], "read")
    events: list[Item] = []
    if item.kind == "site":
        events = [e for e in _items(subject, "event") if e.ext.get("site_ref") == item.stix_id]
        note_labels(request, *(e.row.label for e in events))
    return {
        "item": item, "map": _map(request, [item], closest=True), "events": events,
        "audience": describe(label_of(item.row.label), user, add_own_organisation=False),
        "author": author,
        "object_url": reverse("threats:object", args=[item.stix_id]),  # raw object, versions, sightings
    }


@login_required
@require_GET
def maritime_detail(request: HttpRequest, stix_id: str) -> HttpResponse:
    user, item = _detail_item(request, stix_id, ("maritime",))
    return render(request, "geo/maritime_detail.html", _detail_context(request, user, item))


@login_required
@require_http_methods(["GET", "POST"])
def maritime_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not user.can_contribute:
        return forbidden(request, _("Your role does not allow writing; ask a coordinator."))
    if request.method == "POST":
        form = forms.MaritimeForm(request.POST, request.FILES, user=user)
        vessels = forms.VesselFormSet(request.POST, prefix="vessel")
        if form.is_valid() and vessels.is_valid():
            d = form.cleaned_data
            entry = stix.MaritimeInput(
                title=d["title"], observation_type=d["observation_type"], observing_unit=d["observing_unit"],
                observed_start=d["observed_start"], observed_end=d["observed_end"],
                latitude=d["latitude"], longitude=d["longitude"], position_text=d["position_text"],
                vessels=[stix.Vessel(**v) for v in vessels.cleaned_data if v and any(v.values())],
                observed=d["observed"], evidence=d["evidence"], assessment=d["assessment"],
                notified_to=d["notified_to"],
            )
            try:
                stix_id = services.do_create_maritime(user, entry, d["label"], d["photo"])
            except ServiceError as exc:
                forms.apply_service_error(form, exc)
            else:
                messages.success(request, _("The maritime report was stored."))
                return redirect("geo:maritime_detail", stix_id=stix_id)
    else:
        form = forms.MaritimeForm(user=user)
        vessels = forms.VesselFormSet(prefix="vessel")
    return render(request, "geo/maritime_form.html", {"form": form, "vessels": vessels},
                  status=400 if form.is_bound else 200)


# --- strategic --------------------------------------------------------------------------------------------------------


def _by_month(events: list[Item]) -> list[tuple[datetime, list[Item]]]:
    """Newest month first; within a month, in date order (a timeline reads forwards)."""
    months: OrderedDict[tuple[int, int], list[Item]] = OrderedDict()
    for event in sorted((e for e in events if e.when), key=lambda e: e.when or datetime.min, reverse=True):
        assert event.when is not None
        months.setdefault((event.when.year, event.when.month), []).append(event)
    return [(items[0].when or datetime.min, sorted(items, key=lambda e: e.when or datetime.min))
            for items in months.values()]


@login_required
@require_GET
def strategic(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    subject = subject_for(user)
    sites = _items(subject, "site")
    events = _items(subject, "event")
    _attach_sites(subject, events)
    _note(request, sites + events)
    _audit(request, user, sites + events, "list")
    return render(request, "geo/strategic.html", {
        "sites": sites, "months": _by_month(events), "undated": [e for e in events if e.when is None],
        "map": _map(request, sites + [e for e in events if e.site is None]), "may_create": user.can_contribute,
    })


@login_required
@require_GET
def strategic_detail(request: HttpRequest, stix_id: str) -> HttpResponse:
    user, item = _detail_item(request, stix_id, ("site", "event"))
    return render(request, "geo/strategic_detail.html", _detail_context(request, user, item))


@login_required
@require_http_methods(["GET", "POST"])
def site_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not user.can_contribute:
        return forbidden(request, _("Your role does not allow writing; ask a coordinator."))
    form = forms.SiteForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        entry = stix.SiteInput(
            name=d["name"], site_type=d["site_type"], status=d["status"], latitude=d["latitude"],
            longitude=d["longitude"], country=d["country"], position_text=d["position_text"],
            description=d["description"], evidence=d["evidence"],
        )
        try:
            stix_id = services.do_create_site(user, entry, d["label"], d["photo"])
        except ServiceError as exc:
            forms.apply_service_error(form, exc)
        else:
            messages.success(request, _("The site was stored."))
            return redirect("geo:strategic_detail", stix_id=stix_id)
    return render(request, "geo/site_form.html", {"form": form}, status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def event_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not user.can_contribute:
        return forbidden(request, _("Your role does not allow writing; ask a coordinator."))
    form = forms.EventForm(request.POST or None, request.FILES or None, user=user,
                           initial={"site": request.GET.get("site", "")})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        entry = stix.EventInput(
            title=d["title"], event_type=d["event_type"], event_start=d["event_start"], event_end=d["event_end"],
            site_ref=d["site"], latitude=d["latitude"], longitude=d["longitude"], position_text=d["position_text"],
            description=d["description"], evidence=d["evidence"], assessment=d["assessment"],
            confidence=d["confidence"],
        )
        try:
            stix_id = services.do_create_event(user, entry, d["label"], d["photo"])
        except ServiceError as exc:
            forms.apply_service_error(form, exc)
        else:
            messages.success(request, _("The event was stored."))
            return redirect("geo:strategic_detail", stix_id=stix_id)
    return render(request, "geo/event_form.html", {"form": form}, status=400 if form.is_bound else 200)
