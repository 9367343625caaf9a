"""Read queries of consultations that must stay fast at scale: the calendar range and "my actions".

CONTRACT STUB (owned by the queries/benchmark helper); the simple versions below are correct and will be made fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q

from kizuna.consultations.models import ActionItem, ActionStatus, Meeting
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Subject


def calendar_range(subject: Subject, start: datetime, end: datetime, *, series_id: int | None = None,
                   include_cancelled: bool = True) -> list[Meeting]:
    """Visible meetings overlapping [start, end) (aware datetimes), by start; series and label selected."""
    qs = Meeting.objects.visible_to(subject).filter(start__lt=end, end__gt=start)
    if series_id is not None:
        qs = qs.filter(series_id=series_id)
    if not include_cancelled:
        qs = qs.exclude(status="cancelled")
    return list(qs.select_related("series", "label").order_by("start", "id"))


@dataclass
class ActionPage:
    items: list[ActionItem]
    next_cursor: str | None


def my_actions(user: User, *, state: str = "open", today: date | None = None, cursor: str | None = None,
               limit: int = 50) -> ActionPage:
    """Visible actions owned by the user or the user's organisation. state: open (open + in progress), overdue,
    done (done + dropped) or all. Ordered by due date (none last), then id."""
    qs = ActionItem.objects.visible_to(subject_for(user)).filter(
        Q(owner_user=user) | Q(owner_organisation_id=user.organisation_id) if user.organisation_id else Q(owner_user=user))
    if state == "open":
        qs = qs.filter(status__in=[ActionStatus.OPEN, ActionStatus.IN_PROGRESS])
    elif state == "done":
        qs = qs.filter(status__in=[ActionStatus.DONE, ActionStatus.DROPPED])
    elif state == "overdue":
        qs = qs.filter(status__in=[ActionStatus.OPEN, ActionStatus.IN_PROGRESS], due__lt=today or date.today())
    items = list(qs.select_related("meeting", "series", "label", "owner_user", "owner_organisation")
                 .order_by("due", "id")[:limit])
    return ActionPage(items, None)
