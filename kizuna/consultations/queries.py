"""Read queries of consultations that must stay fast at scale: the meetings of a calendar range and "my actions".

Both start from ``visible_to`` and are shaped so that SQLite answers them from the indexes declared in models.py
without statistics (no ANALYZE): see the Consultations section of docs/performance.md for the plans and figures.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils.translation import gettext

from kizuna.consultations.models import ActionItem, ActionStatus, Meeting, MeetingStatus
from kizuna.consultations.services import MAX_MEETING
from kizuna.core.access import visible_labels
from kizuna.core.errors import ServiceError
from kizuna.core.paging import MAX_LIMIT
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Subject

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
