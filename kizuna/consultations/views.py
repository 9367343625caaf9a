"""Consultation pages: the calendar (month, week, list), the series (list, page, create, edit), the scheduling
assistant and "my actions" with its status buttons. One meeting's pages are in meeting_urls.py.

Views are thin: every labelled record is read through ``visible_to`` (``queries.calendar_range``,
``queries.my_actions``, ``Series.objects.visible_to`` ...), so a record the reader may not see is a 404 exactly like a
missing one; a related record (an action's meeting, a meeting's series) is named only when its own label is visible
too. Every write goes through ``services.do_*`` and a ``ServiceError`` becomes a form error or a message. Each page
notes the labels it shows for the banner and audits the read.

Times are shown in the viewer's zone (``User.timezone``, UTC when unset or unknown), and the page says which: the
month grid itself is cut at the viewer's midnights, so a meeting at 23:30 UTC is on the next day for a Tokyo reader.
Display strings are made here with Django's ``dateformat`` on datetimes already in the wanted zone (the templates'
``date`` filter would convert to the request's zone, which is wrong for the home-zone and capital columns).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kizuna.consultations import queries, recurrence, services
from kizuna.consultations.forms import (
    RRULE_EXAMPLES,
    RRULE_PRESETS,
    ActionStatusForm,
    CalendarForm,
    ScheduleForm,
    SeriesForm,
    apply_service_error,
    zone_suggestions,
)
from kizuna.consultations.models import ActionItem, ActionStatus, Meeting, MeetingStatus, Series
from kizuna.consultations.recurrence import cadence_words
from kizuna.consultations.timezones import CAPITALS, WorkingHours, is_known_zone, local_times_for, propose_slots
from kizuna.core import audit
from kizuna.core.access import VisibleLabels, get_visible_or_404, label_display, label_of, visible_labels
from kizuna.core.errors import ServiceError
from kizuna.core.focus import FocusArea
from kizuna.core.models import LabelRecord
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.web.banner import chip_class, note_labels
from kizuna.web.shortcuts import signed_in_user

MONTH_CELL_LIMIT = 6  # entries per day in the month grid; the rest are behind "+N more" (the week view)
LIST_DAYS = 28  # one page of the list view
SERIES_PAGE = 50
SERIES_MEETINGS = 20  # past and upcoming meetings on a series page, each
SERIES_ACTIONS = 100
NEXT_OCCURRENCES = 6
SLOT_LIMIT = 20
ACTION_PAGE = 50
OPEN_STATES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
# The status buttons say what they do.
_MOVES: dict[str, Any] = {ActionStatus.OPEN: gettext_lazy("Reopen"), ActionStatus.IN_PROGRESS: gettext_lazy("Start"),
          ActionStatus.DONE: gettext_lazy("Mark done"), ActionStatus.DROPPED: gettext_lazy("Drop")}
ACTION_TABS = [("open", gettext_lazy("Open")), ("overdue", gettext_lazy("Overdue")), ("done", gettext_lazy("Done")),
               ("all", gettext_lazy("All"))]


# --- helpers -------------------------------------------------------------------------------------------------------

def viewer_zone(user: User) -> ZoneInfo:
    """The zone the viewer reads times in: their own setting, or UTC when it is empty or not a known IANA name."""
    name = user.timezone or "UTC"
    return ZoneInfo(name if is_known_zone(name) else "UTC")


def _fmt(value: datetime | date, fmt: str) -> str:
    """Format in the value's own zone (no conversion), with translated day and month names."""
    return dateformat.format(value, fmt)


def _offset(value: datetime) -> str:
    delta = value.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _zone_context(zone: ZoneInfo) -> dict[str, str]:
    now = timezone.now().astimezone(zone)
    return {"zone_name": str(zone.key), "zone_offset": _offset(now)}


def meeting_url(pk: int) -> str:
    """The meeting page (defined in meeting_urls.py by the meeting pages; the plain path until that name exists)."""
    try:
        return reverse("consultations:meeting", args=[pk])
    except NoReverseMatch:
        return f"/consultations/meetings/{pk}/"


class _RowUrls:
    """The URL of one named page for many rows: ``reverse`` once with a placeholder id, then each id put in its place
    (reverse per row cost more than the rest of the row)."""

    _PLACEHOLDER = 987654321

    def __init__(self, name: str, fallback: str) -> None:
        try:
            probe = reverse(name, args=[self._PLACEHOLDER])
        except NoReverseMatch:  # a page another module has not defined yet
            probe = fallback.format(self._PLACEHOLDER)
        self.head, _sep, self.tail = probe.partition(str(self._PLACEHOLDER))

    def __call__(self, pk: int) -> str:
        return f"{self.head}{pk}{self.tail}"


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
    try:
        base = reverse("consultations:meeting_create")
    except NoReverseMatch:
        base = "/consultations/meetings/new/"
    return base + ("?" + urlencode(params) if params else "")


class _Chips:
    """Label display strings and chip classes, computed once per distinct label of a page (labels are few)."""

    def __init__(self) -> None:
        self._seen: dict[int, dict[str, str]] = {}

    def __call__(self, record: LabelRecord) -> dict[str, str]:
        found = self._seen.get(record.pk)
        if found is None:
            text, css = label_display(label_of(record)), chip_class(record.policy, record.classification)
            # The same markup as reports/_label_chip.html, made once per label rather than included per row.
            found = {"text": text, "chip": css,
                     "html": format_html('<span class="label-chip {}" data-testid="label-chip">{}</span>', css, text)}
            self._seen[record.pk] = found
        return found


def _focus_names(codes: Iterable[str]) -> list[str]:
    names = dict(FocusArea.choices)
    return [str(names.get(code, code)) for code in codes]


def _nation_names(codes: Iterable[str]) -> list[str]:
    return [f"{code} ({CAPITALS[code].city})" if code in CAPITALS else code for code in codes]


def _person(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _forbidden(request: HttpRequest, message: str, series: Series | None = None) -> HttpResponse:
    """The reader may see the series but not change it (or may not write at all): say so plainly."""
    if series is not None:
        note_labels(request, series.label)
    return render(request, "consultations/series_forbidden.html", {"series": series, "message": message}, status=403)


# --- the calendar --------------------------------------------------------------------------------------------------

@dataclass
class Entry:
    """One meeting as the calendar shows it, with its times in the viewer's zone."""

    meeting: Meeting
    href: str
    start: datetime
    end: datetime
    time: str  # "17:00–19:00", with the end's day when it differs
    chip: dict[str, str]
    series_title: str
    cancelled: bool
    html: str = ""  # the whole <li>, escaped (format_html)


@dataclass
class Day:
    day: date
    number: str
    heading: str
    in_month: bool = True
    is_today: bool = False
    entries: list[Entry] = field(default_factory=list)
    more: int = 0
    more_url: str = ""


def _local_bounds(first: date, last_exclusive: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last_exclusive, time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def _calendar_url(view: str, day: date | None, series_id: int | None) -> str:
    params: dict[str, str] = {"view": view}
    if day is not None:
        params["date"] = day.isoformat()
    if series_id is not None:
        params["series"] = str(series_id)
    return reverse("consultations:calendar") + "?" + urlencode(params)


def _entries(meetings: list[Meeting], zone: ZoneInfo, visible: VisibleLabels, chips: _Chips) -> list[Entry]:
    """The calendar's entries, each with its markup made here: a month holds hundreds, and one template include per
    entry cost more than the query (the month view must answer in under 100 ms with 10,000 meetings)."""
    result: list[Entry] = []
    meeting_urls = _RowUrls("consultations:meeting", "/consultations/meetings/{}/")
    cancelled_word = gettext("Cancelled")
    other_day = pgettext("end on another day", "D j M H:i")
    for meeting in meetings:
        start, end = meeting.start.astimezone(zone), meeting.end.astimezone(zone)
        until = f"{end:%H:%M}" if end.date() == start.date() else _fmt(end, other_day)
        series = meeting.series
        entry = Entry(
            meeting=meeting, href=meeting_urls(meeting.pk), start=start, end=end,
            time=f"{start:%H:%M}–{until}", chip=chips(meeting.label),
            # A series is named only to whom may see the series itself.
            series_title=series.title if series is not None and series.label_id in visible else "",
            cancelled=meeting.status == MeetingStatus.CANCELLED,
        )
        entry.html = format_html(
            '<li class="cal-entry{}" data-testid="cal-entry"><a href="{}"><time datetime="{}">{}</time> '
            '<span class="cal-entry__title">{}</span></a>{}{}{}</li>',
            " cal-entry--cancelled" if entry.cancelled else "", entry.href, start.isoformat(), entry.time,
            meeting.title,
            format_html(' <span class="status-cancelled">{}</span>', cancelled_word) if entry.cancelled else "",
            format_html('<span class="cal-entry__series">{}</span>', entry.series_title) if entry.series_title else "",
            entry.chip["html"],
        )
        result.append(entry)
    return result


@login_required
@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    subject = subject_for(user)
    zone = viewer_zone(user)
    series_choices = list(Series.objects.visible_to(subject).order_by("title", "id").values_list("pk", "title"))
    form = CalendarForm(request.GET, series_choices=series_choices)
    context: dict[str, Any] = {"form": form, **_zone_context(zone)}
    if not form.is_valid():
        context["view"] = "month"
        return render(request, "consultations/calendar.html", context, status=400)
    today = timezone.now().astimezone(zone).date()
    view = form.cleaned_data["view"] or "month"
    anchor: date = form.cleaned_data["date"] or today
    series_id: int | None = form.cleaned_data["series"]

    if view == "month":
        first = anchor.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        grid_start = first - timedelta(days=first.weekday())
        grid_end = following + timedelta(days=(7 - following.weekday()) % 7)
        previous, next_ = (first - timedelta(days=1)).replace(day=1), following
        title = _fmt(first, pgettext("month heading", "F Y"))
    elif view == "week":
        grid_start = anchor - timedelta(days=anchor.weekday())
        grid_end = grid_start + timedelta(days=7)
        previous, next_ = grid_start - timedelta(days=7), grid_end
        title = gettext("%(first)s to %(last)s") % {
            "first": _fmt(grid_start, pgettext("day heading", "D j M Y")),
            "last": _fmt(grid_end - timedelta(days=1), pgettext("day heading", "D j M Y"))}
    else:
        grid_start, grid_end = anchor, anchor + timedelta(days=LIST_DAYS)
        previous, next_ = anchor - timedelta(days=LIST_DAYS), grid_end
        title = gettext("%(first)s to %(last)s") % {
            "first": _fmt(grid_start, pgettext("day heading", "D j M Y")),
            "last": _fmt(grid_end - timedelta(days=1), pgettext("day heading", "D j M Y"))}

    lo, hi = _local_bounds(grid_start, grid_end, zone)
    meetings = queries.calendar_range(subject, lo, hi, series_id=series_id)
    visible = visible_labels(subject)
    chips = _Chips()
    entries = _entries(meetings, zone, visible, chips)

    # Each meeting sits on the viewer's local day of its start; one that began before the range is left out.
    by_day: dict[date, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_day[entry.start.date()].append(entry)
    days: list[Day] = []
    # The week's title already has the year; a month cell's heading is for screen readers and keeps it.
    heading = pgettext("short day", "D j M") if view == "week" else pgettext("day heading", "D j M Y")
    day = grid_start
    while day < grid_end:
        todays = by_day.get(day, [])
        cell = Day(day=day, number=str(day.day), heading=_fmt(day, heading),
                   in_month=view != "month" or day.month == anchor.month, is_today=day == today)
        if view == "month" and len(todays) > MONTH_CELL_LIMIT:
            cell.entries, cell.more = todays[:MONTH_CELL_LIMIT], len(todays) - MONTH_CELL_LIMIT
            cell.more_url = _calendar_url("week", day, series_id)
        else:
            cell.entries = todays
        if view != "list" or cell.entries:
            days.append(cell)
        day += timedelta(days=1)

    shown = [e.meeting for d in days for e in d.entries]
    note_labels(request, *(m.label for m in shown))
    if shown:
        audit.record(user.username, "list", "meeting", [m.pk for m in shown], None, audit.client_address(request),
                     {"view": view, "from": grid_start.isoformat()})
    context.update({
        "view": view,
        "title": title,
        "days": days,
        "weeks": [days[i:i + 7] for i in range(0, len(days), 7)] if view == "month" else [],
        "weekday_names": [_fmt(grid_start + timedelta(days=i), "D") for i in range(7)],
        "views": [{"key": key, "name": name, "url": _calendar_url(key, anchor, series_id), "current": key == view}
                  for key, name in form.fields["view"].choices],  # type: ignore[attr-defined]
        "previous_url": _calendar_url(view, previous, series_id),
        "next_url": _calendar_url(view, next_, series_id),
        "today_url": _calendar_url(view, None, series_id),
        "series_id": series_id,
        "count": len(shown),
        "new_meeting_url": meeting_create_url(),
    })
    return render(request, "consultations/calendar.html", context)


# --- series --------------------------------------------------------------------------------------------------------

def _series_or_404(user: User, pk: int) -> Series:
    qs: Any = Series.objects.select_related("label", "chair", "originator")
    series: Series = get_visible_or_404(qs, subject_for(user), pk=pk)
    return series


@login_required
@require_GET
def series_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    zone = viewer_zone(user)
    qs = Series.objects.visible_to(subject_for(user)).select_related("label", "chair").order_by("title", "id")
    page = Paginator(qs, SERIES_PAGE).get_page(request.GET.get("page"))
    chips = _Chips()
    now = timezone.now()
    rows = []
    for series in page.object_list:
        try:
            upcoming = recurrence.occurrences(series, now, now + timedelta(days=400))[:1]
        except ServiceError:
            upcoming = []
        rows.append({
            "series": series, "chip": chips(series.label), "focus_areas": _focus_names(series.focus_areas),
            "cadence": cadence_words(series), "chair": _person(series.chair),
            "next": _fmt(upcoming[0][0].astimezone(zone), pgettext("day and time", "D j M Y H:i")) if upcoming else "",
        })
    note_labels(request, *(s.label for s in page.object_list))
    if page.object_list:
        audit.record(user.username, "list", "series", [s.pk for s in page.object_list], None,
                     audit.client_address(request))
    return render(request, "consultations/series_list.html", {
        "rows": rows, "page": page, "may_create": user.can_contribute, **_zone_context(zone)})


@login_required
@require_GET
def series_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    subject = subject_for(user)
    series = _series_or_404(user, pk)
    zone = viewer_zone(user)
    home = ZoneInfo(series.time_zone) if is_known_zone(series.time_zone) else ZoneInfo("UTC")
    now = timezone.now()
    today = now.astimezone(zone).date()
    visible = visible_labels(subject)
    chips = _Chips()

    meetings = Meeting.objects.visible_to(subject).filter(series=series).select_related("label")
    past = list(meetings.filter(start__lt=now).order_by("-start", "-id")[:SERIES_MEETINGS])
    upcoming = list(meetings.filter(start__gte=now).order_by("start", "id")[:SERIES_MEETINGS])
    actions = list(
        ActionItem.objects.visible_to(subject).filter(series=series, status__in=OPEN_STATES)
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
            "viewer": _fmt(start.astimezone(zone), pgettext("day and time", "D j M Y H:i")),
            "home": _fmt(start.astimezone(home), pgettext("day and time", "D j M Y H:i")),
            "meeting_url": meeting_url(existing.pk) if existing else "",
            "create_url": meeting_create_url(series, start.astimezone(home)),
        })

    def meeting_row(meeting: Meeting) -> dict[str, Any]:
        start, end = meeting.start.astimezone(zone), meeting.end.astimezone(zone)
        return {"meeting": meeting, "href": meeting_url(meeting.pk), "chip": chips(meeting.label),
                "when": f"{_fmt(start, pgettext('day and time', 'D j M Y H:i'))}–{_fmt(end, 'H:i')}",
                "cancelled": meeting.status == MeetingStatus.CANCELLED}

    kit = _RowKit()
    action_rows = [_action_row(a, today, visible, chips, kit) for a in actions]
    note_labels(request, series.label, *(m.label for m in past + upcoming), *(a.label for a in actions))
    audit.record(user.username, "read", "series", [series.pk], series.label_id, audit.client_address(request),
                 {"meetings": [m.pk for m in past + upcoming], "actions": [a.pk for a in actions]})
    return render(request, "consultations/series_detail.html", {
        "series": series,
        "chip": chips(series.label),
        "focus_areas": _focus_names(series.focus_areas),
        "nations": _nation_names(series.nations),
        "chair": _person(series.chair),
        "cadence": cadence_words(series),
        "home_zone": str(home.key),
        "first": (_fmt(datetime.combine(series.first_date, series.start_time, tzinfo=home),
                       pgettext("day and time", "D j M Y H:i"))
                  if series.first_date and series.start_time else ""),
        "next_rows": next_rows,
        "past": [meeting_row(m) for m in past],
        "upcoming": [meeting_row(m) for m in upcoming],
        "actions": action_rows,
        "may_edit": queries.may_organise(user, series),
        "create_url": meeting_create_url(series),
        "schedule_url": reverse("consultations:schedule") + "?" + urlencode({"series": series.pk}),
        "calendar_url": _calendar_url("list", today, series.pk),
        **_zone_context(zone),
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
            try:
                series = services.do_create_series(
                    user, services.SeriesInput(**_series_changes(form.cleaned_data)), audit.client_address(request))
            except ServiceError as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, _("The series was created."))
                return redirect("consultations:series", pk=series.pk)
    else:
        form = SeriesForm(user=user, initial={"preset": "custom", "first_date": timezone.now().date()})
    return _series_form_page(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def series_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    series = _series_or_404(user, pk)
    if not queries.may_organise(user, series):
        return _forbidden(request, _("Only the originating organisation, a coordinator of its nation or the chair may "
                                     "change this series."), series)
    note_labels(request, series.label)
    initial = _series_initial(series)
    if request.method == "POST":
        form = SeriesForm(request.POST, user=user, initial=initial)
        if form.is_valid():
            try:
                services.do_update_series(user, series, audit.client_address(request),
                                          **_series_changes(form.cleaned_data))
            except ServiceError as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, _("The series was saved."))
                return redirect("consultations:series", pk=series.pk)
    else:
        form = SeriesForm(user=user, initial=initial)
        audit.record(user.username, "read", "series", [series.pk], series.label_id, audit.client_address(request))
    return _series_form_page(request, form, series)


# --- the scheduling assistant --------------------------------------------------------------------------------------

def _reason(text: str) -> str:
    """The assistant's reasons (plain English from timezones.py) in the reader's language."""
    if text == "weekend":
        return gettext("weekend")
    if text == "spans midnight":
        return gettext("spans midnight")
    for prefix, message in (("public holiday: ", gettext_lazy("public holiday: %(value)s")),
                            ("before ", gettext_lazy("before %(value)s")), ("after ", gettext_lazy("after %(value)s"))):
        if text.startswith(prefix):
            return str(message) % {"value": text[len(prefix):]}
    return text


@login_required
@require_GET
def schedule(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    zone = viewer_zone(user)
    series: Series | None = None
    raw_series = request.GET.get("series")
    if raw_series:
        if not raw_series.isdigit():
            raise Http404("not found")  # a bad id is a 404 like a hidden series
        series = _series_or_404(user, int(raw_series))
        note_labels(request, series.label)
    today = timezone.now().astimezone(zone).date()
    if "first_day" in request.GET:
        form = ScheduleForm(request.GET)
    else:
        form = ScheduleForm(initial={
            "nations": list(series.nations) if series else [],
            "duration_minutes": series.duration_minutes if series else 90,
            "first_day": today + timedelta(days=1), "last_day": today + timedelta(days=28),
            "series": series.pk if series else None,
        })
    rows: list[dict[str, Any]] = []
    total = 0
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        nations: list[str] = list(data["nations"])
        hours = WorkingHours(start=data["work_start"] or time(8, 0), end=data["work_end"] or time(18, 0))
        try:
            slots = propose_slots(nations, timedelta(minutes=data["duration_minutes"]), data["first_day"],
                                  data["last_day"], hours={n: hours for n in nations}, limit=SLOT_LIMIT)
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            total = len(nations)
            for rank, slot in enumerate(slots, start=1):
                start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
                local = []
                for row in local_times_for(slot.start, slot.end, str(zone.key), nations):
                    local.append({"nation": row.nation, "city": row.city, "offset": row.utc_offset,
                                  "time": f"{_fmt(row.start, 'H:i')}–{_fmt(row.end, 'H:i')}",
                                  "day": _fmt(row.start, pgettext("short day", "D j M")) if row.day_differs else "",
                                  "inside": row.nation not in {o.nation for o in slot.outside}})
                rows.append({
                    "rank": rank, "start": start,
                    "when": f"{_fmt(start, pgettext('day and time', 'D j M Y H:i'))}–{_fmt(end, 'H:i')}",
                    "inside": slot.score,
                    "outside": [{"nation": o.nation, "reason": _reason(o.reason),
                                 "local": _fmt(o.local_start, pgettext("short day and time", "D H:i"))}
                                for o in slot.outside],
                    "local": local,
                    "create_url": meeting_create_url(series, slot.start.astimezone(zone), slot.end.astimezone(zone)),
                })
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "consultations/schedule.html", {
        "form": form, "rows": rows, "total": total, "series": series,
        "series_chip": _Chips()(series.label) if series else None, **_zone_context(zone)}, status=status)


# --- my actions ----------------------------------------------------------------------------------------------------

@dataclass
class _RowKit:
    """What every action row of a page shares, made once: URL makers, the CSRF token, the words."""

    csrf: str = ""
    tab: str = ""
    meeting_url: _RowUrls = field(default_factory=lambda: _RowUrls("consultations:meeting",
                                                                   "/consultations/meetings/{}/"))
    series_url: _RowUrls = field(default_factory=lambda: _RowUrls("consultations:series",
                                                                  "/consultations/series/{}/"))
    status_url: _RowUrls = field(default_factory=lambda: _RowUrls("consultations:my_action_status",
                                                                  "/consultations/actions/{}/status/"))
    overdue_flag: str = ""
    day_format: str = ""
    status_names: dict[str, str] = field(default_factory=dict)
    days: dict[date, str] = field(default_factory=dict)
    buttons: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.overdue_flag = format_html(' <span class="flag-overdue" data-testid="overdue">{}</span>',
                                        gettext("Overdue"))
        self.day_format = pgettext("day heading", "D j M Y")
        self.status_names = {value: str(name) for value, name in ActionStatus.choices}
        if self.csrf:
            # Each status button escaped once per page with a placeholder id; a row only puts its id in.
            probe = self.status_url(_RowUrls._PLACEHOLDER)
            self.buttons = {value: format_html(
                '<form method="post" action="{}" class="inline-form"><input type="hidden" name="csrfmiddlewaretoken" '
                'value="{}"><input type="hidden" name="status" value="{}"><input type="hidden" name="tab" value="{}">'
                '<button type="submit" class="button button--small" data-testid="set-{}">{}</button></form>',
                probe, self.csrf, value, self.tab, value, _MOVES[value]) for value in ActionStatus.values}

    def day(self, value: date) -> str:
        shown = self.days.get(value)
        if shown is None:
            shown = self.days[value] = _fmt(value, self.day_format)
        return shown

    def status_buttons(self, pk: int, status: str) -> str:
        html = "".join(b for value, b in self.buttons.items() if value != status)
        # The markup was escaped by format_html above; the only value put in is the row's integer id.
        return mark_safe(html.replace(str(_RowUrls._PLACEHOLDER), str(int(pk))))  # noqa: S308


def _action_row(action: ActionItem, today: date, visible: VisibleLabels, chips: _Chips,
                kit: _RowKit) -> dict[str, Any]:
    """An action as a list shows it, with the row's markup made here (no include per row: "my actions" must answer
    in under 100 ms with 100,000 actions). Its meeting and series (already joined) are named only when their own
    labels are visible. With ``kit.csrf`` the row has the status buttons."""
    meeting = action.meeting if action.meeting is not None and action.meeting.label_id in visible else None
    series = action.series if action.series is not None and action.series.label_id in visible else None
    owner = _person(action.owner_user) if action.owner_user is not None else (
        action.owner_organisation.name if action.owner_organisation is not None else "")
    overdue = queries.is_overdue(action, today)
    links = [format_html('<a href="{}">{}</a>', kit.meeting_url(meeting.pk), meeting.title)] if meeting else []
    if series is not None:
        links.append(format_html('<a class="muted" href="{}">{}</a>', kit.series_url(series.pk), series.title))
    due = (format_html('<time datetime="{}">{}</time>', action.due.isoformat(), kit.day(action.due))
           if action.due else "—")
    html = format_html(
        '<tr class="{}" data-testid="action-row" data-action="{}"><td>{}{}</td><td>{}</td>'
        '<td><span class="action-status action-status--{}">{}</span></td><td>{}</td><td>{}</td><td>{}</td>{}</tr>',
        "action--overdue" if overdue else "", action.pk, action.title, kit.overdue_flag if overdue else "", due,
        action.status, kit.status_names.get(action.status, action.status), owner,
        format_html("{}<br>{}", *links) if len(links) == 2 else (links[0] if links else "—"), chips(action.label)["html"],
        format_html('<td class="table__actions">{}</td>', kit.status_buttons(action.pk, action.status))
        if kit.csrf else "",
    )
    return {"action": action, "overdue": overdue, "html": html}


@login_required
@require_GET
def my_actions(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    subject = subject_for(user)
    zone = viewer_zone(user)
    today = timezone.now().astimezone(zone).date()
    # "state" is the API's name for the same choice; both are accepted.
    tab = request.GET.get("tab") or request.GET.get("state") or "open"
    if tab not in dict(ACTION_TABS):
        tab = "open"
    cursor = request.GET.get("cursor") or None
    error = ""
    try:
        page = queries.my_actions(user, state=tab, today=today, cursor=cursor, limit=ACTION_PAGE, subject=subject)
    except (ServiceError, ValueError):
        page, error = queries.ActionPage([], None), _("This page of actions does not exist any more; start again.")
    visible = visible_labels(subject)
    chips = _Chips()
    kit = _RowKit(csrf=get_token(request), tab=tab)
    rows = [_action_row(a, today, visible, chips, kit) for a in page.items]
    note_labels(request, *(a.label for a in page.items))
    if page.items:
        audit.record(user.username, "list", "action", [a.pk for a in page.items], None, audit.client_address(request),
                     {"tab": tab})
    base = reverse("consultations:my_actions")
    return render(request, "consultations/my_actions.html", {
        "rows": rows, "tab": tab, "error": error,
        "tabs": [{"key": key, "name": name, "url": f"{base}?{urlencode({'tab': key})}", "current": key == tab}
                 for key, name in ACTION_TABS],
        "next_url": f"{base}?{urlencode({'tab': tab, 'cursor': page.next_cursor})}" if page.next_cursor else "",
        "first_url": f"{base}?{urlencode({'tab': tab})}" if cursor else "",
        "today": _fmt(today, pgettext("day heading", "D j M Y")),
        **_zone_context(zone),
    }, status=400 if error else 200)


@login_required
@require_POST
def action_status(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    qs: Any = ActionItem.objects.select_related("meeting__series__originator", "meeting__originator",
                                                "series__originator")
    action: ActionItem = get_visible_or_404(qs, subject_for(user), pk=pk)
    form = ActionStatusForm(request.POST)
    tab = "open"
    if form.is_valid():
        tab = form.cleaned_data["tab"] if form.cleaned_data["tab"] in dict(ACTION_TABS) else "open"
        try:
            action = services.do_set_action_status(user, action, form.cleaned_data["status"],
                                                   audit.client_address(request))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("“%(title)s” is now %(status)s.") % {
                "title": action.title, "status": action.get_status_display()})
    else:
        messages.error(request, _("Unknown status; nothing was changed."))
    return redirect(f"{reverse('consultations:my_actions')}?{urlencode({'tab': tab})}")
