"""The meeting cycle after a meeting exists: agenda publication, agenda item edits, minutes parts, decisions, action
edits, RSVP, and the reads that apply the draft/published rule on top of ``visible_to``.

CONTRACT STUB (owned by the cycle helper): signatures fixed, bodies to be written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kizuna.consultations.models import ActionItem, AgendaItem, Attendee, Decision, Meeting, MinutesPart
from kizuna.directory.models import User
from kizuna.labels import Label


def get_meeting_or_404(user: User, pk: int) -> Meeting:
    """The meeting if ``user`` may see it (visible_to), else kizuna.core.errors.NotFound / Http404 alike."""
    raise NotImplementedError


def may_read_drafts(user: User, meeting: Meeting) -> bool:
    raise NotImplementedError


def agenda_for(user: User, meeting: Meeting) -> list[AgendaItem]:
    """Visible agenda items in order; empty for a draft agenda unless the user may organise the meeting."""
    raise NotImplementedError


def review_of_actions(user: User, meeting: Meeting) -> list[ActionItem]:
    """The open/in-progress actions of the meeting's series from earlier meetings, visible to the user: the automatic
    "review of actions" item of the agenda."""
    raise NotImplementedError


def minutes_for(user: User, meeting: Meeting) -> list[MinutesPart]:
    raise NotImplementedError


def decisions_for(user: User, meeting: Meeting) -> list[Decision]:
    raise NotImplementedError


def actions_for(user: User, meeting: Meeting) -> list[ActionItem]:
    raise NotImplementedError


def is_overdue(action: ActionItem, today: date | None = None) -> bool:
    raise NotImplementedError


def do_publish_agenda(author: User, meeting: Meeting, address: str = "") -> Meeting:
    raise NotImplementedError


def do_unpublish_agenda(author: User, meeting: Meeting, address: str = "") -> Meeting:
    raise NotImplementedError


def do_update_agenda_item(author: User, item: AgendaItem, address: str = "", **changes: Any) -> AgendaItem:
    """Keywords: title, presenter, duration_minutes, order, label, reports."""
    raise NotImplementedError


def do_delete_agenda_item(author: User, item: AgendaItem, address: str = "") -> None:
    raise NotImplementedError


def do_add_minutes(author: User, meeting: Meeting, text: str, label: Label, agenda_item: AgendaItem | None = None,
                   address: str = "") -> MinutesPart:
    raise NotImplementedError


def do_update_minutes(author: User, part: MinutesPart, address: str = "", **changes: Any) -> MinutesPart:
    """Keywords: text, label, agenda_item."""
    raise NotImplementedError


def do_delete_minutes(author: User, part: MinutesPart, address: str = "") -> None:
    raise NotImplementedError


def do_record_decision(author: User, meeting: Meeting, text: str, label: Label,
                       agenda_item: AgendaItem | None = None, address: str = "") -> Decision:
    raise NotImplementedError


def do_update_decision(author: User, decision: Decision, address: str = "", **changes: Any) -> Decision:
    raise NotImplementedError


def do_delete_decision(author: User, decision: Decision, address: str = "") -> None:
    raise NotImplementedError


def do_publish_minutes(author: User, meeting: Meeting, address: str = "") -> Meeting:
    raise NotImplementedError


def do_unpublish_minutes(author: User, meeting: Meeting, address: str = "") -> Meeting:
    raise NotImplementedError


def do_update_action(author: User, action: ActionItem, address: str = "", **changes: Any) -> ActionItem:
    """Keywords: title, due, owner_user, owner_organisation, label, notes, status, agenda_item."""
    raise NotImplementedError


def do_rsvp(user: User, meeting: Meeting, answer: str, address: str = "") -> Attendee:
    raise NotImplementedError
