"""The meeting cycle after a meeting exists: agenda publication, agenda item edits, minutes parts, decisions, action
edits, RSVP, and the reads that apply the draft/published rule on top of ``visible_to``.

Reads: every record comes through ``visible_to(subject_for(user))`` first; the draft rule is applied after it, never
instead. A draft agenda (``agenda_published_at`` null) or draft minutes (``minutes_published_at`` null) are read only
by the meeting's organisers (``services.may_organise``); once published, each item, minutes part and decision is read
by whoever may see both the meeting and its own label. Actions are records of their own and follow only their label.

Writes follow services.py: contributors only, organisers only (an action's owner may move its status and notes),
nothing on a cancelled meeting, every label resolved for the author, the record re-read through ``visible_to(author)``
inside the transaction (everything rolls back when it is not visible), a version and an audit entry for each write,
the STIX form published after the re-check, and notifications recorded in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from kizuna.consultations import services
from kizuna.consultations.models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    Attendee,
    Decision,
    Meeting,
    MeetingStatus,
    MinutesPart,
    NotificationKind,
    Rsvp,
    Series,
)
from kizuna.consultations.timezones import CAPITALS
from kizuna.core import audit
from kizuna.core.access import get_visible_or_404, intern_label, label_of, recheck_visible, visible_labels
from kizuna.core.errors import NotFound, ServiceError
from kizuna.core.models import Labelled, LabelRecord
from kizuna.core.versions import snapshot
from kizuna.directory.authoring import require_contributor, resolve_label
from kizuna.directory.models import Organisation, User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label
from kizuna.reports.models import Report

MAX_TEXT = services.MAX_TEXT
MAX_PRESENTER = 200
OPEN_STATES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
ANSWERS = (Rsvp.ACCEPTED, Rsvp.TENTATIVE, Rsvp.DECLINED)
AGENDA_FIELDS = frozenset({"title", "presenter", "duration_minutes", "order", "label", "reports"})
TEXT_FIELDS = frozenset({"text", "label", "agenda_item"})
ACTION_FIELDS = frozenset({"title", "due", "owner_user", "owner_organisation", "label", "notes", "status",
                           "agenda_item"})
OWNER_FIELDS = frozenset({"status", "notes"})  # what an owner who does not organise may change

L = TypeVar("L", bound=Labelled)


# --- reads ---------------------------------------------------------------------------------------------------------

def get_meeting_or_404(user: User, pk: int) -> Meeting:
    """The meeting if ``user`` may see it (visible_to), else Http404 alike for missing and not visible."""
    qs: Any = Meeting.objects.select_related("series", "label", "originator")
    meeting: Meeting = get_visible_or_404(qs, subject_for(user), pk=pk)
    return meeting


def _sees(user: User, record: Labelled) -> bool:
    return record.label_id in visible_labels(subject_for(user))  # type: ignore[attr-defined]


def may_read_drafts(user: User, meeting: Meeting) -> bool:
    """The organisers of a meeting read its draft agenda and draft minutes."""
    return services.may_organise(user, meeting)


def _readable(user: User, meeting: Meeting, published_at: datetime | None) -> bool:
    if not _sees(user, meeting):
        return False  # the caller fetched it for someone else: nothing of it reaches this user
    return published_at is not None or may_read_drafts(user, meeting)


def agenda_for(user: User, meeting: Meeting) -> list[AgendaItem]:
    """Visible agenda items in order; empty for a draft agenda unless the user may organise the meeting."""
    if not _readable(user, meeting, meeting.agenda_published_at):
        return []
    return list(AgendaItem.objects.visible_to(subject_for(user)).filter(meeting_id=meeting.pk)
                .select_related("label").order_by("order", "id"))


def position_for(user: User, record: AgendaItem | MinutesPart | Decision) -> int:
    """The record's place among its meeting's records of its kind that ``user`` may see (``order``, then id): what the
    REST answers and pages number it, so that a hidden record before it leaves no gap."""
    before = (type(record)._default_manager.visible_to(subject_for(user)).filter(meeting_id=record.meeting_id)
              .filter(Q(order__lt=record.order) | Q(order=record.order, pk__lt=record.pk)).exclude(pk=record.pk))
    return 1 + before.count()


def _action_order() -> list[Any]:
    return [F("due").asc(nulls_last=True), "id"]


def review_of_actions(user: User, meeting: Meeting) -> list[ActionItem]:
    """The open/in-progress actions of the meeting's series from earlier meetings, visible to the user: the automatic
    "review of actions" item of the agenda. Part of the agenda, so empty while the agenda is a draft for whoever may
    not read drafts; actions recorded on the series without a meeting count as earlier."""
    if meeting.series_id is None or not _readable(user, meeting, meeting.agenda_published_at):
        return []
    qs = (ActionItem.objects.visible_to(subject_for(user))
          .filter(series_id=meeting.series_id, status__in=OPEN_STATES)
          .filter(Q(meeting__isnull=True) | Q(meeting__start__lt=meeting.start)))
    return list(qs.select_related("meeting", "label", "owner_user", "owner_organisation").order_by(*_action_order()))


def minutes_for(user: User, meeting: Meeting) -> list[MinutesPart]:
    """Visible minutes parts in order; empty for draft minutes unless the user may organise the meeting."""
    if not _readable(user, meeting, meeting.minutes_published_at):
        return []
    return list(MinutesPart.objects.visible_to(subject_for(user)).filter(meeting_id=meeting.pk)
                .select_related("label", "author", "agenda_item").order_by("order", "id"))


def decisions_for(user: User, meeting: Meeting) -> list[Decision]:
    """Visible decisions in order; drafts until the minutes are published, like the minutes."""
    if not _readable(user, meeting, meeting.minutes_published_at):
        return []
    return list(Decision.objects.visible_to(subject_for(user)).filter(meeting_id=meeting.pk)
                .select_related("label", "author", "agenda_item").order_by("order", "id"))


def actions_for(user: User, meeting: Meeting) -> list[ActionItem]:
    """The actions recorded at the meeting that the user may see, by due date (none last)."""
    if not _sees(user, meeting):
        return []
    return list(ActionItem.objects.visible_to(subject_for(user)).filter(meeting_id=meeting.pk)
                .select_related("label", "owner_user", "owner_organisation", "agenda_item")
                .order_by(*_action_order()))


def today_utc() -> date:
    return timezone.now().astimezone(UTC).date()


def is_overdue(action: ActionItem, today: date | None = None) -> bool:
    """Still open or in progress after its due date (the day is the UTC day unless given)."""
    if action.due is None or action.status not in OPEN_STATES:
        return False
    return action.due < (today or today_utc())


# --- shared checks -------------------------------------------------------------------------------------------------

def _check_unknown(changes: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ServiceError(gettext("unknown field(s): %(fields)s") % {"fields": ", ".join(unknown)}, unknown[0])


def _require_organiser(author: User, meeting: Meeting, message: str) -> None:
    require_contributor(author)
    if not services.may_organise(author, meeting):
        raise ServiceError(message)


def _require_scheduled(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.CANCELLED:
        raise ServiceError(gettext("this meeting has been cancelled and can no longer be changed"))


def _lock_meeting(author: User, meeting: Meeting) -> Meeting:
    """The meeting, locked for the transaction (it serialises the numbering of its items) and re-read for the
    author; refused when it was cancelled in the meantime."""
    locked = Meeting.objects.visible_to(subject_for(author)).select_for_update().filter(pk=meeting.pk).first()
    if locked is None:
        raise NotFound()
    _require_scheduled(locked)
    return locked


def _locked(model: type[L], author: User, pk: int) -> L:
    record = model.objects.visible_to(subject_for(author)).select_for_update().filter(pk=pk).first()  # type: ignore[attr-defined]
    if record is None:
        raise NotFound()
    result: L = record
    return result



def _new_label(author: User, current: LabelRecord, wanted: Any) -> LabelRecord:
    """The interned label to store: the current one unless ``wanted`` differs, then resolved for the author."""
    if not isinstance(wanted, Label):
        raise ServiceError(gettext("a label is required"), "label")
    if wanted == label_of(current):
        return current
    return intern_label(resolve_label(author, wanted))


def _apply(author: User, locked: Labelled, changes: dict[str, Any], clean: dict[str, Any]) -> list[str]:
    """Set the (validated) changes on a locked record; the names of the fields that really changed ("label" for a
    new label, foreign keys without their "_id")."""
    changed: list[str] = []
    if "label" in changes:
        record = _new_label(author, locked.label, changes["label"])
        if record.pk != locked.label_id:
            locked.label = record
            changed.append("label")
    for name, value in clean.items():
        if getattr(locked, name) != value:
            setattr(locked, name, value)
            changed.append(name.removesuffix("_id"))
    return changed


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


# --- agenda --------------------------------------------------------------------------------------------------------

def _agenda_organiser(author: User, meeting: Meeting) -> None:
    _require_organiser(author, meeting, gettext("only the organisers of this meeting may change its agenda"))
    _require_scheduled(meeting)


def _set_published(author: User, meeting: Meeting, kind: str, on: bool, address: str,
                   must_have: Callable[[Meeting], None] | None = None) -> Meeting:
    """Publish (``on``) the agenda or the minutes (``kind``) to whoever may see the meeting — each item, part or
    decision still by its own label — and tell the attendees; or return it to draft, read by the organisers only."""
    stamp = f"{kind}_published_at"
    with transaction.atomic():
        locked = _lock_meeting(author, meeting)
        if (getattr(locked, stamp) is not None) == on:
            return locked
        if on and must_have is not None:
            must_have(locked)
        setattr(locked, stamp, timezone.now() if on else None)
        locked.save(update_fields=[stamp, "updated_at"])
        recheck_visible(locked, subject_for(author))
        snapshot(locked, services.meeting_data(locked), author, f"{kind} published" if on else f"{kind} back to draft")
        audit.record(author.username, f"publish_{kind}" if on else f"unpublish_{kind}", "meeting", [locked.pk],
                     locked.label_id, address)
        services.publish(locked)
        if on:
            notice = NotificationKind.AGENDA_PUBLISHED if kind == "agenda" else NotificationKind.MINUTES_PUBLISHED
            services.notify_users(notice, services.attendee_users(locked), meeting=locked,
                                  key=f"{kind}_published:{locked.pk}:{locked.sequence}")
    return locked


def do_publish_agenda(author: User, meeting: Meeting, address: str = "") -> Meeting:
    """Publish the agenda. It needs at least one item, or open actions to review."""
    _agenda_organiser(author, meeting)

    def has_items(locked: Meeting) -> None:
        if not AgendaItem.objects.filter(meeting_id=locked.pk).exists() and not review_of_actions(author, locked):
            raise ServiceError(gettext("the agenda has no items yet; add at least one before publishing it"), "agenda")

    return _set_published(author, meeting, "agenda", True, address, has_items)


def do_unpublish_agenda(author: User, meeting: Meeting, address: str = "") -> Meeting:
    """Return the agenda to draft."""
    _agenda_organiser(author, meeting)
    return _set_published(author, meeting, "agenda", False, address)


def do_update_agenda_item(author: User, item: AgendaItem, address: str = "", **changes: Any) -> AgendaItem:
    """Keywords: title, presenter, duration_minutes, order, label, reports. A new order moves the item there and
    shifts the others; linked reports must be visible to the author ("no such report" otherwise)."""
    _check_unknown(changes, AGENDA_FIELDS)
    meeting = item.meeting
    _agenda_organiser(author, meeting)
    clean: dict[str, Any] = {}
    if "title" in changes:
        clean["title"] = services._check_title(changes["title"])
    if "presenter" in changes:
        presenter = changes["presenter"]
        if not isinstance(presenter, str) or len(presenter) > MAX_PRESENTER:
            raise ServiceError(gettext("the presenter is longer than 200 characters"), "presenter")
        clean["presenter"] = presenter.strip()
    if "duration_minutes" in changes:
        clean["duration_minutes"] = services._check_duration(changes["duration_minutes"])
    order = changes.get("order")
    if "order" in changes and (not isinstance(order, int) or isinstance(order, bool) or order < 1):
        raise ServiceError(gettext("the order must be a positive number"), "order")
    linked: list[Report] | None = None
    if "reports" in changes:
        linked = services._check_reports(author, list(changes["reports"] or []))
    with transaction.atomic():
        _lock_meeting(author, meeting)
        locked = _locked(AgendaItem, author, item.pk)
        changed = _apply(author, locked, changes, clean)
        moved: list[AgendaItem] = []
        if order is not None:
            before = locked.order
            moved = services.renumber_agenda(meeting.pk, locked, order)
            if locked.order != before or moved:
                changed.append("order")
        if linked is not None and {r.pk for r in linked} != set(locked.reports.values_list("pk", flat=True)):
            locked.reports.set(linked)
            changed.append("reports")
        if not changed:
            return locked
        locked.save()
        recheck_visible(locked, subject_for(author))
        snapshot(locked, services.agenda_item_data(locked), author, "changed " + ", ".join(changed))
        audit.record(author.username, "update", "agenda_item", [locked.pk], locked.label_id, address,
                     {"meeting": meeting.pk, "changed": changed})
        services.publish(locked)
        for other in moved:
            services.publish(other)
    return locked


def do_delete_agenda_item(author: User, item: AgendaItem, address: str = "") -> None:
    """Remove an item; the rest close up. Refused while minutes are written under it (they would go with it);
    decisions and actions under it stay, about the meeting as a whole."""
    _agenda_organiser(author, item.meeting)
    with transaction.atomic():
        meeting = _lock_meeting(author, item.meeting)
        locked = _locked(AgendaItem, author, item.pk)
        if MinutesPart.objects.filter(agenda_item_id=locked.pk).exists():
            raise ServiceError(gettext("minutes are written under this item; move or delete them first"),
                               "agenda_item")
        related: list[Decision | ActionItem] = [*Decision.objects.filter(agenda_item_id=locked.pk),
                                                *ActionItem.objects.filter(agenda_item_id=locked.pk)]
        for record in related:
            record.agenda_item = None
            record.save(update_fields=["agenda_item", "updated_at"])
            services.publish(record)
        services.publish(locked, revoked=True)
        pk, label_id = locked.pk, locked.label_id
        locked.delete()
        for other in services.renumber_agenda(meeting.pk):
            services.publish(other)
        services.publish_related(locked)
        audit.record(author.username, "delete", "agenda_item", [pk], label_id, address, {"meeting": meeting.pk})


# --- minutes and decisions -----------------------------------------------------------------------------------------

def _minutes_organiser(author: User, meeting: Meeting) -> None:
    _require_organiser(author, meeting, gettext("only the organisers of this meeting may write its minutes"))
    _require_scheduled(meeting)


def _add_text(model: type[MinutesPart] | type[Decision], kind: str, author: User, meeting: Meeting, text: str,
              label: Label, agenda_item: AgendaItem | None, address: str) -> Any:
    _minutes_organiser(author, meeting)
    clean = services.check_text(text)
    item = services.check_agenda_item(author, meeting.pk, agenda_item)
    if not isinstance(label, Label):
        raise ServiceError(gettext("a label is required"), "label")
    with transaction.atomic():
        locked = _lock_meeting(author, meeting)
        record = intern_label(resolve_label(author, label))
        assert author.organisation is not None
        made = model.objects.create(meeting=locked, agenda_item=item, order=_next_order(model, locked), text=clean,
                                    author=author, label=record, originator=author.organisation)
        recheck_visible(made, subject_for(author))
        snapshot(made, _text_data(made), author, "created")
        audit.record(author.username, "create", kind, [made.pk], record.pk, address,
                     {"meeting": locked.pk, "agenda_item": item.pk if item else None})
        services.publish(made)
    return made


def _update_text(model: type[MinutesPart] | type[Decision], kind: str, author: User, current: MinutesPart | Decision,
                 address: str, changes: dict[str, Any]) -> Any:
    _check_unknown(changes, TEXT_FIELDS)
    meeting = current.meeting
    _minutes_organiser(author, meeting)
    clean: dict[str, Any] = {}
    if "text" in changes:
        clean["text"] = services.check_text(changes["text"])
    if "agenda_item" in changes:
        item = services.check_agenda_item(author, meeting.pk, changes["agenda_item"])
        clean["agenda_item_id"] = item.pk if item else None
    with transaction.atomic():
        _lock_meeting(author, meeting)
        locked = _locked(model, author, current.pk)
        changed = _apply(author, locked, changes, clean)
        if not changed:
            return locked
        locked.save()
        recheck_visible(locked, subject_for(author))
        snapshot(locked, _text_data(locked), author, "changed " + ", ".join(changed))
        audit.record(author.username, "update", kind, [locked.pk], locked.label_id, address,
                     {"meeting": meeting.pk, "changed": changed})
        services.publish(locked)
    return locked


def _delete_text(model: type[MinutesPart] | type[Decision], kind: str, author: User, current: MinutesPart | Decision,
                 address: str) -> None:
    _minutes_organiser(author, current.meeting)
    with transaction.atomic():
        meeting = _lock_meeting(author, current.meeting)
        locked = _locked(model, author, current.pk)
        services.publish(locked, revoked=True)
        pk, label_id = locked.pk, locked.label_id
        locked.delete()
        services.publish_related(locked)  # the positions of those after it
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

    return _set_published(author, meeting, "minutes", True, address, has_parts)


def do_unpublish_minutes(author: User, meeting: Meeting, address: str = "") -> Meeting:
    """Return the minutes (and decisions) to draft."""
    _minutes_organiser(author, meeting)
    return _set_published(author, meeting, "minutes", False, address)


# --- actions -------------------------------------------------------------------------------------------------------

def _check_action_changes(author: User, action: ActionItem, changes: dict[str, Any]) -> dict[str, Any]:
    """The validated changes (before anything is written), with the owner pair resolved to exactly one owner."""
    clean: dict[str, Any] = {}
    if "title" in changes:
        clean["title"] = services._check_title(changes["title"])
    if "due" in changes:
        due = changes["due"]
        if due is not None and (not isinstance(due, date) or isinstance(due, datetime)):
            raise ServiceError(gettext("the due date must be a date"), "due")
        clean["due"] = due
    if "notes" in changes:
        clean["notes"] = services.check_text(changes["notes"], "notes", required=False)
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
        clean["agenda_item"] = services.check_agenda_item(author, action.meeting_id, changes["agenda_item"])
    return clean


def do_update_action(author: User, action: ActionItem, address: str = "", **changes: Any) -> ActionItem:
    """Keywords: title, due, owner_user, owner_organisation, label, notes, status, agenda_item.

    The organisers of the action's meeting or series change anything; its owner (the person, or a member of the
    owning organisation) only its status and notes. A person who owns it must be able to see its label. A new owner
    is told (ACTION_ASSIGNED); completed_at follows the status."""
    _check_unknown(changes, ACTION_FIELDS)
    services.refuse_received(action)
    owner, organiser = services.action_roles(author, action)
    if not author.is_active or not (owner or organiser):
        raise ServiceError(gettext("only the owner or the organisers may change this action"))
    if not organiser:
        refused = sorted(set(changes) - OWNER_FIELDS)
        if refused:
            raise ServiceError(gettext("the owner of an action may change only its status and notes"), refused[0])
    clean = _check_action_changes(author, action, changes)
    with transaction.atomic():
        locked = _locked(ActionItem, author, action.pk)
        previous_owner = services.owner_key(locked)
        previous_status = locked.status
        changed = _apply(author, locked, changes, clean)
        if not changed:
            return locked
        if locked.owner_user is not None and ("label" in changed or "owner_user" in changed):
            try:
                services._check_attendees([locked.owner_user], label_of(locked.label), author)
            except ServiceError as exc:
                raise ServiceError(exc.message, "owner_user") from None
        locked.completed_at = services.completion_time(previous_status, locked.status, locked.completed_at)
        locked.save()
        recheck_visible(locked, subject_for(author))
        snapshot(locked, services.action_data(locked), author, "changed " + ", ".join(changed))
        audit.record(author.username, "update", "action", [locked.pk], locked.label_id, address,
                     {"changed": changed, **({"from": previous_status, "to": locked.status}
                                            if "status" in changed else {})})
        services.publish(locked)
        if services.owner_key(locked) != previous_owner:
            services.notify_assigned(locked)
    return locked


# --- attendance ----------------------------------------------------------------------------------------------------

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


def participating_nations(meeting: Meeting, series: Series | None, attendees: Iterable[Attendee]) -> list[str]:
    """The nations of a meeting's local-time table, one rule for the page, the API and print: the nations of its series
    (``series`` is None when there is none or the reader may not see it), then those of the attendees, then — with no
    visible series — the organising organisation's, which takes part even when it invited only others."""
    codes = list(series.nations or []) if series is not None else []
    extra = {a.user.nation_id for a in attendees if a.user.nation_id}
    if series is None and meeting.originator.nation_id:
        extra.add(meeting.originator.nation_id)
    codes += sorted(extra - set(codes))
    return [c for c in codes if c in CAPITALS]


def linked_reports(user: User, items: list[AgendaItem]) -> dict[int, list[Report]]:
    """Per agenda item, the linked reports the reader may see, by id: the link alone discloses nothing, each report is
    read through ``Report.objects.visible_to`` (label selected, for chips and markings)."""
    pairs = list(AgendaItem.reports.through.objects.filter(agendaitem_id__in=[i.pk for i in items])
                 .values_list("agendaitem_id", "report_id").order_by("agendaitem_id", "report_id"))
    visible = {r.pk: r for r in Report.objects.visible_to(subject_for(user))
               .filter(pk__in=sorted({r for _i, r in pairs})).select_related("label")}
    result: dict[int, list[Report]] = {}
    for item_id, report_id in pairs:
        if report_id in visible:
            result.setdefault(item_id, []).append(visible[report_id])
    return result
