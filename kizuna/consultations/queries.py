"""Every read of consultations: who may organise what, the records of one meeting a reader may see, and the two
queries that must stay fast at scale (the meetings of a calendar range and "my actions").

Reads: every record comes through ``visible_to(subject_for(user))`` first; the draft rule is applied after it, never
instead. A draft agenda (``agenda_published_at`` null) or draft minutes (``minutes_published_at`` null) are read only
by the meeting's organisers (``may_organise``); once published, each item, minutes part and decision is read by
whoever may see both the meeting and its own label. Actions are records of their own and follow only their label.

``calendar_range`` and ``my_actions`` are shaped so that SQLite answers them from the indexes declared in models.py
without statistics (no ANALYZE): see the Consultations section of docs/performance.md for the plans and figures.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from kizuna.consultations.models import (
    MAX_MEETING,
    ActionItem,
    ActionStatus,
    AgendaItem,
    Attendee,
    Decision,
    Meeting,
    MeetingStatus,
    MinutesPart,
    Series,
)
from kizuna.consultations.timezones import CAPITALS
from kizuna.core.access import get_visible_or_404, visible_labels
from kizuna.core.errors import ServiceError
from kizuna.core.models import Labelled
from kizuna.core.paging import MAX_LIMIT
from kizuna.directory.models import Role, User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Subject
from kizuna.reports.models import Report

# A meeting lasts at most MAX_MEETING (services refuse longer ones), so one that overlaps [start, end) started after
# start - MAX_MEETING: that lower bound turns the overlap into a range on the (label, start, id) index.
LOOKBACK: timedelta = MAX_MEETING

OPEN_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
CLOSED_STATUSES = (ActionStatus.DONE, ActionStatus.DROPPED)
# "all" is spelled as the list of every status rather than no condition: an IN list on the index's second column
# keeps (owner, status, due) usable as an ordered range for each status, where no condition would leave a sort.
STATES: dict[str, tuple[str, ...]] = {
    "open": OPEN_STATUSES,
    "overdue": OPEN_STATUSES,
    "done": CLOSED_STATUSES,
    "all": tuple(ActionStatus.values),
}


def _check_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ServiceError(gettext("%(name)s must be a date and time with a time zone") % {"name": name}, name)


def calendar_range(subject: Subject, start: datetime, end: datetime, *, series_id: int | None = None,
                   include_cancelled: bool = True) -> list[Meeting]:
    """Visible meetings overlapping [start, end) (aware datetimes), by start then id; series and label selected.

    A meeting overlaps when it starts before ``end`` and ends after ``start``: one that began before the range and
    ends inside it is included, one that ends exactly at ``start`` is not. ``meeting.series`` is joined as stored:
    whether the reader may see the series itself is for the caller to check (its ``label_id``) before naming it."""
    _check_aware(start, "start")
    _check_aware(end, "end")
    if end <= start:
        return []
    qs = Meeting.objects.visible_to(subject).filter(start__gte=start - LOOKBACK, start__lt=end, end__gt=start)
    if series_id is not None:
        qs = qs.filter(series_id=series_id)
    if not include_cancelled:
        qs = qs.exclude(status=MeetingStatus.CANCELLED)
    return list(qs.select_related("series", "label").order_by("start", "id"))


@dataclass
class ActionPage:
    items: list[ActionItem]
    next_cursor: str | None


def encode_action_cursor(due: date | None, pk: int) -> str:
    """Opaque position after the action (due, pk); an action without a due date sorts after every dated one."""
    text = f"{due.isoformat() if due is not None else '-'}|{pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_action_cursor(cursor: str) -> tuple[date | None, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk_text = raw.split("|")
        pk = int(pk_text)
        due = None if stamp == "-" else date.fromisoformat(stamp)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ServiceError(gettext("the page cursor is not valid; start again from the first page"), "cursor") from None
    if pk < 1:
        raise ServiceError(gettext("the page cursor is not valid; start again from the first page"), "cursor")
    return due, pk


def my_actions(user: User, *, state: str = "open", today: date | None = None, cursor: str | None = None,
               limit: int = 50, subject: Subject | None = None) -> ActionPage:
    """Visible actions owned by the user or the user's organisation. state: open (open + in progress), overdue
    (open or in progress and due before ``today``), done (done + dropped) or all. Ordered by due date (none last),
    then id; ``next_cursor`` continues after the last item and is None on the last page. ``subject`` saves
    ``subject_for(user)`` when the caller already has it. An item's ``meeting`` and ``series`` are joined as
    stored: the caller checks their ``label_id`` against the reader's visible labels before showing them."""
    if state not in STATES:
        raise ServiceError(gettext("unknown state %(state)s; use open, overdue, done or all") % {
            "state": repr(state)}, "state")
    if not isinstance(limit, int) or limit < 1 or limit > MAX_LIMIT:
        raise ServiceError(gettext("limit must be between 1 and %(max)d") % {"max": MAX_LIMIT}, "limit")
    after = decode_action_cursor(cursor) if cursor else None
    subject = subject if subject is not None else subject_for(user)
    base = ActionItem.objects.visible_to(subject).filter(status__in=STATES[state])
    if state == "overdue":
        base = base.filter(due__lt=today or date.today())
    owners = [Q(owner_user_id=user.pk)]
    if user.organisation_id is not None:
        owners.append(Q(owner_organisation_id=user.organisation_id))
    # One key query per owner kind, each an ordered range of its own index ((owner_user, status, due) or
    # (owner_organisation, status, due)), merged here. Asked as one query with "owner_user = ? OR
    # owner_organisation = ?" SQLite reads both owners' rows through a MULTI-INDEX OR and sorts them all.
    keys: list[tuple[date | None, int]] = []
    for owner in owners:
        keys.extend(_owner_keys(base.filter(owner), after, limit + 1, dated_only=state == "overdue"))
    keys.sort(key=lambda k: (k[0] is None, k[0] or date.min, k[1]))
    keys = keys[: limit + 1]
    more = len(keys) > limit
    keys = keys[:limit]
    # The keys were chosen through visible_to above; the rows are fetched by those keys alone, and their labels
    # checked again here against the same visible set. Repeating the label IN list in this query let PostgreSQL
    # without statistics (a freshly loaded table) combine a bitmap of every visible row's label with the keys: 20 ms
    # instead of 0.2 ms at 100,000 actions.
    visible = visible_labels(subject)
    rows = ActionItem.objects.filter(pk__in=[pk for _, pk in keys]).select_related(
        "meeting", "series", "label", "owner_user", "owner_organisation")
    by_pk = {row.pk: row for row in rows if row.label_id in visible}
    items = [by_pk[pk] for _, pk in keys if pk in by_pk]
    next_cursor = encode_action_cursor(*keys[-1]) if more and keys else None
    return ActionPage(items, next_cursor)


def _owner_keys(qs, after: tuple[date | None, int] | None, n: int,  # type: ignore[no-untyped-def]
                dated_only: bool) -> list[tuple[date | None, int]]:
    """The first ``n`` (due, id) of ``qs`` after the cursor: dated rows by (due, id), then undated rows by id."""
    keys: list[tuple[date | None, int]] = []
    if after is None or after[0] is not None:
        dated = qs.filter(due__isnull=False)
        if after is not None:
            due, pk = after
            # A range on due keeps the index usable; the OR only breaks ties within one day (as core.paging does).
            dated = dated.filter(Q(due__gte=due), Q(due__gt=due) | Q(id__gt=pk))
        keys.extend(dated.order_by("due", "id").values_list("due", "id")[:n])
    if len(keys) < n and not dated_only:
        undated = qs.filter(due__isnull=True)
        if after is not None and after[0] is None:
            undated = undated.filter(id__gt=after[1])
        keys.extend((None, pk) for pk in undated.order_by("id").values_list("id", flat=True)[: n - len(keys)])
    return keys


# --- who may organise ----------------------------------------------------------------------------------------------

def may_organise(user: User, record: Series | Meeting) -> bool:
    """The originating organisation, or a coordinator (or admin) of its nation, may change a series or meeting;
    so may the chair of the series. Nobody here organises a copy received from a peer."""
    if not user.can_contribute or record.stix_id:
        return False
    if user.organisation_id is not None and user.organisation_id == record.originator_id:
        return True
    series = record if isinstance(record, Series) else record.series
    if series is not None and series.chair_id == user.pk:
        return True
    return (user.role in (Role.COORDINATOR, Role.ADMIN) and user.nation_id is not None
            and user.nation_id == record.originator.nation_id)


def may_read_drafts(user: User, meeting: Meeting) -> bool:
    """The organisers of a meeting read its draft agenda and draft minutes."""
    return may_organise(user, meeting)


def action_roles(author: User, action: ActionItem) -> tuple[bool, bool]:
    """(owner, organiser): the owner is the person or a member of the owning organisation; an organiser may
    organise the action's meeting or series."""
    if action.stix_id:
        return False, False  # a received copy: read-only here
    owner = (action.owner_user_id == author.pk
             or (action.owner_organisation_id is not None and action.owner_organisation_id == author.organisation_id))
    organiser = any(r is not None and may_organise(author, r) for r in (action.meeting, action.series))
    return owner, organiser


# --- one meeting and its parts, as one reader may see them -----------------------------------------------------------

def get_meeting_or_404(user: User, pk: int) -> Meeting:
    """The meeting if ``user`` may see it (visible_to), else Http404 alike for missing and not visible."""
    qs: Any = Meeting.objects.select_related("series", "label", "originator", "created_by")
    meeting: Meeting = get_visible_or_404(qs, subject_for(user), pk=pk)
    return meeting


def get_series_or_404(user: User, pk: int) -> Series:
    """The series if ``user`` may see it (visible_to), else Http404 alike for missing and not visible."""
    qs: Any = Series.objects.select_related("label", "originator", "chair", "created_by")
    series: Series = get_visible_or_404(qs, subject_for(user), pk=pk)
    return series


def get_agenda_item_or_404(user: User, pk: int) -> AgendaItem:
    """A visible item of a visible meeting; an item of a draft agenda is 404 to whoever may not read drafts."""
    qs: Any = AgendaItem.objects.select_related("label")
    item: AgendaItem = get_visible_or_404(qs, subject_for(user), pk=pk)
    meeting = get_meeting_or_404(user, item.meeting_id)
    if meeting.agenda_published_at is None and not may_read_drafts(user, meeting):
        raise Http404
    item.meeting = meeting
    return item


def get_written_or_404(user: User, model: type[MinutesPart] | type[Decision], pk: int) -> Any:
    """A visible minutes part or decision of a visible meeting; 404 while the minutes are a draft the user may not
    read."""
    qs: Any = model.objects.select_related("label", "author")
    record: Any = get_visible_or_404(qs, subject_for(user), pk=pk)
    meeting = get_meeting_or_404(user, record.meeting_id)
    if meeting.minutes_published_at is None and not may_read_drafts(user, meeting):
        raise Http404
    record.meeting = meeting
    return record


def get_action_or_404(user: User, pk: int) -> ActionItem:
    """The action if ``user`` may see it (visible_to), with what its pages and answers show of it and of who
    organises it; else Http404 alike for missing and not visible."""
    qs: Any = ActionItem.objects.select_related("label", "owner_user", "owner_organisation", "meeting__originator",
                                                "meeting__series__originator", "series__originator")
    action: ActionItem = get_visible_or_404(qs, subject_for(user), pk=pk)
    return action


def visible_reports(user: User, ids: Iterable[int]) -> list[Report]:
    """The reports of ``ids`` (to link to an agenda item), each visible to ``user``; "no such report" (field
    ``reports``) when any is not: one the user may not see does not exist for them."""
    wanted = sorted(set(ids))
    found = list(Report.objects.visible_to(subject_for(user)).filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise ServiceError(gettext("no such report"), "reports")
    return found


def visible_series(user: User, meeting: Meeting) -> Series | None:
    """The meeting's series only if the reader may see the series too: a series has its own label."""
    if meeting.series_id is None:
        return None
    return Series.objects.visible_to(subject_for(user)).filter(pk=meeting.series_id).first()


def _sees(user: User, record: Labelled) -> bool:
    return record.label_id in visible_labels(subject_for(user))  # type: ignore[attr-defined]


def _readable(user: User, meeting: Meeting, published_at: datetime | None) -> bool:
    if not _sees(user, meeting):
        return False  # the caller fetched it for someone else: nothing of it reaches this user
    return published_at is not None or may_read_drafts(user, meeting)


def agenda_for(user: User, meeting: Meeting) -> list[AgendaItem]:
    """Visible agenda items in order; empty for a draft agenda unless the user may organise the meeting."""
    if not _readable(user, meeting, meeting.agenda_published_at):
        return []
    return list(AgendaItem.objects.visible_to(subject_for(user)).filter(meeting_id=meeting.pk)
                .select_related("label").order_by("order", "id"))


def position_for(user: User, record: AgendaItem | MinutesPart | Decision) -> int:
    """The record's place among its meeting's records of its kind that ``user`` may see (``order``, then id): what the
    REST answers and pages number it, so that a hidden record before it leaves no gap."""
    before = (type(record)._default_manager.visible_to(subject_for(user)).filter(meeting_id=record.meeting_id)
              .filter(Q(order__lt=record.order) | Q(order=record.order, pk__lt=record.pk)).exclude(pk=record.pk))
    return 1 + before.count()


def _action_order() -> list[Any]:
    return [F("due").asc(nulls_last=True), "id"]


def review_of_actions(user: User, meeting: Meeting) -> list[ActionItem]:
    """The open/in-progress actions of the meeting's series from earlier meetings, visible to the user: the automatic
    "review of actions" item of the agenda. Part of the agenda, so empty while the agenda is a draft for whoever may
    not read drafts; actions recorded on the series without a meeting count as earlier."""
    if meeting.series_id is None or not _readable(user, meeting, meeting.agenda_published_at):
        return []
    qs = (ActionItem.objects.visible_to(subject_for(user))
          .filter(series_id=meeting.series_id, status__in=OPEN_STATUSES)
          .filter(Q(meeting__isnull=True) | Q(meeting__start__lt=meeting.start)))
    return list(qs.select_related("meeting", "label", "owner_user", "owner_organisation").order_by(*_action_order()))


def minutes_for(user: User, meeting: Meeting) -> list[MinutesPart]:
    """Visible minutes parts in order; empty for draft minutes unless the user may organise the meeting."""
    if not _readable(user, meeting, meeting.minutes_published_at):
        return []
    return list(MinutesPart.objects.visible_to(subject_for(user)).filter(meeting_id=meeting.pk)
                .select_related("label", "author", "agenda_item").order_by("order", "id"))


def decisions_for(user: User, meeting: Meeting) -> list[Decision]:
    """Visible decisions in order; drafts until the minutes are published, like the minutes."""
    if not _readable(user, meeting, meeting.minutes_published_at):
        return []
    return list(Decision.objects.visible_to(subject_for(user)).filter(meeting_id=meeting.pk)
                .select_related("label", "author", "agenda_item").order_by("order", "id"))


def actions_for(user: User, meeting: Meeting) -> list[ActionItem]:
    """The actions recorded at the meeting that the user may see, by due date (none last)."""
    if not _sees(user, meeting):
        return []
    return list(ActionItem.objects.visible_to(subject_for(user)).filter(meeting_id=meeting.pk)
                .select_related("label", "owner_user", "owner_organisation", "agenda_item")
                .order_by(*_action_order()))


def today_utc() -> date:
    return timezone.now().astimezone(UTC).date()


def is_overdue(action: ActionItem, today: date | None = None) -> bool:
    """Still open or in progress after its due date (the day is the UTC day unless given)."""
    if action.due is None or action.status not in OPEN_STATUSES:
        return False
    return action.due < (today or today_utc())


def participating_nations(meeting: Meeting, series: Series | None, attendees: Iterable[Attendee]) -> list[str]:
    """The nations of a meeting's local-time table, one rule for the page, the API and print: the nations of its series
    (``series`` is None when there is none or the reader may not see it), then those of the attendees and of the
    organisers — the organising organisation and the person who arranged it — who take part even when they invited
    only others (an organiser is not an attendee by default)."""
    codes = list(series.nations or []) if series is not None else []
    extra = {a.user.nation_id for a in attendees if a.user.nation_id}
    extra |= {n for n in (meeting.originator.nation_id, meeting.created_by.nation_id) if n}
    codes += sorted(extra - set(codes))
    return [c for c in codes if c in CAPITALS]


def linked_reports(user: User, items: list[AgendaItem]) -> dict[int, list[Report]]:
    """Per agenda item, the linked reports the reader may see, by id: the link alone discloses nothing, each report is
    read through ``Report.objects.visible_to`` (label selected, for chips and markings)."""
    pairs = list(AgendaItem.reports.through.objects.filter(agendaitem_id__in=[i.pk for i in items])
                 .values_list("agendaitem_id", "report_id").order_by("agendaitem_id", "report_id"))
    visible = {r.pk: r for r in Report.objects.visible_to(subject_for(user))
               .filter(pk__in=sorted({r for _i, r in pairs})).select_related("label")}
    result: dict[int, list[Report]] = {}
    for item_id, report_id in pairs:
        if report_id in visible:
            result.setdefault(item_id, []).append(visible[report_id])
    return result
