"""What the consultation pages share: the zone a time is read in and how it is written, the URLs of the pages (one
``reverse`` for many rows), label chips and markings, and the frame of an organiser's form on one meeting (the
refusal, the form page, the agenda items offered, the publish buttons).

Display strings are made here with Django's ``dateformat`` on datetimes already in the wanted zone (the templates'
``date`` filter would convert to the request's zone, which is wrong for the home-zone and capital columns).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.consultations import queries
from kizuna.consultations.models import AgendaItem, Meeting, MeetingStatus, Series
from kizuna.consultations.timezones import is_known_zone
from kizuna.core import audit
from kizuna.core.access import label_display, label_of
from kizuna.core.dates import format_local
from kizuna.core.errors import ServiceError
from kizuna.core.models import LabelRecord
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.web import shortcuts
from kizuna.web.banner import chip_class, note_labels
from kizuna.web.labelpicker import LabelChoice, default_choice
from kizuna.web.shortcuts import apply_service_error, signed_in_user
from kizuna.web.templatetags.kizuna_web import label_chip

# How a time reads on a meeting's pages: "Tue 2 Jun 2026, 09:00", "2026年6月2日(火) 09:00" (named formats of
# kizuna/core/formats). Django's formatter translates day and month names and, unlike the |date filter, keeps the
# datetime in its own zone instead of the viewer's.
DAY_TIME = "MEETING_DATETIME_FORMAT"
DAY = "SHORT_DAY_FORMAT"
TIME = "H:i"


def alliance_label(user: User) -> LabelChoice:
    """Where a new meeting or series starts: releasable to NATO and the IP4 partners (the office's whole audience),
    at the lowest classification. A consultation brings nations together; starting at the organiser's own nation
    would shut out every partner they invite."""
    return replace(default_choice(user), releasable_to=["IP4", "NATO"], preset="nato_ip4")


# --- zones and times -----------------------------------------------------------------------------------------------

def viewer_zone(user: User) -> ZoneInfo:
    """The zone the viewer reads times in: their own setting, or UTC when it is empty or not a known IANA name."""
    name = user.timezone or "UTC"
    return ZoneInfo(name if is_known_zone(name) else "UTC")


def zone_or_utc(name: str) -> ZoneInfo:
    """A record's zone (a meeting's home zone), or UTC should it not load."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def fmt(value: datetime | date, pattern: str) -> str:
    """Format in the value's own zone (no conversion) with a named format of the active language (kizuna/core/formats)
    or a literal pattern, day and month names translated."""
    return format_local(value, pattern)


def utc_offset(value: datetime, minus: str = "-") -> str:
    """"UTC+09:00"; the meeting pages write a negative offset with a true minus sign (``minus="−"``)."""
    delta = value.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else minus
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_context(zone: ZoneInfo) -> dict[str, str]:
    now = timezone.now().astimezone(zone)
    return {"zone_name": str(zone.key), "zone_offset": utc_offset(now)}


def span(start: datetime, end: datetime, zone: ZoneInfo) -> dict[str, str]:
    """A meeting's time in one zone: "Tue 2 Jun 2026, 09:00 – 11:00" (the end's day only when it differs)."""
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    end_text = fmt(local_end, TIME if local_end.date() == local_start.date() else DAY_TIME)
    return {"start": fmt(local_start, DAY_TIME), "end": end_text, "zone": str(zone.key),
            "offset": utc_offset(local_start, "−"), "iso": local_start.isoformat()}


# --- URLs ----------------------------------------------------------------------------------------------------------

def meeting_url(meeting: Meeting | int, anchor: str = "") -> str:
    pk = meeting if isinstance(meeting, int) else meeting.pk
    return reverse("consultations:meeting", args=[pk]) + (f"#{anchor}" if anchor else "")


def meeting_create_url(series: Series | None = None, start: datetime | None = None,
                       end: datetime | None = None) -> str:
    """The meeting form, prefilled: the series, and the start (and end) as ISO 8601 with their offset."""
    params: dict[str, str] = {}
    if series is not None:
        params["series"] = str(series.pk)
    if start is not None:
        params["start"] = start.isoformat()
    if end is not None:
        params["end"] = end.isoformat()
    return reverse("consultations:meeting_create") + ("?" + urlencode(params) if params else "")


def calendar_url(view: str, day: date | None, series_id: int | None) -> str:
    params: dict[str, str] = {"view": view}
    if day is not None:
        params["date"] = day.isoformat()
    if series_id is not None:
        params["series"] = str(series_id)
    return reverse("consultations:calendar") + "?" + urlencode(params)


class RowUrls:
    """The URL of one named page for many rows: ``reverse`` once with a placeholder id, then each id put in its place
    (reverse per row cost more than the rest of the row)."""

    PLACEHOLDER = 987654321

    def __init__(self, name: str) -> None:
        probe = reverse(name, args=[self.PLACEHOLDER])
        self.head, _sep, self.tail = probe.partition(str(self.PLACEHOLDER))

    def __call__(self, pk: int) -> str:
        return f"{self.head}{pk}{self.tail}"


# --- labels --------------------------------------------------------------------------------------------------------

class Chips:
    """Label display strings and chip classes, computed once per distinct label of a page (labels are few)."""

    def __init__(self) -> None:
        self._seen: dict[int, dict[str, str]] = {}

    def __call__(self, record: LabelRecord) -> dict[str, str]:
        found = self._seen.get(record.pk)
        if found is None:
            text, css = label_display(label_of(record)), chip_class(record.policy, record.classification)
            # The one label chip (kizuna_web's label_chip), made once per label rather than once per row.
            found = {"text": text, "chip": css, "html": label_chip(text, css)}
            self._seen[record.pk] = found
        return found


def marking(record: LabelRecord) -> dict[str, str]:
    return {"text": label_display(label_of(record)), "chip": chip_class(record.policy, record.classification)}


def person(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


# --- an organiser's forms on one meeting -----------------------------------------------------------------------------

def forbidden(request: HttpRequest, meeting: Meeting | None, message: str) -> HttpResponse:
    """The reader may see the meeting but not change it: say so plainly (it is no secret that the meeting exists)."""
    back = reverse("consultations:meeting", args=[meeting.pk]) if meeting else ""
    return shortcuts.forbidden(request, message, record=meeting, back_url=back, back_text=_("Back to the meeting"))


def _refusal(request: HttpRequest, meeting: Meeting, what: str) -> HttpResponse | None:
    """The refusal (``what``) unless the user may organise the meeting, or a redirect once it is cancelled; None to
    go on."""
    user = signed_in_user(request)
    if not queries.may_organise(user, meeting):
        return forbidden(request, meeting, what)
    if meeting.status == MeetingStatus.CANCELLED:
        messages.error(request, _("This meeting has been cancelled and can no longer be changed."))
        return redirect(meeting_url(meeting))
    return None


OrganiserView = Callable[..., HttpResponse]


def organisers_only(refusal: str | Promise) -> Callable[[OrganiserView], Callable[..., HttpResponse]]:
    """A page of one meeting (``pk`` in the URL) that only its organisers may use, while it is not cancelled: the view
    is called as ``view(request, user, meeting, **the other URL arguments)`` with the meeting read through
    ``queries.get_meeting_or_404``; anyone else gets ``refusal`` (a lazy translation, read per request)."""
    def decorate(view: OrganiserView) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def page(request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
            user = signed_in_user(request)
            meeting = queries.get_meeting_or_404(user, pk)
            refused = _refusal(request, meeting, str(refusal))
            if refused is not None:
                return refused
            return view(request, user, meeting, **kwargs)
        return page
    return decorate


def save_form(request: HttpRequest, form: forms.Form, write: Callable[[], Any], done: str,
              then: Callable[[Any], str], aliases: dict[str, str] | None = None) -> HttpResponse | None:
    """A valid form's write: its refusal shown on the form (None: the caller shows the form again), else ``done`` as a
    message and a redirect to ``then(what the write returned)``."""
    try:
        record = write()
    except ServiceError as exc:
        apply_service_error(form, exc, aliases)
        return None
    messages.success(request, done)
    return redirect(then(record))


def item_form_page(request: HttpRequest, meeting: Meeting, form: Any, template: str, **extra: Any) -> HttpResponse:
    context = {"form": form, "meeting": meeting, **marking(meeting.label), **extra}
    return render(request, template, context, status=400 if form.is_bound else 200)


def item_choices(request: HttpRequest, user: User, meeting: Meeting) -> list[tuple[int, str]]:
    """The agenda items a form may point at, as the user sees the agenda (their titles are shown: labels noted)."""
    items = queries.agenda_for(user, meeting)
    note_labels(request, *(i.label for i in items))
    return [(i.pk, f"{n}. {i.title}") for n, i in enumerate(items, start=1)]  # numbered among what the user sees


def chosen_agenda_item(user: User, meeting: Meeting, pk: int | None) -> AgendaItem | None:
    """The agenda item chosen on a form, through visible_to; one the user may not see is "no such agenda item"."""
    if pk is None:
        return None
    found = AgendaItem.objects.visible_to(subject_for(user)).filter(meeting=meeting, pk=pk).first()
    if found is None:
        raise ServiceError(_("no such agenda item"), "agenda_item")
    return found


def publish_view(write: Callable[[User, Meeting, str], Meeting], done: str | Promise,
                 anchor: str) -> Callable[[HttpRequest, int], HttpResponse]:
    """The view of a publish (or back to draft) button of the agenda or the minutes: the write (the service refuses
    whoever may not organise), its message, back to that part of the meeting page."""
    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        meeting = queries.get_meeting_or_404(user, pk)
        try:
            write(user, meeting, audit.client_address(request))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, str(done))
        return redirect(meeting_url(meeting, anchor))
    return view
