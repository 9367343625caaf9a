"""Writes of action items: record one (from a meeting and/or a series, owned by one person or one organisation), change
it, and move its status along. A new owner is told (ACTION_ASSIGNED); ``completed_at`` follows the status."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from kizuna.consultations.models import ActionItem, ActionStatus, AgendaItem, Meeting, MeetingStatus, NotificationKind, Series
from kizuna.consultations.queries import action_roles, may_organise
from kizuna.consultations.services import sharing
from kizuna.consultations.services.common import (
    apply_changes,
    check_agenda_item,
    check_attendees,
    check_text,
    check_title,
    check_unknown,
    lock_visible,
    notify_users,
    refuse_received,
)
from kizuna.core import audit
from kizuna.core.access import intern_label, label_of, recheck_visible
from kizuna.core.errors import ServiceError
from kizuna.core.versions import snapshot
from kizuna.directory.authoring import resolve_label
from kizuna.directory.models import Organisation, User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label

DONE_STATES = (ActionStatus.DONE, ActionStatus.DROPPED)
ACTION_FIELDS = frozenset({"title", "due", "owner_user", "owner_organisation", "label", "notes", "status",
                           "agenda_item"})
OWNER_FIELDS = frozenset({"status", "notes"})  # what an owner who does not organise may change


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


def completion_time(previous: str, status: str, completed_at: datetime | None) -> datetime | None:
    """Set when an action becomes done or dropped, kept while it stays so, cleared when it is reopened."""
    if status in DONE_STATES:
        return completed_at if previous in DONE_STATES and completed_at is not None else timezone.now()
    return None


def _check_action_changes(author: User, action: ActionItem, changes: dict[str, Any]) -> dict[str, Any]:
    """The validated changes (before anything is written), with the owner pair resolved to exactly one owner."""
    clean: dict[str, Any] = {}
    if "title" in changes:
        clean["title"] = check_title(changes["title"])
    if "due" in changes:
        due = changes["due"]
        if due is not None and (not isinstance(due, date) or isinstance(due, datetime)):
            raise ServiceError(gettext("the due date must be a date"), "due")
        clean["due"] = due
    if "notes" in changes:
        clean["notes"] = check_text(changes["notes"], "notes", required=False)
    if "status" in changes:
        status = changes["status"]
        if status not in ActionStatus.values:
            raise ServiceError(gettext("unknown status %(status)s; use one of %(statuses)s")
                               % {"status": repr(status), "statuses": ", ".join(ActionStatus.values)}, "status")
        clean["status"] = status
    if "owner_user" in changes or "owner_organisation" in changes:
        person = changes.get("owner_user", action.owner_user)
        organisation = changes.get("owner_organisation", action.owner_organisation)
        # Naming one kind of owner alone replaces the other: an action has exactly one.
        if changes.get("owner_user") is not None and "owner_organisation" not in changes:
            organisation = None
        if changes.get("owner_organisation") is not None and "owner_user" not in changes:
            person = None
        if (person is None) == (organisation is None):
            raise ServiceError(gettext("an action has one owner: a person or an organisation"), "owner")
        if person is not None and (not isinstance(person, User) or not person.is_active):
            raise ServiceError(gettext("the owner's account is not active"), "owner_user")
        if organisation is not None and not isinstance(organisation, Organisation):
            raise ServiceError(gettext("no such organisation"), "owner_organisation")
        clean["owner_user"], clean["owner_organisation"] = person, organisation
    if "agenda_item" in changes:
        clean["agenda_item"] = check_agenda_item(author, action.meeting_id, changes["agenda_item"])
    return clean


def do_create_action(
    author: User, title: str, label: Label, *, meeting: Meeting | None = None, series: Series | None = None,
    owner_user: User | None = None, owner_organisation: Organisation | None = None, due: date | None = None,
    agenda_item: AgendaItem | None = None, notes: str = "", address: str = "",
) -> ActionItem:
    """An action arising from a meeting and/or a series the author may organise (optionally under one agenda item of
    that meeting), owned by one person or one organisation. A person who owns it must be able to see its label."""
    clean_title = check_title(title)
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
                check_attendees([owner_user], resolved, author)
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
        sharing.do_publish(action)
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
        sharing.do_publish(locked)
    return locked


def do_update_action(author: User, action: ActionItem, address: str = "", **changes: Any) -> ActionItem:
    """Keywords: title, due, owner_user, owner_organisation, label, notes, status, agenda_item.

    The organisers of the action's meeting or series change anything; its owner (the person, or a member of the
    owning organisation) only its status and notes. A person who owns it must be able to see its label. A new owner
    is told (ACTION_ASSIGNED); completed_at follows the status."""
    check_unknown(changes, ACTION_FIELDS)
    refuse_received(action)
    owner, organiser = action_roles(author, action)
    if not author.is_active or not (owner or organiser):
        raise ServiceError(gettext("only the owner or the organisers may change this action"))
    if not organiser:
        refused = sorted(set(changes) - OWNER_FIELDS)
        if refused:
            raise ServiceError(gettext("the owner of an action may change only its status and notes"), refused[0])
    clean = _check_action_changes(author, action, changes)
    with transaction.atomic():
        locked = lock_visible(ActionItem, author, action.pk)
        previous_owner = owner_key(locked)
        previous_status = locked.status
        changed = apply_changes(author, locked, changes, clean)
        if not changed:
            return locked
        if locked.owner_user is not None and ("label" in changed or "owner_user" in changed):
            try:
                check_attendees([locked.owner_user], label_of(locked.label), author)
            except ServiceError as exc:
                raise ServiceError(exc.message, "owner_user") from None
        locked.completed_at = completion_time(previous_status, locked.status, locked.completed_at)
        locked.save()
        recheck_visible(locked, subject_for(author))
        snapshot(locked, action_data(locked), author, "changed " + ", ".join(changed))
        audit.record(author.username, "update", "action", [locked.pk], locked.label_id, address,
                     {"changed": changed, **({"from": previous_status, "to": locked.status}
                                            if "status" in changed else {})})
        sharing.do_publish(locked)
        if owner_key(locked) != previous_owner:
            notify_assigned(locked)
    return locked
