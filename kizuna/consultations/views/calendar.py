"""The calendar of meetings (month, week, list) in the viewer's zone, and the scheduling assistant that proposes
slots across the participating capitals.

Every meeting is read through ``queries.calendar_range`` (``visible_to``); a meeting's series is named only when the
series' own label is visible too. Times are shown in the viewer's zone (``User.timezone``, UTC when unset or unknown),
and the page says which: the month grid itself is cut at the viewer's midnights, so a meeting at 23:30 UTC is on the
next day for a Tokyo reader. Each page notes the labels it shows for the banner and audits the read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET

from kizuna.consultations import queries
from kizuna.consultations.forms import (
    CalendarForm,
    ScheduleForm,
)
from kizuna.consultations.models import (
    Meeting,
    MeetingStatus,
    Series,
)
from kizuna.consultations.timezones import WorkingHours, city_name, local_times_for, propose_slots
from kizuna.consultations.views.common import (
    Chips,
    RowUrls,
    calendar_url,
    fmt,
    meeting_create_url,
    viewer_zone,
    zone_context,
)
from kizuna.core import audit
from kizuna.core.access import VisibleLabels, visible_labels
from kizuna.directory.subjects import subject_for
from kizuna.web.banner import note_labels
from kizuna.web.shortcuts import signed_in_user

MONTH_CELL_LIMIT = 6  # entries per day in the month grid; the rest are behind "+N more" (the week view)
LIST_DAYS = 28  # one page of the list view
SLOT_LIMIT = 20


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


def _entries(meetings: list[Meeting], zone: ZoneInfo, visible: VisibleLabels, chips: Chips) -> list[Entry]:
    """The calendar's entries, each with its markup made here: a month holds hundreds, and one template include per
    entry cost more than the query (the month view must answer in under 100 ms with 10,000 meetings)."""
    result: list[Entry] = []
    meeting_urls = RowUrls("consultations:meeting")
    cancelled_word = gettext("Cancelled")
    other_day = "SHORT_DAY_TIME_FORMAT"
    for meeting in meetings:
        start, end = meeting.start.astimezone(zone), meeting.end.astimezone(zone)
        until = f"{end:%H:%M}" if end.date() == start.date() else fmt(end, other_day)
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
    context: dict[str, Any] = {"form": form, **zone_context(zone)}
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
        title = fmt(first, "MONTH_HEADING_FORMAT")
    elif view == "week":
        grid_start = anchor - timedelta(days=anchor.weekday())
        grid_end = grid_start + timedelta(days=7)
        previous, next_ = grid_start - timedelta(days=7), grid_end
        title = gettext("%(first)s to %(last)s") % {
            "first": fmt(grid_start, "DAY_DATE_FORMAT"),
            "last": fmt(grid_end - timedelta(days=1), "DAY_DATE_FORMAT")}
    else:
        grid_start, grid_end = anchor, anchor + timedelta(days=LIST_DAYS)
        previous, next_ = anchor - timedelta(days=LIST_DAYS), grid_end
        title = gettext("%(first)s to %(last)s") % {
            "first": fmt(grid_start, "DAY_DATE_FORMAT"),
            "last": fmt(grid_end - timedelta(days=1), "DAY_DATE_FORMAT")}

    lo, hi = _local_bounds(grid_start, grid_end, zone)
    meetings = queries.calendar_range(subject, lo, hi, series_id=series_id)
    visible = visible_labels(subject)
    chips = Chips()
    entries = _entries(meetings, zone, visible, chips)

    # Each meeting sits on the viewer's local day of its start; one that began before the range is left out.
    by_day: dict[date, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_day[entry.start.date()].append(entry)
    days: list[Day] = []
    # The week's title already has the year; a month cell's heading is for screen readers and keeps it.
    heading = "SHORT_DAY_FORMAT" if view == "week" else "DAY_DATE_FORMAT"
    day = grid_start
    while day < grid_end:
        todays = by_day.get(day, [])
        cell = Day(day=day, number=str(day.day), heading=fmt(day, heading),
                   in_month=view != "month" or day.month == anchor.month, is_today=day == today)
        if view == "month" and len(todays) > MONTH_CELL_LIMIT:
            cell.entries, cell.more = todays[:MONTH_CELL_LIMIT], len(todays) - MONTH_CELL_LIMIT
            cell.more_url = calendar_url("week", day, series_id)
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
        "weekday_names": [fmt(grid_start + timedelta(days=i), "D") for i in range(7)],
        "views": [{"key": key, "name": name, "url": calendar_url(key, anchor, series_id), "current": key == view}
                  for key, name in form.fields["view"].choices],  # type: ignore[attr-defined]
        "previous_url": calendar_url(view, previous, series_id),
        "next_url": calendar_url(view, next_, series_id),
        "today_url": calendar_url(view, None, series_id),
        "series_id": series_id,
        "count": len(shown),
        "new_meeting_url": meeting_create_url(),
    })
    return render(request, "consultations/calendar.html", context)


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


def _duration_words(minutes: int) -> str:
    """"3 h 30 min", "45 min", "2 h": how far outside working hours, in the reader's language."""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return gettext("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": rest}
    if hours:
        return gettext("%(hours)d h") % {"hours": hours}
    return gettext("%(minutes)d min") % {"minutes": rest}


def _page_number(raw: str | None, count: int) -> int:
    """The page asked for, within 1..the last page; anything else is page 1."""
    last = max(1, -(-count // SLOT_LIMIT))
    return min(int(raw), last) if raw and raw.isdigit() and int(raw) >= 1 else 1


def _slot_paging(request: HttpRequest, page: int, count: int) -> dict[str, Any]:
    """Links to the previous and next page of slots: the same query with another ``page``."""
    query = request.GET.copy()

    def link(number: int) -> str:
        query["page"] = str(number)
        return f"?{query.urlencode()}"

    last = max(1, -(-count // SLOT_LIMIT))
    return {"page": page, "pages": last, "count": count,
            "previous": link(page - 1) if page > 1 else "", "next": link(page + 1) if page < last else ""}


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
        series = queries.get_series_or_404(user, int(raw_series))
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
    paging: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        nations: list[str] = list(data["nations"])
        hours = WorkingHours(start=data["work_start"] or time(8, 0), end=data["work_end"] or time(18, 0))
        try:
            # Every slot, ranked and spread over the viewer's days; a page shows SLOT_LIMIT of them.
            slots = propose_slots(nations, timedelta(minutes=data["duration_minutes"]), data["first_day"],
                                  data["last_day"], hours={n: hours for n in nations}, day_zone=str(zone.key))
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            total = len(nations)
            page = _page_number(request.GET.get("page"), len(slots))
            first = (page - 1) * SLOT_LIMIT
            paging = _slot_paging(request, page, len(slots))
            for rank, slot in enumerate(slots[first:first + SLOT_LIMIT], start=first + 1):
                start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
                local = []
                outside = {o.nation for o in slot.outside}
                for row in local_times_for(slot.start, slot.end, str(zone.key), nations, by_place=True):
                    local.append({"nation": ", ".join(row.nations), "city": city_name(row.city), "offset": row.utc_offset,
                                  "time": f"{fmt(row.start, 'H:i')}–{fmt(row.end, 'H:i')}",
                                  "day": fmt(row.start, "SHORT_DAY_FORMAT") if row.day_differs else "",
                                  "inside": not outside.intersection(row.nations)})
                rows.append({
                    "rank": rank, "start": start,
                    "when": f"{fmt(start, 'DAY_DATETIME_FORMAT')}–{fmt(end, 'H:i')}",
                    "inside": slot.score,
                    "cost": _duration_words(slot.cost),
                    "outside": [{"nation": o.nation, "reason": _reason(o.reason), "by": _duration_words(o.minutes),
                                 "local": fmt(o.local_start, "WEEKDAY_TIME_FORMAT")}
                                for o in slot.outside],
                    "local": local,
                    "create_url": meeting_create_url(series, slot.start.astimezone(zone), slot.end.astimezone(zone)),
                })
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "consultations/schedule.html", {
        "form": form, "rows": rows, "total": total, "series": series, "paging": paging,
        "series_chip": Chips()(series.label) if series else None, **zone_context(zone)}, status=status)
