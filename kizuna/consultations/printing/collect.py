"""Printable minutes, first half: what one viewer may see of a meeting's record, gathered once for the HTML print
view and the PDF (``pdf.py`` draws the second from what this returns, and reads nothing itself).

Everything comes from the reads of ``kizuna.consultations.queries`` (``visible_to`` first, then the draft/published
rule), so a part the viewer may not see is neither printed nor counted in the marking. The marking of the whole
document is the site banner's (``kizuna.web.banner.note_document``): the least upper bound of every label printed
(highest classification, releasability narrowed to what every part allows, communities joined, strictest TLP). Each
labelled record keeps its own label as a portion marking in front of it, as STANAG 4774 display practice asks of a
document that mixes labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone as dj_timezone
from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe

from kizuna.consultations import queries
from kizuna.consultations.models import ActionItem, ActionStatus, Meeting, MeetingStatus
from kizuna.core.access import label_display, label_of
from kizuna.core.dates import format_local
from kizuna.core.markdown import render as render_markdown
from kizuna.core.models import Labelled, LabelRecord
from kizuna.directory.models import User
from kizuna.labels import Label
from kizuna.web.banner import chip_class

# --- what is printed -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marking:
    """A record's own label: the portion marking printed in front of it."""

    text: str  # the display form, e.g. "NATO RESTRICTED REL TO JPN // TLP:AMBER"
    chip: str  # CSS class colouring it in the HTML view
    label: Label


@dataclass(frozen=True)
class Portion:
    """A labelled piece of Markdown text: a minutes part or a decision."""

    text: str
    marking: Marking
    item_title: str = ""  # the agenda item it belongs to, only when the viewer sees that item

    @property
    def html(self) -> SafeString:
        return mark_safe(render_markdown(self.text))  # noqa: S308 -- sanitised by nh3 in core.markdown


@dataclass(frozen=True)
class PrintedAction:
    title: str
    owner: str
    due: str
    status: str
    overdue: bool
    marking: Marking


@dataclass(frozen=True)
class PrintedAttendee:
    name: str
    organisation: str
    rsvp: str


@dataclass
class PrintedItem:
    order: int
    title: str
    presenter: str
    duration_minutes: int
    marking: Marking
    reports: list[tuple[str, Marking]] = field(default_factory=list)
    minutes: list[Portion] = field(default_factory=list)


@dataclass
class PrintableMinutes:
    meeting_pk: int
    title: str
    series_title: str
    when_home: str
    when_utc: str
    mode: str
    place: str
    link: str
    cancelled: bool
    cancel_reason: str
    marking: Marking  # the meeting's own label
    attendees: list[PrintedAttendee]
    items: list[PrintedItem]
    other_minutes: list[Portion]  # about the meeting as a whole, or under an item the viewer does not see
    decisions: list[Portion]
    actions: list[PrintedAction]
    review: list[PrintedAction]  # open actions of the series from earlier meetings
    draft_agenda: bool  # the viewer is shown an agenda that is not published yet
    draft_minutes: bool  # likewise the minutes
    printed_by: str
    printed_at: str
    labels: list[Label]  # every label printed: the banner is their least upper bound
    ids: dict[str, list[int]]  # what was shown, for the audit entry

    @property
    def has_minutes(self) -> bool:
        return bool(self.other_minutes or any(item.minutes for item in self.items))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _span(start: datetime, end: datetime, zone: ZoneInfo, zone_name: str) -> str:
    """"Tuesday 2 June 2026, 09:00–11:00 CEST (Europe/Brussels)"; the end's date is repeated when it differs."""
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    day = format_local(local_start, "LONG_DAY_DATE_FORMAT")
    end_text = format_local(local_end, "H:i" if local_end.date() == local_start.date() else "LONG_DAY_DATETIME_FORMAT")
    abbreviation = format_local(local_end, "T")
    separator = str(get_format("DATE_TIME_SEPARATOR"))
    return f"{day}{separator}{format_local(local_start, 'H:i')}–{end_text} {abbreviation} ({zone_name})"


def _instant(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return format_local(local, "LONG_DATETIME_ZONE_FORMAT")


def _person(user: User | None) -> str:
    if user is None:
        return ""
    full = user.get_full_name().strip()
    return f"{full} ({user.username})" if full else user.username


def collect(user: User, meeting: Meeting, now: datetime | None = None) -> PrintableMinutes:
    """Everything of ``meeting`` that ``user`` may read, ready to print. ``meeting`` must come from
    ``queries.get_meeting_or_404`` (it is the caller's label check); every part below is read through queries, which
    applies ``visible_to`` and then the draft rule."""
    agenda = queries.agenda_for(user, meeting)
    parts = queries.minutes_for(user, meeting)
    decisions = queries.decisions_for(user, meeting)
    actions = queries.actions_for(user, meeting)
    review = queries.review_of_actions(user, meeting)

    series = queries.visible_series(user, meeting)

    linked = queries.linked_reports(user, agenda)
    reports = {r.pk: r for rs in linked.values() for r in rs}

    shown: list[Labelled] = [meeting, *agenda, *parts, *decisions, *actions, *review, *reports.values()]
    if series is not None:
        shown.append(series)
    records = LabelRecord.objects.in_bulk(sorted({r.label_id for r in shown}))
    labels: list[Label] = []

    def mark(record: Labelled) -> Marking:
        label = label_of(records[record.label_id])
        labels.append(label)
        row = records[record.label_id]
        return Marking(label_display(label), chip_class(row.policy, row.classification), label)

    meeting_marking = mark(meeting)
    items: list[PrintedItem] = []
    by_id: dict[int, PrintedItem] = {}
    for position, agenda_item in enumerate(agenda, start=1):
        # Numbered among the items this reader may see: a hidden item before one leaves no gap.
        printed = PrintedItem(position, agenda_item.title, agenda_item.presenter,
                              agenda_item.duration_minutes, mark(agenda_item))
        for report in linked.get(agenda_item.pk, []):
            printed.reports.append((report.title, mark(report)))
        items.append(printed)
        by_id[agenda_item.pk] = printed

    other: list[Portion] = []
    for part in parts:
        target = by_id.get(part.agenda_item_id) if part.agenda_item_id is not None else None
        portion = Portion(part.text, mark(part), target.title if target else "")
        (target.minutes if target is not None else other).append(portion)

    printed_decisions = []
    for decision in decisions:
        target = by_id.get(decision.agenda_item_id) if decision.agenda_item_id is not None else None
        printed_decisions.append(Portion(decision.text, mark(decision), target.title if target else ""))

    today = now.astimezone(UTC).date() if now is not None else None  # the day of is_overdue is the UTC day

    def action_row(action: ActionItem) -> PrintedAction:
        if action.owner_user_id is not None:
            owner = _person(action.owner_user)
        else:
            owner = action.owner_organisation.display_name if action.owner_organisation is not None else ""
        due = format_local(action.due, "LONG_DATE_FORMAT") if action.due else "—"
        overdue = queries.is_overdue(action, today)
        return PrintedAction(action.title, owner, due, str(ActionStatus(action.status).label), overdue, mark(action))

    printed_actions = [action_row(a) for a in actions]
    printed_review = [action_row(a) for a in review]
    if series is not None:
        mark(series)  # its title is printed, so its label counts towards the banner

    attendees = [
        PrintedAttendee(_person(a.user), a.user.organisation.display_name if a.user.organisation else "",
                        str(a.get_rsvp_display()))
        for a in meeting.attendees.select_related("user", "user__organisation").order_by("id")
    ]

    moment = now or dj_timezone.now()
    viewer_zone = _zone(user.timezone or "UTC")
    printed_at = _instant(moment, viewer_zone)
    if viewer_zone.key != "UTC":
        printed_at += f" ({_instant(moment, ZoneInfo('UTC'))})"

    return PrintableMinutes(
        meeting_pk=meeting.pk,
        title=meeting.title,
        series_title=series.title if series is not None else "",
        when_home=_span(meeting.start, meeting.end, _zone(meeting.time_zone), meeting.time_zone),
        when_utc=_span(meeting.start, meeting.end, ZoneInfo("UTC"), "UTC").rsplit(" (", 1)[0],
        mode=str(meeting.get_mode_display()),
        place=meeting.place,
        link=meeting.link,
        cancelled=meeting.status == MeetingStatus.CANCELLED,
        cancel_reason=meeting.cancel_reason,
        marking=meeting_marking,
        attendees=attendees,
        items=items,
        other_minutes=other,
        decisions=printed_decisions,
        actions=printed_actions,
        review=printed_review,
        draft_agenda=bool(agenda) and meeting.agenda_published_at is None,
        draft_minutes=bool(parts or decisions) and meeting.minutes_published_at is None,
        printed_by=_person(user),
        printed_at=printed_at,
        labels=labels,
        ids={
            "agenda_items": [i.pk for i in agenda],
            "minutes_parts": [p.pk for p in parts],
            "decisions": [d.pk for d in decisions],
            "actions": [a.pk for a in actions],
            "review_actions": [a.pk for a in review],
            "reports": sorted(reports),
        },
    )
