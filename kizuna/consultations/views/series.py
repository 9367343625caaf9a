"""The series pages: the list, one series (its cadence in words, next occurrences in the viewer's and the home zone,
past and upcoming meetings, open actions), and the forms that create and change a series.

A series the reader may not see is a 404 exactly like a missing one (``queries.get_series_or_404``); every write goes
through ``services.do_*`` and a ``ServiceError`` becomes a form error.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kizuna.consultations import queries, recurrence, services
from kizuna.consultations.forms import (
    RRULE_EXAMPLES,
    RRULE_PRESETS,
    SeriesForm,
    zone_suggestions,
)
from kizuna.consultations.models import (
    ActionItem,
    Meeting,
    MeetingStatus,
    Series,
)
from kizuna.consultations.recurrence import cadence_words
from kizuna.consultations.timezones import CAPITALS, city_name, is_known_zone
from kizuna.consultations.views.actions import RowKit, action_row
from kizuna.consultations.views.common import (
    Chips,
    alliance_label,
    calendar_url,
    fmt,
    meeting_create_url,
    meeting_url,
    person,
    save_form,
    viewer_zone,
    zone_context,
)
from kizuna.core import audit
from kizuna.core.access import label_of, visible_labels
from kizuna.core.errors import ServiceError
from kizuna.core.focus import FocusArea
from kizuna.directory.subjects import subject_for
from kizuna.web.banner import note_document, note_labels
from kizuna.web.shortcuts import forbidden, signed_in_user

SERIES_PAGE = 50
SERIES_MEETINGS = 20  # past and upcoming meetings on a series page, each
SERIES_ACTIONS = 100
NEXT_OCCURRENCES = 6


def _focus_names(codes: Iterable[str]) -> list[str]:
    names = dict(FocusArea.choices)
    return [str(names.get(code, code)) for code in codes]


def _nation_names(codes: Iterable[str]) -> list[str]:
    return [f"{code} ({city_name(CAPITALS[code].city)})" if code in CAPITALS else code for code in codes]


def _forbidden(request: HttpRequest, message: str, series: Series | None = None) -> HttpResponse:
    """The reader may see the series but not change it (or may not write at all): say so plainly."""
    back = reverse("consultations:series", args=[series.pk]) if series else reverse("consultations:series_list")
    return forbidden(request, message, record=series, back_url=back, back_text=_("Back to the series"))


@login_required
@require_GET
def series_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    zone = viewer_zone(user)
    qs = Series.objects.visible_to(subject_for(user)).select_related("label", "chair").order_by("title", "id")
    page = Paginator(qs, SERIES_PAGE).get_page(request.GET.get("page"))
    chips = Chips()
    now = timezone.now()
    rows = []
    for series in page.object_list:
        try:
            upcoming = recurrence.occurrences(series, now, now + timedelta(days=400))[:1]
        except ServiceError:
            upcoming = []
        rows.append({
            "series": series, "chip": chips(series.label), "focus_areas": _focus_names(series.focus_areas),
            "cadence": cadence_words(series), "chair": person(series.chair),
            "next": fmt(upcoming[0][0].astimezone(zone), "DAY_DATETIME_FORMAT") if upcoming else "",
        })
    note_labels(request, *(s.label for s in page.object_list))
    if page.object_list:
        audit.record(user.username, "list", "series", [s.pk for s in page.object_list], None,
                     audit.client_address(request))
    return render(request, "consultations/series_list.html", {
        "rows": rows, "page": page, "may_create": user.can_contribute, **zone_context(zone)})


@login_required
@require_GET
def series_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    subject = subject_for(user)
    series = queries.get_series_or_404(user, pk)
    zone = viewer_zone(user)
    home = ZoneInfo(series.time_zone) if is_known_zone(series.time_zone) else ZoneInfo("UTC")
    now = timezone.now()
    today = now.astimezone(zone).date()
    visible = visible_labels(subject)
    chips = Chips()

    meetings = Meeting.objects.visible_to(subject).filter(series=series).select_related("label")
    past = list(meetings.filter(start__lt=now).order_by("-start", "-id")[:SERIES_MEETINGS])
    upcoming = list(meetings.filter(start__gte=now).order_by("start", "id")[:SERIES_MEETINGS])
    actions = list(
        ActionItem.objects.visible_to(subject).filter(series=series, status__in=queries.OPEN_STATUSES)
        .select_related("label", "meeting", "owner_user", "owner_organisation")
        .order_by(F("due").asc(nulls_last=True), "id")[:SERIES_ACTIONS]
    )

    try:
        occurrences = recurrence.occurrences(series, now, now + timedelta(days=800))[:NEXT_OCCURRENCES]
    except ServiceError:
        occurrences = []
    planned = {m.start: m for m in upcoming if m.status != MeetingStatus.CANCELLED}
    next_rows = []
    for start, _end in occurrences:
        existing = planned.get(start)
        next_rows.append({
            "start": start,
            "viewer": fmt(start.astimezone(zone), "DAY_DATETIME_FORMAT"),
            "home": fmt(start.astimezone(home), "DAY_DATETIME_FORMAT"),
            "meeting_url": meeting_url(existing.pk) if existing else "",
            "create_url": meeting_create_url(series, start.astimezone(home)),
        })

    def meeting_row(meeting: Meeting) -> dict[str, Any]:
        start, end = meeting.start.astimezone(zone), meeting.end.astimezone(zone)
        return {"meeting": meeting, "href": meeting_url(meeting.pk), "chip": chips(meeting.label),
                "when": f"{fmt(start, 'DAY_DATETIME_FORMAT')}–{fmt(end, 'H:i')}",
                "cancelled": meeting.status == MeetingStatus.CANCELLED}

    kit = RowKit()
    action_rows = [action_row(a, today, visible, chips, kit) for a in actions]
    note_document(request, series.label, *(m.label for m in past + upcoming), *(a.label for a in actions))
    audit.record(user.username, "read", "series", [series.pk], series.label_id, audit.client_address(request),
                 {"meetings": [m.pk for m in past + upcoming], "actions": [a.pk for a in actions]})
    return render(request, "consultations/series_detail.html", {
        "series": series,
        "chip": chips(series.label),
        "focus_areas": _focus_names(series.focus_areas),
        "nations": _nation_names(series.nations),
        "chair": person(series.chair),
        "cadence": cadence_words(series),
        "home_zone": str(home.key),
        "first": (fmt(datetime.combine(series.first_date, series.start_time, tzinfo=home),
                       "DAY_DATETIME_FORMAT")
                  if series.first_date and series.start_time else ""),
        "next_rows": next_rows,
        "past": [meeting_row(m) for m in past],
        "upcoming": [meeting_row(m) for m in upcoming],
        "actions": action_rows,
        "may_edit": queries.may_organise(user, series),
        "create_url": meeting_create_url(series),
        "schedule_url": reverse("consultations:schedule") + "?" + urlencode({"series": series.pk}),
        "calendar_url": calendar_url("list", today, series.pk),
        **zone_context(zone),
    })


def _series_initial(series: Series) -> dict[str, Any]:
    return {
        "title": series.title, "focus_areas": list(series.focus_areas), "nations": list(series.nations),
        "chair": series.chair, "time_zone": series.time_zone, "preset": "custom", "rrule": series.rrule,
        "first_date": series.first_date, "start_time": series.start_time,
        "duration_minutes": series.duration_minutes, "label": label_of(series.label),
    }


def _series_changes(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": data["title"], "label": data["label"], "time_zone": data["time_zone"].strip(),
        "rrule": data["rrule"], "first_date": data["first_date"], "start_time": data["start_time"],
        "duration_minutes": data["duration_minutes"], "focus_areas": list(data["focus_areas"]),
        "nations": list(data["nations"]), "chair": data["chair"],
    }


def _series_url(series: Series) -> str:
    return reverse("consultations:series", args=[series.pk])


def _series_form_page(request: HttpRequest, form: SeriesForm, series: Series | None) -> HttpResponse:
    return render(request, "consultations/series_form.html", {
        "form": form, "series": series, "zones": zone_suggestions(),
        "examples": RRULE_EXAMPLES, "presets": [(title, rule) for _k, title, rule in RRULE_PRESETS],
    }, status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def series_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not user.can_contribute:
        return _forbidden(request, _("Your role does not allow creating consultation series; ask a coordinator."))
    if request.method == "POST":
        form = SeriesForm(request.POST, user=user)
        if form.is_valid():
            saved = save_form(request, form, lambda: services.do_create_series(
                user, services.SeriesInput(**_series_changes(form.cleaned_data)), audit.client_address(request)),
                _("The series was created."), _series_url)
            if saved is not None:
                return saved
    else:
        form = SeriesForm(user=user, initial={"preset": "custom", "first_date": timezone.now().date(),
                                              "label": alliance_label(user)})
    return _series_form_page(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def series_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    series = queries.get_series_or_404(user, pk)
    if not queries.may_organise(user, series):
        return _forbidden(request, _("Only the originating organisation, a coordinator of its nation or the chair may "
                                     "change this series."), series)
    note_labels(request, series.label)
    initial = _series_initial(series)
    if request.method == "POST":
        form = SeriesForm(request.POST, user=user, initial=initial)
        if form.is_valid():
            saved = save_form(request, form, lambda: services.do_update_series(
                user, series, audit.client_address(request), **_series_changes(form.cleaned_data)),
                _("The series was saved."), _series_url)
            if saved is not None:
                return saved
    else:
        form = SeriesForm(user=user, initial=initial)
        audit.record(user.username, "read", "series", [series.pk], series.label_id, audit.client_address(request))
    return _series_form_page(request, form, series)
