"""Writes of a meeting: create, change, cancel, answer an invitation, and publish (or take back to draft) its agenda
or its minutes as a whole. Its start and end are stored in UTC with its home IANA zone; a naive datetime given here is
read as wall-clock time in that home zone."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from kizuna.consultations.models import (
    MAX_MEETING,
    Attendee,
    Meeting,
    MeetingMode,
    MeetingStatus,
    NotificationKind,
    Rsvp,
    Series,
)
from kizuna.consultations.queries import may_organise
from kizuna.consultations.services import sharing
from kizuna.consultations.services.common import (
    MAX_REASON,
    attendee_users,
    aware,
    check_attendees,
    check_title,
    check_unknown,
    check_zone,
    lock_meeting,
    notify_users,
    refuse_received,
)
from kizuna.core import audit
from kizuna.core.access import intern_label, label_of, recheck_visible
from kizuna.core.errors import NotFound, ServiceError
from kizuna.core.versions import snapshot
from kizuna.directory.authoring import require_contributor, resolve_label
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label

ANSWERS = (Rsvp.ACCEPTED, Rsvp.TENTATIVE, Rsvp.DECLINED)
# Meeting fields whose change a calendar (and so each remaining attendee) must be told of.
_NOTICE_FIELDS = ("start", "end", "time_zone", "mode", "place", "link")


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
    zone = check_zone(data.time_zone)
    start = aware(data.start, zone, "start")
    end = aware(data.end, zone, "end")
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
    return {"title": check_title(data.title), "start": start, "end": end, "time_zone": zone, "mode": data.mode,
            "place": place, "link": link, "series": data.series}


def meeting_data(meeting: Meeting) -> dict[str, Any]:
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


def do_create_meeting(author: User, data: MeetingInput, address: str = "") -> Meeting:
    require_contributor(author)
    clean = _check_meeting(data, author)
    with transaction.atomic():
        label = resolve_label(author, data.label)
        attendees = check_attendees(list(data.attendees), label, author)
        record = intern_label(label)
        assert author.organisation is not None
        meeting = Meeting.objects.create(
            label=record, originator=author.organisation, created_by=author,
            uid=f"{uuid.uuid4()}@kizuna", sequence=0, **clean,
        )
        Attendee.objects.bulk_create([Attendee(meeting=meeting, user=u) for u in attendees])
        recheck_visible(meeting, subject_for(author))
        snapshot(meeting, meeting_data(meeting), author, "created")
        audit.record(author.username, "create", "meeting", [meeting.pk], record.pk, address,
                     {"attendees": sorted(u.username for u in attendees)})
        sharing.do_publish(meeting)
        notify_users(NotificationKind.INVITATION, attendee_users(meeting), meeting=meeting,
                     key=f"invitation:{meeting.pk}")
    return meeting


def do_update_meeting(author: User, meeting: Meeting, address: str = "", **changes: Any) -> Meeting:
    """Change fields of a meeting the author can see (fetched through visible_to). Keywords: the fields of
    MeetingInput; ``attendees`` replaces the list (answers of those who stay are kept). Any change raises SEQUENCE;
    the UID never changes."""
    refuse_received(meeting)
    check_unknown(changes, frozenset(MeetingInput.__dataclass_fields__))
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
        attendees = check_attendees(merged.attendees, label, author)
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
        snapshot(locked, meeting_data(locked), author, "changed " + ", ".join(changed))
        audit.record(author.username, "update", "meeting", [locked.pk], record.pk, address,
                     {"changed": changed, "sequence": locked.sequence})
        sharing.do_publish(locked)
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
        snapshot(locked, meeting_data(locked), author, f"cancelled: {reason}"[:200] if reason else "cancelled")
        audit.record(author.username, "cancel", "meeting", [locked.pk], locked.label_id, address, {"reason": reason})
        sharing.do_publish(locked)
        notify_users(NotificationKind.MEETING_CANCELLED, attendee_users(locked), meeting=locked,
                     key=f"meeting_cancelled:{locked.pk}")
    return locked


def do_rsvp(user: User, meeting: Meeting, answer: str, address: str = "") -> Attendee:
    """An invited attendee answers: accepted, tentative or declined. Nobody else may; not on a cancelled meeting."""
    if answer not in ANSWERS:
        raise ServiceError(gettext("unknown answer %(answer)s; use one of %(answers)s")
                           % {"answer": repr(answer), "answers": ", ".join(ANSWERS)}, "answer")
    if not user.is_active:
        raise ServiceError(gettext("your account is not active"))
    with transaction.atomic():
        current = Meeting.objects.visible_to(subject_for(user)).filter(pk=meeting.pk).first()
        if current is None:
            raise NotFound()
        if current.status == MeetingStatus.CANCELLED:
            raise ServiceError(gettext("this meeting has been cancelled; there is nothing to answer"))
        attendee = Attendee.objects.select_for_update().filter(meeting_id=current.pk, user_id=user.pk).first()
        if attendee is None:
            raise ServiceError(gettext("only invited attendees may answer this invitation"), "answer")
        if attendee.rsvp == answer:
            return attendee
        previous = attendee.rsvp
        attendee.rsvp = answer
        attendee.save(update_fields=["rsvp"])
        audit.record(user.username, "rsvp", "meeting", [current.pk], current.label_id, address,
                     {"from": previous, "to": answer})
    return attendee


def set_published(author: User, meeting: Meeting, kind: str, on: bool, address: str,
                   must_have: Callable[[Meeting], None] | None = None) -> Meeting:
    """Publish (``on``) the agenda or the minutes (``kind``) to whoever may see the meeting — each item, part or
    decision still by its own label — and tell the attendees; or return it to draft, read by the organisers only."""
    stamp = f"{kind}_published_at"
    with transaction.atomic():
        locked = lock_meeting(author, meeting)
        if (getattr(locked, stamp) is not None) == on:
            return locked
        if on and must_have is not None:
            must_have(locked)
        setattr(locked, stamp, timezone.now() if on else None)
        locked.save(update_fields=[stamp, "updated_at"])
        recheck_visible(locked, subject_for(author))
        snapshot(locked, meeting_data(locked), author, f"{kind} published" if on else f"{kind} back to draft")
        audit.record(author.username, f"publish_{kind}" if on else f"unpublish_{kind}", "meeting", [locked.pk],
                     locked.label_id, address)
        sharing.do_publish(locked)
        if on:
            notice = NotificationKind.AGENDA_PUBLISHED if kind == "agenda" else NotificationKind.MINUTES_PUBLISHED
            notify_users(notice, attendee_users(locked), meeting=locked,
                                  key=f"{kind}_published:{locked.pk}:{locked.sequence}")
    return locked
