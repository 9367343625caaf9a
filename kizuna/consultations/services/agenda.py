"""Writes of a meeting's agenda: its items (add, change, move, delete) and its publication to the meeting's readers."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from kizuna.consultations.models import ActionItem, AgendaItem, Decision, Meeting, MeetingStatus, MinutesPart
from kizuna.consultations.queries import may_organise, review_of_actions
from kizuna.consultations.services import sharing
from kizuna.consultations.services.common import (
    MAX_PRESENTER,
    apply_changes,
    check_duration,
    check_reports,
    check_title,
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
from kizuna.reports.models import Report

AGENDA_FIELDS = frozenset({"title", "presenter", "duration_minutes", "order", "label", "reports"})


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


def _agenda_organiser(author: User, meeting: Meeting) -> None:
    require_organiser(author, meeting, gettext("only the organisers of this meeting may change its agenda"))
    require_scheduled(meeting)


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
    clean_title = check_title(title)
    if len(presenter) > 200:
        raise ServiceError(gettext("the presenter is longer than 200 characters"), "presenter")
    minutes = check_duration(duration_minutes)
    if order is not None and (not isinstance(order, int) or order < 1):
        raise ServiceError(gettext("the order must be a positive number"), "order")
    linked = check_reports(author, list(reports or []))
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
        sharing.do_publish(item)
        for other in moved:  # their place on the agenda is part of what peers hold
            sharing.do_publish(other)
    return item


def do_update_agenda_item(author: User, item: AgendaItem, address: str = "", **changes: Any) -> AgendaItem:
    """Keywords: title, presenter, duration_minutes, order, label, reports. A new order moves the item there and
    shifts the others; linked reports must be visible to the author ("no such report" otherwise)."""
    check_unknown(changes, AGENDA_FIELDS)
    meeting = item.meeting
    _agenda_organiser(author, meeting)
    clean: dict[str, Any] = {}
    if "title" in changes:
        clean["title"] = check_title(changes["title"])
    if "presenter" in changes:
        presenter = changes["presenter"]
        if not isinstance(presenter, str) or len(presenter) > MAX_PRESENTER:
            raise ServiceError(gettext("the presenter is longer than 200 characters"), "presenter")
        clean["presenter"] = presenter.strip()
    if "duration_minutes" in changes:
        clean["duration_minutes"] = check_duration(changes["duration_minutes"])
    order = changes.get("order")
    if "order" in changes and (not isinstance(order, int) or isinstance(order, bool) or order < 1):
        raise ServiceError(gettext("the order must be a positive number"), "order")
    linked: list[Report] | None = None
    if "reports" in changes:
        linked = check_reports(author, list(changes["reports"] or []))
    with transaction.atomic():
        lock_meeting(author, meeting)
        locked = lock_visible(AgendaItem, author, item.pk)
        changed = apply_changes(author, locked, changes, clean)
        moved: list[AgendaItem] = []
        if order is not None:
            before = locked.order
            moved = renumber_agenda(meeting.pk, locked, order)
            if locked.order != before or moved:
                changed.append("order")
        if linked is not None and {r.pk for r in linked} != set(locked.reports.values_list("pk", flat=True)):
            locked.reports.set(linked)
            changed.append("reports")
        if not changed:
            return locked
        locked.save()
        recheck_visible(locked, subject_for(author))
        snapshot(locked, agenda_item_data(locked), author, "changed " + ", ".join(changed))
        audit.record(author.username, "update", "agenda_item", [locked.pk], locked.label_id, address,
                     {"meeting": meeting.pk, "changed": changed})
        sharing.do_publish(locked)
        for other in moved:
            sharing.do_publish(other)
    return locked


def do_delete_agenda_item(author: User, item: AgendaItem, address: str = "") -> None:
    """Remove an item; the rest close up. Refused while minutes are written under it (they would go with it);
    decisions and actions under it stay, about the meeting as a whole."""
    _agenda_organiser(author, item.meeting)
    with transaction.atomic():
        meeting = lock_meeting(author, item.meeting)
        locked = lock_visible(AgendaItem, author, item.pk)
        if MinutesPart.objects.filter(agenda_item_id=locked.pk).exists():
            raise ServiceError(gettext("minutes are written under this item; move or delete them first"),
                               "agenda_item")
        related: list[Decision | ActionItem] = [*Decision.objects.filter(agenda_item_id=locked.pk),
                                                *ActionItem.objects.filter(agenda_item_id=locked.pk)]
        for record in related:
            record.agenda_item = None
            record.save(update_fields=["agenda_item", "updated_at"])
            sharing.do_publish(record)
        sharing.do_publish(locked, revoked=True)
        pk, label_id = locked.pk, locked.label_id
        locked.delete()
        for other in renumber_agenda(meeting.pk):
            sharing.do_publish(other)
        sharing.do_publish_related(locked)
        audit.record(author.username, "delete", "agenda_item", [pk], label_id, address, {"meeting": meeting.pk})


def do_publish_agenda(author: User, meeting: Meeting, address: str = "") -> Meeting:
    """Publish the agenda. It needs at least one item, or open actions to review."""
    _agenda_organiser(author, meeting)

    def has_items(locked: Meeting) -> None:
        if not AgendaItem.objects.filter(meeting_id=locked.pk).exists() and not review_of_actions(author, locked):
            raise ServiceError(gettext("the agenda has no items yet; add at least one before publishing it"), "agenda")

    return set_published(author, meeting, "agenda", True, address, has_items)


def do_unpublish_agenda(author: User, meeting: Meeting, address: str = "") -> Meeting:
    """Return the agenda to draft."""
    _agenda_organiser(author, meeting)
    return set_published(author, meeting, "agenda", False, address)
