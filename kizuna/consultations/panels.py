"""The consultations' panels of the home dashboard: the reader's upcoming meetings and their open and overdue
actions (owned by them or their organisation). Both read through ``queries`` (``visible_to`` inside the query), and
name a meeting or series only when the reader may see it too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from kizuna.consultations import queries
from kizuna.consultations.models import ActionItem
from kizuna.consultations.views.common import viewer_zone
from kizuna.core import audit
from kizuna.core.access import visible_labels
from kizuna.core.dates import format_local
from kizuna.core.registry import Panel, PanelContent, PanelItem
from kizuna.directory.models import User
from kizuna.labels import Subject

SHOWN = 5
AHEAD = timedelta(days=30)  # "upcoming": the next month of meetings


def upcoming_meetings(request: HttpRequest, subject: Subject, user: User) -> PanelContent:
    """The next meetings the reader may see (not cancelled), soonest first, shown in the reader's time zone."""
    now = timezone.now()
    meetings = queries.calendar_range(subject, now, now + AHEAD, include_cancelled=False)
    meetings = [m for m in meetings if m.end > now][:SHOWN]
    if meetings:
        audit.record(user.username, "list", "meeting", [m.pk for m in meetings], None, audit.client_address(request),
                     {"page": "dashboard"})
    return PanelContent(items=[
        PanelItem(title=m.title, url=reverse("consultations:meeting", args=[m.pk]), label=m.label, when=m.start)
        for m in meetings])


def _action_url(action: ActionItem, visible: Any) -> str:
    """The page an action is shown on: its meeting's, else its series', when the reader may see that record too;
    else the reader's actions page."""
    if action.meeting_id is not None and action.meeting is not None and action.meeting.label_id in visible:
        return reverse("consultations:meeting", args=[action.meeting_id]) + "#actions"
    if action.series_id is not None and action.series is not None and action.series.label_id in visible:
        return reverse("consultations:series", args=[action.series_id]) + "#actions"
    return reverse("consultations:my_actions")


def my_open_actions(request: HttpRequest, subject: Subject, user: User) -> PanelContent:
    """The open actions of the reader or their organisation, overdue ones first, with how many are overdue."""
    today = timezone.now().astimezone(viewer_zone(user)).date()
    overdue = queries.my_actions(user, state="overdue", today=today, limit=SHOWN, subject=subject)
    opened = queries.my_actions(user, state="open", today=today, limit=SHOWN, subject=subject)
    chosen: list[ActionItem] = list(overdue.items[:SHOWN])
    seen = {a.pk for a in chosen}
    chosen += [a for a in opened.items if a.pk not in seen][:SHOWN - len(chosen)]
    visible = visible_labels(subject)
    items = []
    for action in chosen:
        late = queries.is_overdue(action, today)
        due = format_local(action.due, "DUE_DATE_FORMAT") if action.due else gettext("no due date")
        note = (gettext("overdue since %(due)s") if late else gettext("due %(due)s")) % {"due": due} \
            if action.due else due
        items.append(PanelItem(title=action.title, url=_action_url(action, visible), label=action.label, note=note,
                               warn=late))
    if chosen:
        audit.record(user.username, "list", "action", [a.pk for a in chosen], None, audit.client_address(request),
                     {"page": "dashboard"})
    return PanelContent(items=items)


PANELS = (
    Panel(key="meetings", title=gettext_lazy("Upcoming meetings"), order=10, content=upcoming_meetings,
          empty=gettext_lazy("Meetings you may see in the next 30 days will appear here."),
          see_all="consultations:calendar", see_all_text=gettext_lazy("Calendar")),
    Panel(key="actions", title=gettext_lazy("My open actions"), order=20, content=my_open_actions,
          empty=gettext_lazy("Open actions assigned to you or your organisation will appear here, overdue ones "
                             "first."),
          see_all="consultations:my_actions", see_all_text=gettext_lazy("All my actions")),
)
