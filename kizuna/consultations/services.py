"""Every write to consultations, as ``do_*`` functions in a transaction.

The rules, as for reports: only contributors write; nobody may write a label they could not see themselves; every
invited attendee must be able to see the meeting's label (checked with the label engine before anything is written);
after each write the record is re-read through ``visible_to(author)`` inside the transaction and everything rolls back
if that fails; every write is audited and versioned here and only here. Bad input raises ``ServiceError`` naming the
field, with nothing written.

Times: a meeting's start and end are stored in UTC, with its home IANA zone. A naive datetime given to a service is
read as wall-clock time in that home zone. A series' RRULE is checked and evaluated by ``recurrence.py``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from kizuna.consultations.models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    Attendee,
    Decision,
    Meeting,
    MeetingMode,
    MeetingStatus,
    MinutesPart,
    NotificationKind,
    Series,
)
from kizuna.consultations.recurrence import local_dtstart, parse_rrule
from kizuna.consultations.timezones import CAPITALS, is_known_zone
from kizuna.core import audit
from kizuna.core.access import intern_label, label_of, recheck_visible
from kizuna.core.errors import ServiceError
from kizuna.core.focus import FocusArea
from kizuna.core.versions import snapshot
from kizuna.directory import disclosure
from kizuna.directory.authoring import require_contributor, resolve_label
from kizuna.directory.models import Organisation, Role, User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label
from kizuna.reports.models import Report

MAX_TITLE = 300
MAX_TEXT = 100_000  # characters of Markdown in one minutes part, decision or action's notes
MAX_MEETING = timedelta(days=14)
MAX_REASON = 2000
_UNSET: Any = object()
DONE_STATES = (ActionStatus.DONE, ActionStatus.DROPPED)
# Meeting fields whose change a calendar (and so each remaining attendee) must be told of.
_NOTICE_FIELDS = ("start", "end", "time_zone", "mode", "place", "link")

Shareable = Series | Meeting | AgendaItem | MinutesPart | Decision | ActionItem


# --- the other modules of the cycle ---------------------------------------------------------------------------------
# Imported when called, not at module import: stix.py and notify.py may themselves read through these services.

def publish(record: Shareable, revoked: bool = False) -> None:
    """The record's STIX form as a new version (or its revocation), in the caller's transaction, after the
    visibility re-check."""
    from kizuna.consultations import stix

    stix.publish(record, revoked=revoked)


def publish_related(deleted: Shareable) -> None:
    """After ``deleted`` is gone: the STIX forms that counted it (positions) or referred to it, stored again."""
    from kizuna.consultations import stix

    stix.publish_related(deleted)


def notify_users(kind: str, users: Any, *, meeting: Meeting | None = None, action: ActionItem | None = None,
                 key: str = "") -> int:
    from kizuna.consultations import notify

    return notify.notify(kind, list(users), meeting=meeting, action=action, key=key)


def attendee_users(meeting: Meeting, exclude: set[int] | None = None) -> list[User]:
    users = User.objects.filter(meeting_invitations__meeting=meeting, is_active=True).order_by("id")
    return [u for u in users if not exclude or u.pk not in exclude]


def owner_users(action: ActionItem) -> list[User]:
    """Who is told of an assignment: the person, or the active members of the owning organisation."""
    if action.owner_user_id is not None:
        return list(User.objects.filter(pk=action.owner_user_id, is_active=True))
    if action.owner_organisation_id is None:
        return []
    return list(User.objects.filter(organisation_id=action.owner_organisation_id, is_active=True).order_by("id"))


def owner_key(action: ActionItem) -> str:
    if action.owner_user_id is not None:
        return f"user:{action.owner_user_id}"
    return f"org:{action.owner_organisation_id}"


def notify_assigned(action: ActionItem) -> int:
    return notify_users(NotificationKind.ACTION_ASSIGNED, owner_users(action), action=action,
                        meeting=action.meeting, key=f"action_assigned:{action.pk}:{owner_key(action)}")


def action_data(action: ActionItem) -> dict[str, Any]:
    return {
        "title": action.title,
        "meeting": action.meeting_id,
        "series": action.series_id,
        "owner_user": action.owner_user.username if action.owner_user else None,
        "owner_organisation": action.owner_organisation.code if action.owner_organisation else None,
        "due": action.due.isoformat() if action.due else None,
        "status": action.status,
        "agenda_item": action.agenda_item_id,
        "notes": action.notes,
        "completed_at": action.completed_at.isoformat() if action.completed_at else None,
        "label": label_of(action.label).as_api(),
    }


def agenda_item_data(item: AgendaItem) -> dict[str, Any]:
    return {
        "meeting": item.meeting_id,
        "order": item.order,
        "title": item.title,
        "presenter": item.presenter,
        "duration_minutes": item.duration_minutes,
        "reports": sorted(item.reports.values_list("pk", flat=True)),
        "label": label_of(item.label).as_api(),
    }


def renumber_agenda(meeting_id: int, item: AgendaItem | None = None, position: int | None = None) -> list[AgendaItem]:
    """Number the meeting's items 1..n in their order, putting ``item`` at ``position`` (the others shift). Saves
    the others whose number changed and returns them; ``item``'s own number is set but not saved."""
    others = [each for each in AgendaItem.objects.filter(meeting_id=meeting_id).order_by("order", "id")
              if item is None or each.pk != item.pk]
    ordered = list(others)
    if item is not None:
        at = len(others) + 1 if position is None else max(1, min(position, len(others) + 1))
        ordered.insert(at - 1, item)
    moved: list[AgendaItem] = []
    for number, each in enumerate(ordered, start=1):
        if each.order != number:
            each.order = number
            if each is not item:
                moved.append(each)
    if moved:
        AgendaItem.objects.bulk_update(moved, ["order"])
    return moved


# --- validation ----------------------------------------------------------------------------------------------------

def _check_title(title: str) -> str:
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


def _check_zone(key: str, name: str = "time_zone") -> str:
    if not is_known_zone(key):
        raise ServiceError(gettext("unknown time zone %(zone)s; use an IANA name such as Europe/Brussels or Asia/Tokyo")
                           % {"zone": repr(key)}, name)
    return key


def _check_nations(nations: list[str]) -> list[str]:
    unknown = sorted(n for n in nations if n not in CAPITALS)
    if unknown:
        raise ServiceError(gettext("unknown nation(s): %(codes)s") % {"codes": ", ".join(unknown)}, "nations")
    return sorted(set(nations))


def _check_focus(areas: list[str]) -> list[str]:
    unknown = [a for a in areas if a not in FocusArea.values]
    if unknown:
        raise ServiceError(gettext("unknown focus area(s): %(areas)s") % {"areas": ", ".join(unknown)}, "focus_areas")
    return sorted(set(areas))


def _check_attendees(attendees: list[User], label: Label, viewer: User | None = None) -> list[User]:
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


def _aware(value: datetime, zone: str, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ServiceError(gettext("%(field)s must be a date and time") % {"field": name}, name)
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=ZoneInfo(zone))  # wall-clock time in the home zone
    return value.astimezone(UTC)


# --- series --------------------------------------------------------------------------------------------------------

@dataclass
class SeriesInput:
    title: str
    label: Label
    time_zone: str
    rrule: str = ""
    first_date: date | None = None
    start_time: time | None = None
    duration_minutes: int = 60
    focus_areas: list[str] = field(default_factory=list)
    nations: list[str] = field(default_factory=list)
    chair: User | None = None


def _check_series(data: SeriesInput) -> dict[str, Any]:
    clean: dict[str, Any] = {
        "title": _check_title(data.title),
        "time_zone": _check_zone(data.time_zone),
        "focus_areas": _check_focus(list(data.focus_areas)),
        "nations": _check_nations(list(data.nations)),
        "duration_minutes": data.duration_minutes,
        "first_date": data.first_date,
        "start_time": data.start_time,
        "rrule": data.rrule.strip(),
        "chair": data.chair,
    }
    if not isinstance(data.duration_minutes, int) or not 1 <= data.duration_minutes <= 24 * 60:
        raise ServiceError(gettext("the duration must be between 1 and 1440 minutes"), "duration_minutes")
    if clean["rrule"]:
        if data.first_date is None or data.start_time is None:
            raise ServiceError(gettext("a cadence needs the first date and the start time"), "first_date")
        parse_rrule(clean["rrule"], local_dtstart(data.first_date, data.start_time, data.time_zone))
        if clean["rrule"].upper().startswith("RRULE:"):
            clean["rrule"] = clean["rrule"][6:]
    if data.chair is not None and not data.chair.is_active:
        raise ServiceError(gettext("the chair's account is not active"), "chair")
    return clean


def _series_data(series: Series) -> dict[str, Any]:
    return {
        "title": series.title,
        "focus_areas": list(series.focus_areas),
        "nations": list(series.nations),
        "chair": series.chair.username if series.chair else None,
        "rrule": series.rrule,
        "time_zone": series.time_zone,
        "first_date": series.first_date.isoformat() if series.first_date else None,
        "start_time": series.start_time.isoformat() if series.start_time else None,
        "duration_minutes": series.duration_minutes,
        "label": label_of(series.label).as_api(),
    }



def refuse_received(record: Series | Meeting | ActionItem) -> None:
    """A copy received from a peer (``stix_id`` set) is read-only here: only its originating node issues new
    versions, and a local change would never travel and be overwritten by the next one."""
    if record.stix_id:
        raise ServiceError(gettext("this record was received from another node and can be changed only there"))


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


def do_create_series(author: User, data: SeriesInput, address: str = "") -> Series:
    require_contributor(author)
    clean = _check_series(data)
    with transaction.atomic():
        label = resolve_label(author, data.label)
        if clean["chair"] is not None:
            _check_attendees([clean["chair"]], label, author)
        record = intern_label(label)
        assert author.organisation is not None
        series = Series.objects.create(label=record, originator=author.organisation, created_by=author, **clean)
        recheck_visible(series, subject_for(author))
        snapshot(series, _series_data(series), author, "created")
        publish(series)
        audit.record(author.username, "create", "series", [series.pk], record.pk, address)
    return series


def do_update_series(author: User, series: Series, address: str = "", **changes: Any) -> Series:
    """Change fields of a series the author can see (fetched through visible_to). Keywords: the fields of
    SeriesInput."""
    refuse_received(series)
    allowed = set(SeriesInput.__dataclass_fields__)
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ServiceError(gettext("unknown field(s): %(fields)s") % {"fields": ", ".join(unknown)})
    if not may_organise(author, series):
        raise ServiceError(gettext("only the originating organisation, a coordinator of its nation or the chair may "
                                   "change this series"))
    current = label_of(series.label)
    merged = SeriesInput(
        title=changes.get("title", series.title),
        label=changes.get("label", current),
        time_zone=changes.get("time_zone", series.time_zone),
        rrule=changes.get("rrule", series.rrule),
        first_date=changes.get("first_date", series.first_date),
        start_time=changes.get("start_time", series.start_time),
        duration_minutes=changes.get("duration_minutes", series.duration_minutes),
        focus_areas=changes.get("focus_areas", list(series.focus_areas)),
        nations=changes.get("nations", list(series.nations)),
        chair=changes.get("chair", series.chair),
    )
    clean = _check_series(merged)
    with transaction.atomic():
        locked = Series.objects.select_for_update().get(pk=series.pk)
        label = resolve_label(author, merged.label) if merged.label != current else current
        if clean["chair"] is not None:
            _check_attendees([clean["chair"]], label, author)
        record = intern_label(label)
        changed = ["label"] if record.pk != locked.label_id else []
        for name, value in clean.items():
            if getattr(locked, name) != value:
                setattr(locked, name, value)
                changed.append(name)
        if not changed:
            return locked
        locked.label = record
        locked.save()
        recheck_visible(locked, subject_for(author))
        snapshot(locked, _series_data(locked), author, "changed " + ", ".join(changed))
        publish(locked)
        audit.record(author.username, "update", "series", [locked.pk], record.pk, address, {"changed": changed})
    return locked


# --- meetings ------------------------------------------------------------------------------------------------------

@dataclass
class MeetingInput:
    title: str
    label: Label
    start: datetime
    end: datetime
    time_zone: str
    mode: str = MeetingMode.VIRTUAL
    place: str = ""
    link: str = ""
    series: Series | None = None
    attendees: list[User] = field(default_factory=list)


def _check_meeting(data: MeetingInput, author: User) -> dict[str, Any]:
    zone = _check_zone(data.time_zone)
    start = _aware(data.start, zone, "start")
    end = _aware(data.end, zone, "end")
    if end <= start:
        raise ServiceError(gettext("the meeting must end after it starts"), "end")
    if end - start > MAX_MEETING:
        raise ServiceError(gettext("a meeting may last at most 14 days"), "end")
    if data.mode not in MeetingMode.values:
        raise ServiceError(gettext("unknown mode %(mode)s; use one of %(modes)s")
                           % {"mode": repr(data.mode), "modes": ", ".join(MeetingMode.values)}, "mode")
    place, link = data.place.strip(), data.link.strip()
    if data.mode in (MeetingMode.IN_PERSON, MeetingMode.HYBRID) and not place:
        raise ServiceError(gettext("a meeting in person needs a place"), "place")
    if data.mode in (MeetingMode.VIRTUAL, MeetingMode.HYBRID) and not link:
        raise ServiceError(gettext("a virtual meeting needs a link"), "link")
    if len(place) > 300:
        raise ServiceError(gettext("the place is longer than 300 characters"), "place")
    if link:
        try:
            URLValidator(schemes=["https"])(link)
        except ValidationError:
            raise ServiceError(gettext("the link must be an https:// address"), "link") from None
        if len(link) > 500:
            raise ServiceError(gettext("the link is longer than 500 characters"), "link")
    if data.series is not None and not Series.objects.visible_to(subject_for(author)).filter(pk=data.series.pk).exists():
        raise ServiceError(gettext("no such series"), "series")  # not visible = does not exist
    return {"title": _check_title(data.title), "start": start, "end": end, "time_zone": zone, "mode": data.mode,
            "place": place, "link": link, "series": data.series}


def _meeting_data(meeting: Meeting) -> dict[str, Any]:
    return {
        "title": meeting.title,
        "start": meeting.start.isoformat(),
        "end": meeting.end.isoformat(),
        "time_zone": meeting.time_zone,
        "mode": meeting.mode,
        "place": meeting.place,
        "link": meeting.link,
        "status": meeting.status,
        "series": meeting.series_id,
        "sequence": meeting.sequence,
        "uid": meeting.uid,
        "attendees": sorted(meeting.attendees.values_list("user__username", flat=True)),
        "cancel_reason": meeting.cancel_reason,
        "agenda_published_at": meeting.agenda_published_at.isoformat() if meeting.agenda_published_at else None,
        "minutes_published_at": meeting.minutes_published_at.isoformat() if meeting.minutes_published_at else None,
        "label": label_of(meeting.label).as_api(),
    }


def meeting_data(meeting: Meeting) -> dict[str, Any]:
    return _meeting_data(meeting)


def do_create_meeting(author: User, data: MeetingInput, address: str = "") -> Meeting:
    require_contributor(author)
    clean = _check_meeting(data, author)
    with transaction.atomic():
        label = resolve_label(author, data.label)
        attendees = _check_attendees(list(data.attendees), label, author)
        record = intern_label(label)
        assert author.organisation is not None
        meeting = Meeting.objects.create(
            label=record, originator=author.organisation, created_by=author,
            uid=f"{uuid.uuid4()}@kizuna", sequence=0, **clean,
        )
        Attendee.objects.bulk_create([Attendee(meeting=meeting, user=u) for u in attendees])
        recheck_visible(meeting, subject_for(author))
        snapshot(meeting, _meeting_data(meeting), author, "created")
        audit.record(author.username, "create", "meeting", [meeting.pk], record.pk, address,
                     {"attendees": sorted(u.username for u in attendees)})
        publish(meeting)
        notify_users(NotificationKind.INVITATION, attendee_users(meeting), meeting=meeting,
                     key=f"invitation:{meeting.pk}")
    return meeting


def do_update_meeting(author: User, meeting: Meeting, address: str = "", **changes: Any) -> Meeting:
    """Change fields of a meeting the author can see (fetched through visible_to). Keywords: the fields of
    MeetingInput; ``attendees`` replaces the list (answers of those who stay are kept). Any change raises SEQUENCE;
    the UID never changes."""
    refuse_received(meeting)
    allowed = set(MeetingInput.__dataclass_fields__)
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ServiceError(gettext("unknown field(s): %(fields)s") % {"fields": ", ".join(unknown)})
    if not may_organise(author, meeting):
        raise ServiceError(gettext("only the originating organisation, a coordinator of its nation or the chair may "
                                   "change this meeting"))
    if meeting.status == MeetingStatus.CANCELLED:
        raise ServiceError(gettext("this meeting has been cancelled and can no longer be changed"))
    current = label_of(meeting.label)
    present = list(User.objects.filter(meeting_invitations__meeting=meeting))
    merged = MeetingInput(
        title=changes.get("title", meeting.title),
        label=changes.get("label", current),
        start=changes.get("start", meeting.start),
        end=changes.get("end", meeting.end),
        time_zone=changes.get("time_zone", meeting.time_zone),
        mode=changes.get("mode", meeting.mode),
        place=changes.get("place", meeting.place),
        link=changes.get("link", meeting.link),
        series=changes.get("series", meeting.series),
        attendees=list(changes.get("attendees", present)),
    )
    clean = _check_meeting(merged, author)
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        label = resolve_label(author, merged.label) if merged.label != current else current
        # Re-checked on every change: a relabel must not leave an invitee holding what they may no longer read.
        attendees = _check_attendees(merged.attendees, label, author)
        record = intern_label(label)
        changed = ["label"] if record.pk != locked.label_id else []
        for name, value in clean.items():
            if getattr(locked, name) != value:
                setattr(locked, name, value)
                changed.append(name)
        wanted = {u.pk for u in attendees}
        have = set(locked.attendees.values_list("user_id", flat=True))
        if wanted != have:
            changed.append("attendees")
            locked.attendees.exclude(user_id__in=wanted).delete()
            Attendee.objects.bulk_create([Attendee(meeting=locked, user_id=pk) for pk in sorted(wanted - have)])
        if not changed:
            return locked
        locked.label = record
        locked.sequence += 1
        locked.save()
        recheck_visible(locked, subject_for(author))
        snapshot(locked, _meeting_data(locked), author, "changed " + ", ".join(changed))
        audit.record(author.username, "update", "meeting", [locked.pk], record.pk, address,
                     {"changed": changed, "sequence": locked.sequence})
        publish(locked)
        added = wanted - have
        if added:
            notify_users(NotificationKind.INVITATION, User.objects.filter(pk__in=sorted(added), is_active=True),
                         meeting=locked, key=f"invitation:{locked.pk}:{locked.sequence}")
        if any(name in changed for name in _NOTICE_FIELDS):
            notify_users(NotificationKind.MEETING_CHANGED, attendee_users(locked, exclude=added), meeting=locked,
                         key=f"meeting_changed:{locked.pk}:{locked.sequence}")
    return locked


def do_cancel_meeting(author: User, meeting: Meeting, reason: str = "", address: str = "") -> Meeting:
    """Cancel: the meeting stays (a calendar must learn of it: STATUS:CANCELLED with a higher SEQUENCE)."""
    refuse_received(meeting)
    if not may_organise(author, meeting):
        raise ServiceError(gettext("only the originating organisation, a coordinator of its nation or the chair may "
                                   "cancel this meeting"))
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise ServiceError(gettext("the reason is longer than %(max)d characters") % {"max": MAX_REASON}, "reason")
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if locked.status == MeetingStatus.CANCELLED:
            return locked
        locked.status = MeetingStatus.CANCELLED
        locked.cancel_reason = reason.strip()
        locked.sequence += 1
        locked.save()
        recheck_visible(locked, subject_for(author))
        snapshot(locked, _meeting_data(locked), author, f"cancelled: {reason}"[:200] if reason else "cancelled")
        audit.record(author.username, "cancel", "meeting", [locked.pk], locked.label_id, address, {"reason": reason})
        publish(locked)
        notify_users(NotificationKind.MEETING_CANCELLED, attendee_users(locked), meeting=locked,
                     key=f"meeting_cancelled:{locked.pk}")
    return locked


# --- agenda items and action items ----------------------------------------------------------------------------------

def _check_duration(minutes: int) -> int:
    if not isinstance(minutes, int) or not 1 <= minutes <= 24 * 60:
        raise ServiceError(gettext("the duration must be between 1 and 1440 minutes"), "duration_minutes")
    return minutes


def _check_reports(author: User, reports: list[Report]) -> list[Report]:
    ids = sorted({r.pk for r in reports})
    visible = list(Report.objects.visible_to(subject_for(author)).filter(pk__in=ids))
    if len(visible) != len(ids):
        raise ServiceError(gettext("no such report"), "reports")  # not visible = does not exist
    return visible


def do_add_agenda_item(
    author: User, meeting: Meeting, title: str, label: Label, presenter: str = "", duration_minutes: int = 15,
    order: int | None = None, reports: list[Report] | None = None, address: str = "",
) -> AgendaItem:
    """Append an item (or put it at ``order``; the items from there on shift down) to the agenda of a meeting the
    author may organise and that is not cancelled."""
    if not may_organise(author, meeting):
        raise ServiceError(gettext("only the organisers of this meeting may change its agenda"))
    if meeting.status == MeetingStatus.CANCELLED:
        raise ServiceError(gettext("this meeting has been cancelled and can no longer be changed"))
    clean_title = _check_title(title)
    if len(presenter) > 200:
        raise ServiceError(gettext("the presenter is longer than 200 characters"), "presenter")
    minutes = _check_duration(duration_minutes)
    if order is not None and (not isinstance(order, int) or order < 1):
        raise ServiceError(gettext("the order must be a positive number"), "order")
    linked = _check_reports(author, list(reports or []))
    with transaction.atomic():
        current = Meeting.objects.select_for_update().filter(pk=meeting.pk).first()  # serialises concurrent appends
        if current is None or current.status == MeetingStatus.CANCELLED:
            raise ServiceError(gettext("this meeting has been cancelled and can no longer be changed"))
        resolved = resolve_label(author, label)
        record = intern_label(resolved)
        last = AgendaItem.objects.filter(meeting=meeting).order_by("-order").values_list("order", flat=True).first()
        assert author.organisation is not None
        item = AgendaItem.objects.create(meeting=meeting, order=(last or 0) + 1, title=clean_title,
                                         presenter=presenter.strip(), duration_minutes=minutes, label=record,
                                         originator=author.organisation)
        moved: list[AgendaItem] = []
        if order is not None and order <= (last or 0):
            moved = renumber_agenda(meeting.pk, item, order)
            item.save(update_fields=["order"])
        item.reports.set(linked)
        recheck_visible(item, subject_for(author))
        snapshot(item, agenda_item_data(item), author, "created")
        audit.record(author.username, "create", "agenda_item", [item.pk], record.pk, address,
                     {"meeting": meeting.pk, "reports": [r.pk for r in linked]})
        publish(item)
        for other in moved:  # their place on the agenda is part of what peers hold
            publish(other)
    return item


def do_create_action(
    author: User, title: str, label: Label, *, meeting: Meeting | None = None, series: Series | None = None,
    owner_user: User | None = None, owner_organisation: Organisation | None = None, due: date | None = None,
    agenda_item: AgendaItem | None = None, notes: str = "", address: str = "",
) -> ActionItem:
    """An action arising from a meeting and/or a series the author may organise (optionally under one agenda item of
    that meeting), owned by one person or one organisation. A person who owns it must be able to see its label."""
    clean_title = _check_title(title)
    clean_notes = check_text(notes, "notes", required=False)
    item = check_agenda_item(author, meeting.pk if meeting else None, agenda_item)
    if meeting is None and series is None:
        raise ServiceError(gettext("an action belongs to a meeting or a series"), "meeting")
    if (owner_user is None) == (owner_organisation is None):
        raise ServiceError(gettext("an action has one owner: a person or an organisation"), "owner")
    if due is not None and not isinstance(due, date):
        raise ServiceError(gettext("the due date must be a date"), "due")
    if meeting is not None and meeting.status == MeetingStatus.CANCELLED:
        raise ServiceError(gettext("this meeting has been cancelled and can no longer be changed"), "meeting")
    if meeting is not None and series is None:
        series = meeting.series
    for record_ in (meeting, series):
        if record_ is not None and not may_organise(author, record_):
            raise ServiceError(gettext("only the organisers of this meeting or series may record its actions"))
    with transaction.atomic():
        resolved = resolve_label(author, label)
        if owner_user is not None:
            try:
                _check_attendees([owner_user], resolved, author)
            except ServiceError as exc:
                raise ServiceError(exc.message, "owner") from None
        record = intern_label(resolved)
        assert author.organisation is not None
        action = ActionItem.objects.create(
            meeting=meeting, series=series, title=clean_title, owner_user=owner_user,
            owner_organisation=owner_organisation, due=due, agenda_item=item, notes=clean_notes, label=record,
            originator=author.organisation,
        )
        recheck_visible(action, subject_for(author))
        snapshot(action, action_data(action), author, "created")
        audit.record(author.username, "create", "action", [action.pk], record.pk, address,
                     {"meeting": meeting.pk if meeting else None, "series": series.pk if series else None,
                      "owner": owner_user.username if owner_user else f"org:{owner_organisation.code}"
                      if owner_organisation else None})
        publish(action)
        notify_assigned(action)
    return action


def do_set_action_status(author: User, action: ActionItem, status: str, address: str = "") -> ActionItem:
    """The owner (the person, or a member of the owning organisation) or an organiser moves an action along."""
    refuse_received(action)
    if status not in ActionStatus.values:
        raise ServiceError(gettext("unknown status %(status)s; use one of %(statuses)s")
                           % {"status": repr(status), "statuses": ", ".join(ActionStatus.values)}, "status")
    owner, organiser = action_roles(author, action)
    if not author.is_active or not (owner or organiser):
        raise ServiceError(gettext("only the owner or the organisers may change this action"))
    with transaction.atomic():
        locked = ActionItem.objects.visible_to(subject_for(author)).select_for_update().filter(pk=action.pk).first()
        if locked is None:
            raise ServiceError(gettext("no such action"), "action")  # not visible = does not exist
        if locked.status == status:
            return locked
        previous = locked.status
        locked.status = status
        locked.completed_at = completion_time(previous, status, locked.completed_at)
        locked.save(update_fields=["status", "completed_at", "updated_at"])
        snapshot(locked, action_data(locked), author, f"status {previous} → {status}")
        audit.record(author.username, "status", "action", [locked.pk], locked.label_id, address,
                     {"from": previous, "to": status})
        publish(locked)
    return locked


def action_roles(author: User, action: ActionItem) -> tuple[bool, bool]:
    """(owner, organiser): the owner is the person or a member of the owning organisation; an organiser may
    organise the action's meeting or series."""
    if action.stix_id:
        return False, False  # a received copy: read-only here
    owner = (action.owner_user_id == author.pk
             or (action.owner_organisation_id is not None and action.owner_organisation_id == author.organisation_id))
    organiser = any(r is not None and may_organise(author, r) for r in (action.meeting, action.series))
    return owner, organiser


def completion_time(previous: str, status: str, completed_at: datetime | None) -> datetime | None:
    """Set when an action becomes done or dropped, kept while it stays so, cleared when it is reopened."""
    if status in DONE_STATES:
        return completed_at if previous in DONE_STATES and completed_at is not None else timezone.now()
    return None
