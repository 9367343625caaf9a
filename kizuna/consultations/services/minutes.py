"""Writes of a meeting's minutes: its parts (Markdown, each with its own label, about one agenda item or the whole
meeting), its decisions (records of their own), and their publication to the meeting's readers."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from kizuna.consultations.models import AgendaItem, Decision, Meeting, MinutesPart
from kizuna.consultations.services import sharing
from kizuna.consultations.services.common import (
    apply_changes,
    check_agenda_item,
    check_text,
    check_unknown,
    lock_meeting,
    lock_visible,
    require_organiser,
    require_scheduled,
)
from kizuna.consultations.services.meetings import set_published
from kizuna.core import audit
from kizuna.core.access import intern_label, label_of, recheck_visible
from kizuna.core.errors import ServiceError
from kizuna.core.versions import snapshot
from kizuna.directory.authoring import resolve_label
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label

TEXT_FIELDS = frozenset({"text", "label", "agenda_item"})


def _next_order(model: type[MinutesPart] | type[Decision], meeting: Meeting) -> int:
    last = model.objects.filter(meeting_id=meeting.pk).order_by("-order").values_list("order", flat=True).first()
    return (last or 0) + 1


def _text_data(record: MinutesPart | Decision) -> dict[str, Any]:
    return {
        "meeting": record.meeting_id,
        "agenda_item": record.agenda_item_id,
        "order": record.order,
        "text": record.text,
        "author": record.author.username,
        "label": label_of(record.label).as_api(),
    }


def _minutes_organiser(author: User, meeting: Meeting) -> None:
    require_organiser(author, meeting, gettext("only the organisers of this meeting may write its minutes"))
    require_scheduled(meeting)


def _add_text(model: type[MinutesPart] | type[Decision], kind: str, author: User, meeting: Meeting, text: str,
              label: Label, agenda_item: AgendaItem | None, address: str) -> Any:
    _minutes_organiser(author, meeting)
    clean = check_text(text)
    item = check_agenda_item(author, meeting.pk, agenda_item)
    if not isinstance(label, Label):
        raise ServiceError(gettext("a label is required"), "label")
    with transaction.atomic():
        locked = lock_meeting(author, meeting)
        record = intern_label(resolve_label(author, label))
        assert author.organisation is not None
        made = model.objects.create(meeting=locked, agenda_item=item, order=_next_order(model, locked), text=clean,
                                    author=author, label=record, originator=author.organisation)
        recheck_visible(made, subject_for(author))
        snapshot(made, _text_data(made), author, "created")
        audit.record(author.username, "create", kind, [made.pk], record.pk, address,
                     {"meeting": locked.pk, "agenda_item": item.pk if item else None})
        sharing.do_publish(made)
    return made


def _update_text(model: type[MinutesPart] | type[Decision], kind: str, author: User, current: MinutesPart | Decision,
                 address: str, changes: dict[str, Any]) -> Any:
    check_unknown(changes, TEXT_FIELDS)
    meeting = current.meeting
    _minutes_organiser(author, meeting)
    clean: dict[str, Any] = {}
    if "text" in changes:
        clean["text"] = check_text(changes["text"])
    if "agenda_item" in changes:
        item = check_agenda_item(author, meeting.pk, changes["agenda_item"])
        clean["agenda_item_id"] = item.pk if item else None
    with transaction.atomic():
        lock_meeting(author, meeting)
        locked = lock_visible(model, author, current.pk)
        changed = apply_changes(author, locked, changes, clean)
        if not changed:
            return locked
        locked.save()
        recheck_visible(locked, subject_for(author))
        snapshot(locked, _text_data(locked), author, "changed " + ", ".join(changed))
        audit.record(author.username, "update", kind, [locked.pk], locked.label_id, address,
                     {"meeting": meeting.pk, "changed": changed})
        sharing.do_publish(locked)
    return locked


def _delete_text(model: type[MinutesPart] | type[Decision], kind: str, author: User, current: MinutesPart | Decision,
                 address: str) -> None:
    _minutes_organiser(author, current.meeting)
    with transaction.atomic():
        meeting = lock_meeting(author, current.meeting)
        locked = lock_visible(model, author, current.pk)
        sharing.do_publish(locked, revoked=True)
        pk, label_id = locked.pk, locked.label_id
        locked.delete()
        sharing.do_publish_related(locked)  # the positions of those after it
        audit.record(author.username, "delete", kind, [pk], label_id, address, {"meeting": meeting.pk})


def do_add_minutes(author: User, meeting: Meeting, text: str, label: Label, agenda_item: AgendaItem | None = None,
                   address: str = "") -> MinutesPart:
    """A part of the minutes (Markdown) under one agenda item of this meeting, or about the whole meeting."""
    part: MinutesPart = _add_text(MinutesPart, "minutes", author, meeting, text, label, agenda_item, address)
    return part


def do_update_minutes(author: User, part: MinutesPart, address: str = "", **changes: Any) -> MinutesPart:
    """Keywords: text, label, agenda_item (None: about the whole meeting)."""
    updated: MinutesPart = _update_text(MinutesPart, "minutes", author, part, address, changes)
    return updated


def do_delete_minutes(author: User, part: MinutesPart, address: str = "") -> None:
    _delete_text(MinutesPart, "minutes", author, part, address)


def do_record_decision(author: User, meeting: Meeting, text: str, label: Label,
                       agenda_item: AgendaItem | None = None, address: str = "") -> Decision:
    """A decision (Markdown) as its own record with its own label, optionally under an agenda item."""
    decision: Decision = _add_text(Decision, "decision", author, meeting, text, label, agenda_item, address)
    return decision


def do_update_decision(author: User, decision: Decision, address: str = "", **changes: Any) -> Decision:
    """Keywords: text, label, agenda_item."""
    updated: Decision = _update_text(Decision, "decision", author, decision, address, changes)
    return updated


def do_delete_decision(author: User, decision: Decision, address: str = "") -> None:
    _delete_text(Decision, "decision", author, decision, address)


def do_publish_minutes(author: User, meeting: Meeting, address: str = "") -> Meeting:
    """Publish the minutes and decisions. They need at least one part or decision."""
    _minutes_organiser(author, meeting)

    def has_parts(locked: Meeting) -> None:
        if (not MinutesPart.objects.filter(meeting_id=locked.pk).exists()
                and not Decision.objects.filter(meeting_id=locked.pk).exists()):
            raise ServiceError(gettext("the minutes are empty; write at least one part before publishing them"),
                               "minutes")

    return set_published(author, meeting, "minutes", True, address, has_parts)


def do_unpublish_minutes(author: User, meeting: Meeting, address: str = "") -> Meeting:
    """Return the minutes (and decisions) to draft."""
    _minutes_organiser(author, meeting)
    return set_published(author, meeting, "minutes", False, address)
