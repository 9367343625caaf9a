"""What every consultation write shares: the checks of its input, who may write, locking and re-reading a record for
its author, setting changes and labels, and telling people (notifications, recorded in the writer's transaction).

Bad input raises ``ServiceError`` naming the field, before anything is written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.utils.translation import gettext

from kizuna.consultations import notify
from kizuna.consultations.models import ActionItem, AgendaItem, Meeting, MeetingStatus, Series
from kizuna.consultations.queries import may_organise, visible_reports
from kizuna.consultations.timezones import CAPITALS, is_known_zone
from kizuna.core.access import intern_label, label_of
from kizuna.core.errors import NotFound, ServiceError
from kizuna.core.focus import FocusArea
from kizuna.core.models import Labelled, LabelRecord
from kizuna.directory import disclosure
from kizuna.directory.authoring import require_contributor, resolve_label
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label
from kizuna.reports.models import Report

MAX_TITLE = 300
MAX_TEXT = 100_000  # characters of Markdown in one minutes part, decision or action's notes
MAX_REASON = 2000
MAX_PRESENTER = 200

L = TypeVar("L", bound=Labelled)


# --- telling people --------------------------------------------------------------------------------------------------

def notify_users(kind: str, users: Any, *, meeting: Meeting | None = None, action: ActionItem | None = None,
                 key: str = "") -> int:
    return notify.notify(kind, list(users), meeting=meeting, action=action, key=key)


def attendee_users(meeting: Meeting, exclude: set[int] | None = None) -> list[User]:
    users = User.objects.filter(meeting_invitations__meeting=meeting, is_active=True).order_by("id")
    return [u for u in users if not exclude or u.pk not in exclude]


# --- checks --------------------------------------------------------------------------------------------------------

def check_title(title: str) -> str:
    if not title or not title.strip():
        raise ServiceError(gettext("a title is required"), "title")
    if len(title) > MAX_TITLE:
        raise ServiceError(gettext("the title is longer than %(max)d characters") % {"max": MAX_TITLE}, "title")
    if "\x00" in title:  # PostgreSQL text cannot hold NUL; refuse it on every database alike
        raise ServiceError(gettext("the title contains a NUL character"), "title")
    return title.strip()


def check_text(text: Any, name: str = "text", required: bool = True) -> str:
    if not isinstance(text, str):
        raise ServiceError(gettext("%(field)s must be text") % {"field": name}, name)
    if required and not text.strip():
        raise ServiceError(gettext("the text is required"), name)
    if "\x00" in text:  # PostgreSQL text cannot hold NUL; refuse it on every database alike
        raise ServiceError(gettext("the text contains a NUL character"), name)
    if len(text) > MAX_TEXT:
        raise ServiceError(gettext("the text is longer than %(max)d characters") % {"max": MAX_TEXT}, name)
    return text.strip()


def check_duration(minutes: int) -> int:
    if not isinstance(minutes, int) or not 1 <= minutes <= 24 * 60:
        raise ServiceError(gettext("the duration must be between 1 and 1440 minutes"), "duration_minutes")
    return minutes


def check_zone(key: str, name: str = "time_zone") -> str:
    if not is_known_zone(key):
        raise ServiceError(gettext("unknown time zone %(zone)s; use an IANA name such as Europe/Brussels or Asia/Tokyo")
                           % {"zone": repr(key)}, name)
    return key


def check_nations(nations: list[str]) -> list[str]:
    unknown = sorted(n for n in nations if n not in CAPITALS)
    if unknown:
        raise ServiceError(gettext("unknown nation(s): %(codes)s") % {"codes": ", ".join(unknown)}, "nations")
    return sorted(set(nations))


def check_focus(areas: list[str]) -> list[str]:
    unknown = [a for a in areas if a not in FocusArea.values]
    if unknown:
        raise ServiceError(gettext("unknown focus area(s): %(areas)s") % {"areas": ", ".join(unknown)}, "focus_areas")
    return sorted(set(areas))


def check_attendees(attendees: list[User], label: Label, viewer: User | None = None) -> list[User]:
    """Every attendee (chair, owner) must be able to see the label: an invitation never discloses what its invitee may
    not read. The refusal names only whom ``viewer`` may be told cannot see it (``directory.disclosure``: nation,
    organisation and TLP:RED naming are shared; clearance and communities are not). Someone excluded by what the
    viewer may not learn is kept: the answer must not depend on it, and they see neither the record nor any notice
    of it (notifications and every read go through the label check)."""
    unique: dict[int, User] = {}
    for user in attendees:
        unique[user.pk] = user
    refused = [u.username for u in disclosure.refused(viewer, list(unique.values()), label)]
    if refused:
        raise ServiceError(gettext("these attendees may not see a meeting with this label: %(users)s")
                           % {"users": ", ".join(sorted(refused))}, "attendees")
    return list(unique.values())


def aware(value: datetime, zone: str, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ServiceError(gettext("%(field)s must be a date and time") % {"field": name}, name)
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=ZoneInfo(zone))  # wall-clock time in the home zone
    return value.astimezone(UTC)


def check_reports(author: User, reports: list[Report]) -> list[Report]:
    return visible_reports(author, [r.pk for r in reports])


def check_agenda_item(author: User, meeting_id: int | None, item: Any) -> AgendaItem | None:
    """An agenda item of this meeting that the author may see, or None (a part about the meeting as a whole)."""
    if item is None:
        return None
    if not isinstance(item, AgendaItem):
        raise ServiceError(gettext("no such agenda item"), "agenda_item")
    found = AgendaItem.objects.visible_to(subject_for(author)).filter(pk=item.pk).first()
    if found is None:
        raise ServiceError(gettext("no such agenda item"), "agenda_item")  # not visible = does not exist
    if meeting_id is None or found.meeting_id != meeting_id:
        raise ServiceError(gettext("this agenda item belongs to another meeting"), "agenda_item")
    return found


def check_unknown(changes: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ServiceError(gettext("unknown field(s): %(fields)s") % {"fields": ", ".join(unknown)}, unknown[0])


# --- who may write, and the record as its author may see it ----------------------------------------------------------

def refuse_received(record: Series | Meeting | ActionItem) -> None:
    """A copy received from a peer (``stix_id`` set) is read-only here: only its originating node issues new
    versions, and a local change would never travel and be overwritten by the next one."""
    if record.stix_id:
        raise ServiceError(gettext("this record was received from another node and can be changed only there"))


def require_organiser(author: User, meeting: Meeting, message: str) -> None:
    require_contributor(author)
    if not may_organise(author, meeting):
        raise ServiceError(message)


def require_scheduled(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.CANCELLED:
        raise ServiceError(gettext("this meeting has been cancelled and can no longer be changed"))


def lock_meeting(author: User, meeting: Meeting) -> Meeting:
    """The meeting, locked for the transaction (it serialises the numbering of its items) and re-read for the
    author; refused when it was cancelled in the meantime."""
    locked = Meeting.objects.visible_to(subject_for(author)).select_for_update().filter(pk=meeting.pk).first()
    if locked is None:
        raise NotFound()
    require_scheduled(locked)
    return locked


def lock_visible(model: type[L], author: User, pk: int) -> L:
    record = model.objects.visible_to(subject_for(author)).select_for_update().filter(pk=pk).first()  # type: ignore[attr-defined]
    if record is None:
        raise NotFound()
    result: L = record
    return result


def new_label(author: User, current: LabelRecord, wanted: Any) -> LabelRecord:
    """The interned label to store: the current one unless ``wanted`` differs, then resolved for the author."""
    if not isinstance(wanted, Label):
        raise ServiceError(gettext("a label is required"), "label")
    if wanted == label_of(current):
        return current
    return intern_label(resolve_label(author, wanted))


def apply_changes(author: User, locked: Labelled, changes: dict[str, Any], clean: dict[str, Any]) -> list[str]:
    """Set the (validated) changes on a locked record; the names of the fields that really changed ("label" for a
    new label, foreign keys without their "_id")."""
    changed: list[str] = []
    if "label" in changes:
        record = new_label(author, locked.label, changes["label"])
        if record.pk != locked.label_id:
            locked.label = record
            changed.append("label")
    for name, value in clean.items():
        if getattr(locked, name) != value:
            setattr(locked, name, value)
            changed.append(name.removesuffix("_id"))
    return changed
