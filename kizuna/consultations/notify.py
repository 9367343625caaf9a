"""Notifications of the consultation cycle: who is told what (invitations, changes, agendas and minutes published,
actions assigned, the reminders of actions due in 3 days and overdue) and the per-user calendar feed at a secret URL.
Storing, e-mailing (each person's e-mail mode: now, in a daily or weekly digest, or never) and showing notifications is
the ``kizuna.notifications`` app's; this module registers with it the resolver of consultation records.

A notification names one record: ``ref`` is "meeting:<id>" or "action:<id>" (when a notice is about an action of a
meeting, the action is the record). Its title, text and link are made when it is read or sent, from the record fetched
through ``visible_to`` at that moment: a notification whose record the person may no longer see (relabelled, or the
person's clearance lowered) is not shown, not counted and not e-mailed.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.signals import post_delete
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from kizuna.consultations.models import (
    ActionItem,
    ActionStatus,
    CalendarSettings,
    Meeting,
    NotificationKind,
)
from kizuna.core import audit
from kizuna.core.access import VisibleLabels, label_of, may_subject_see, unindexed_label, visible_labels
from kizuna.core.dates import format_local
from kizuna.core.errors import ServiceError
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Subject
from kizuna.notifications import queries as notification_queries
from kizuna.notifications import registry as notification_registry
from kizuna.notifications import services as notification_services
from kizuna.notifications.models import KEY_MAX, Notification
from kizuna.notifications.registry import Entry

logger = logging.getLogger("kizuna.consultations.notify")

MODULE = "consultations"
DUE_SOON_DAYS = 3
OPEN_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
_REMINDERS = (NotificationKind.ACTION_DUE_SOON, NotificationKind.ACTION_OVERDUE)
FEED_PAST = timedelta(days=90)
FEED_AHEAD = timedelta(days=400)
FEED_MAX = 5000  # meetings in one feed
MEETING_PATH = "/consultations/meetings/{pk}/"
ACTIONS_PATH = "/consultations/actions/"
SETTINGS_PATH = "/consultations/settings/"
ACCOUNT_EMAIL_PATH = "/account/#email"  # where a person chooses how notifications reach them by e-mail
FEED_PATH = "/consultations/feed/{token}.ics"
_CHUNK = 500
# secrets.token_urlsafe(32) gives 43 characters of the URL-safe base64 alphabet; anything else is not a feed token.
_FEED_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")

base_url = notification_services.base_url


def ref_of(record: Meeting | ActionItem) -> str:
    """How a notification names a consultation record."""
    return f"action:{record.pk}" if isinstance(record, ActionItem) else f"meeting:{record.pk}"


def _record_of(note: Notification) -> tuple[str, int] | None:
    """("meeting" or "action", primary key) of the record a notification names: the table from ``ref``'s prefix, the
    key from ``record_id`` (what ``_visible`` compares, so what is shown is what is counted)."""
    table = note.ref.partition(":")[0]
    if table not in ("meeting", "action") or note.record_id is None:
        return None
    return table, note.record_id


# --- what a notification says ----------------------------------------------------------------------------------------

def _zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _when(meeting: Meeting, user: User) -> str:
    """The meeting's start in the recipient's zone and language (2026-12-10 16:00, 2026年12月10日(木) 16:00)."""
    zone = _zone(user)
    return f"{format_local(meeting.start.astimezone(zone), 'WHEN_DATETIME_FORMAT')} ({zone.key})"


def _meeting_text(kind: str, meeting: Meeting, user: User) -> str:
    values = {"title": meeting.title, "when": _when(meeting, user)}
    if kind == NotificationKind.INVITATION:
        return gettext("You are invited to “%(title)s”, %(when)s.") % values
    if kind == NotificationKind.MEETING_CHANGED:
        return gettext("“%(title)s” has changed; it is now %(when)s.") % values
    if kind == NotificationKind.MEETING_CANCELLED:
        return gettext("“%(title)s”, %(when)s, has been cancelled.") % values
    if kind == NotificationKind.AGENDA_PUBLISHED:
        return gettext("The agenda of “%(title)s”, %(when)s, is published.") % values
    if kind == NotificationKind.MINUTES_PUBLISHED:
        return gettext("The minutes of “%(title)s”, %(when)s, are published.") % values
    return gettext("“%(title)s”, %(when)s.") % values


def _action_text(kind: str, action: ActionItem) -> str:
    due = format_local(action.due, "WHEN_DATE_FORMAT") if action.due else gettext("no due date")
    values = {"title": action.title, "due": due}
    if kind == NotificationKind.ACTION_ASSIGNED:
        text = gettext("The action “%(title)s” is assigned to you or your organisation (due: %(due)s).") % values
    elif kind == NotificationKind.ACTION_DUE_SOON:
        text = gettext("The action “%(title)s” is due on %(due)s.") % values
    elif kind == NotificationKind.ACTION_OVERDUE:
        text = gettext("The action “%(title)s” was due on %(due)s and is not done.") % values
    else:
        text = gettext("The action “%(title)s” (due: %(due)s).") % values
    if action.status not in OPEN_STATUSES:
        # The notice was true when made; say where the action stands now rather than hide the notice.
        text += " " + gettext("Now: %(status)s.") % {"status": action.get_status_display()}
    return text


def _entries(user: User, notifications: Sequence[Notification]) -> dict[int, Entry]:
    """The resolver's words: the notifications whose record ``user`` may see now, by id. The records are fetched
    through ``visible_to``: one query for the meetings and one for the actions."""
    refs = {n.pk: _record_of(n) for n in notifications}
    action_ids = {r[1] for r in refs.values() if r is not None and r[0] == "action"}
    meeting_ids = {r[1] for r in refs.values() if r is not None and r[0] == "meeting"}
    subject = subject_for(user)
    actions = {a.pk: a for a in ActionItem.objects.visible_to(subject).filter(pk__in=sorted(action_ids))
               .select_related("label")} if action_ids else {}
    meetings = {m.pk: m for m in Meeting.objects.visible_to(subject).filter(pk__in=sorted(meeting_ids))
                .select_related("label")} if meeting_ids else {}
    kinds = dict(NotificationKind.choices)
    result: dict[int, Entry] = {}
    for note in notifications:
        kind_name = str(kinds.get(note.kind, note.kind))
        ref = refs[note.pk]
        if ref is None:
            continue
        if ref[0] == "action":
            action = actions.get(ref[1])
            if action is not None:
                result[note.pk] = Entry(note, f"{kind_name}: {action.title}", _action_text(note.kind, action),
                                        ACTIONS_PATH, action.label)
        else:
            meeting = meetings.get(ref[1])
            if meeting is not None:
                result[note.pk] = Entry(note, f"{kind_name}: {meeting.title}",
                                        _meeting_text(note.kind, meeting, user), MEETING_PATH.format(pk=meeting.pk),
                                        meeting.label)
    return result


def _visible(subject: Subject) -> Q:
    """Notification rows whose meeting or action the subject may see now: for each row, its record looked up by
    primary key (``record_id``; the ``ref`` prefix says which table, so another module's row is never compared) with
    the label test of ``visible_to`` (``visible_labels``, one decision for both), tested on ``label_id + 0``
    (``unindexed_label``) so that the primary key, not the label index, answers it. The cost follows the reader's own
    notifications, not the number of meetings and actions on the node."""
    visible = visible_labels(subject)
    if not visible:
        return Q(pk__in=[])
    conditions = Q()
    for model, prefix in ((Meeting, "meeting:"), (ActionItem, "action:")):
        record = (model.objects.annotate(_label=unindexed_label())  # type: ignore[attr-defined]
                  .filter(visible.q("_label"), pk=OuterRef("record_id")))
        conditions |= Q(ref__startswith=prefix) & Q(Exists(record))
    return conditions


def _forget(sender: type[Meeting] | type[ActionItem], instance: Meeting | ActionItem, **kwargs: Any) -> None:
    # What a foreign key's CASCADE did when notifications lived here: a deleted record's notices go with it.
    notification_services.forget(MODULE, [ref_of(instance)])


def register() -> None:
    """Called by ``ConsultationsConfig.ready()``: consultation notifications are resolved here."""
    notification_registry.register(MODULE, notification_registry.Resolver(
        name=gettext_lazy("Consultations"), visible=_visible, entries=_entries, refresh=scan_due_for,
        settings=("consultations_inbox:settings", gettext_lazy("Calendar feed"))))
    post_delete.connect(_forget, sender=Meeting, dispatch_uid="consultations.notify.meeting")
    post_delete.connect(_forget, sender=ActionItem, dispatch_uid="consultations.notify.action")


# --- recording ------------------------------------------------------------------------------------------------------

def default_key(kind: str, meeting: Meeting | None = None, action: ActionItem | None = None) -> str:
    """What makes a notice happen once: the kind and the record, plus what makes a repeat a new event (a meeting's
    SEQUENCE for a change; the due date for a reminder, so a changed due date is noticed again)."""
    if action is not None:
        key = f"{kind}:{action.pk}"
        if kind in (NotificationKind.ACTION_DUE_SOON, NotificationKind.ACTION_OVERDUE) and action.due is not None:
            key += f":{action.due.isoformat()}"
        return key[:KEY_MAX]
    if meeting is None:
        raise ValueError("a notification points to a meeting or an action")
    key = f"{kind}:{meeting.pk}"
    if kind == NotificationKind.MEETING_CHANGED:
        key += f":{meeting.sequence}"
    return key[:KEY_MAX]


def notify(kind: str, users: Iterable[User], *, meeting: Meeting | None = None, action: ActionItem | None = None,
           key: str = "") -> int:
    """Record a notification of ``kind`` (NotificationKind) for each user who may see the record; once per key.
    Returns how many were created. Called inside the service's transaction; email goes after commit."""
    if kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    record: Meeting | ActionItem | None = action if action is not None else meeting
    if record is None:
        raise ValueError("a notification points to a meeting or an action")
    label = label_of(record.label)
    key = (key or default_key(kind, meeting, action))[:KEY_MAX]
    chosen: dict[int, User] = {}
    for user in users:
        # Inactive users hold nothing (subject_for answers the anonymous subject), so they are left out here too.
        if user.pk in chosen or not user.is_active:
            continue
        if may_subject_see(subject_for(user), label):
            chosen[user.pk] = user
    return _store([Notification(user=u, module=MODULE, kind=kind, ref=ref_of(record), record_id=record.pk, key=key)
                   for u in chosen.values()])


def _store(entries: list[Notification], existing: set[tuple[int, str]] | None = None) -> int:
    """Insert the entries that do not exist yet (by user and key) and send the immediate e-mails after commit."""
    return notification_services.store(entries, existing, email_now=notification_services.wants_email_now,
                                       settings_url=ACCOUNT_EMAIL_PATH)


# --- the inbox (this module's notifications; the page shows every module's) -----------------------------------------

def inbox(user: User, unread_only: bool = False, limit: int = 50) -> list[Entry]:
    """Unread first, then newest first; only notifications whose record the user may see now."""
    return notification_queries.inbox(user, MODULE, unread_only=unread_only, limit=limit)


def unread_count(user: User) -> int:
    return notification_queries.unread_count(user, MODULE)


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own consultation notifications read (all of them when ``ids`` is None)."""
    return notification_services.mark_read(user, ids, MODULE)


# --- reminders ------------------------------------------------------------------------------------------------------

def _due_actions(today: date) -> QuerySet[ActionItem]:
    """Open actions due within DUE_SOON_DAYS or already overdue: a range on ``due``, filtered in SQL."""
    return ActionItem.objects.filter(status__in=OPEN_STATUSES, due__isnull=False,
                                     due__lte=today + timedelta(days=DUE_SOON_DAYS))


def scan_due(today: date | None = None) -> int:
    """Notice every open action due in the next 3 days (ACTION_DUE_SOON) or overdue (ACTION_OVERDUE), once per action,
    recipient and due date. Recipients: the owner, or the active members of the owning organisation, who may see the
    action's label. Returns the notifications created."""
    today = today or timezone.localdate()
    return _scan(_due_actions(today), today)


def scan_due_for(user: User, today: date | None = None) -> int:
    """The same scan for one person's own actions and their organisation's (cheap: two ranges on the owner indexes),
    so a node without a reminder worker still shows due and overdue notices when the person opens the inbox."""
    if not user.is_active:
        return 0
    today = today or timezone.localdate()
    created = _scan(_due_actions(today).filter(owner_user=user), today, only=user)
    if user.organisation_id is not None:
        created += _scan(_due_actions(today).filter(owner_organisation_id=user.organisation_id), today, only=user)
    return created


class _Recipients:
    """Users, what each may see (``visible_labels``) and organisation members, fetched once per scan."""

    def __init__(self, only: User | None) -> None:
        self.only = only
        self.users: dict[int, User | None] = {}
        self.members: dict[int, list[int]] = {}
        self.visible: dict[int, VisibleLabels] = {}

    def load(self, user_ids: set[int], org_ids: set[int]) -> None:
        missing_orgs = sorted(org_ids - set(self.members))
        if missing_orgs:
            rows = User.objects.filter(organisation_id__in=missing_orgs, is_active=True).values_list(
                "organisation_id", "pk")
            for org_id in missing_orgs:
                self.members[org_id] = []
            for org_id, pk in rows:
                self.members[org_id].append(pk)
                user_ids.add(pk)
        if self.only is not None:
            user_ids &= {self.only.pk}
        missing = sorted(user_ids - set(self.users))
        for start in range(0, len(missing), _CHUNK):
            found = {u.pk: u for u in User.objects.filter(pk__in=missing[start:start + _CHUNK], is_active=True)
                     .select_related("organisation")}
            for pk in missing[start:start + _CHUNK]:
                self.users[pk] = found.get(pk)

    def of(self, owner_user_id: int | None, owner_org_id: int | None) -> list[int]:
        ids = [owner_user_id] if owner_user_id is not None else self.members.get(owner_org_id or 0, [])
        if self.only is not None:
            ids = [pk for pk in ids if pk == self.only.pk]
        return [pk for pk in ids if self.users.get(pk) is not None]

    def sees(self, user_id: int, label_id: int) -> bool:
        if user_id not in self.visible:
            user = self.users[user_id]
            assert user is not None
            self.visible[user_id] = visible_labels(subject_for(user))
        return label_id in self.visible[user_id]


def _scan(actions: QuerySet[ActionItem], today: date, only: User | None = None) -> int:
    recipients = _Recipients(only)
    rows = actions.order_by("pk").values_list("pk", "due", "owner_user_id", "owner_organisation_id", "label_id")
    created, last = 0, 0
    while True:  # keyset pages: no cursor held open while notifications are written
        batch = list(rows.filter(pk__gt=last)[:_CHUNK])
        if not batch:
            return created
        created += _scan_batch(batch, today, recipients)
        last = batch[-1][0]


def _scan_batch(batch: Sequence[tuple[int, date | None, int | None, int | None, int]], today: date,
                recipients: _Recipients) -> int:
    recipients.load({r[2] for r in batch if r[2] is not None}, {r[3] for r in batch if r[3] is not None})
    # The reminders already made for these actions, by the action's index (not a (user, key) cross product).
    known = Notification.objects.filter(module=MODULE, ref__in=[f"action:{r[0]}" for r in batch],
                                        kind__in=_REMINDERS)
    if recipients.only is not None:
        known = known.filter(user=recipients.only)
    existing = set(known.values_list("user_id", "key"))
    entries: list[Notification] = []
    for pk, due, owner_user_id, owner_org_id, label_id in batch:
        if due is None:  # excluded by the query; kept for the type checker
            continue
        kind = NotificationKind.ACTION_OVERDUE if due < today else NotificationKind.ACTION_DUE_SOON
        key = f"{kind}:{pk}:{due.isoformat()}"
        for user_id in recipients.of(owner_user_id, owner_org_id):
            # Known reminders are skipped before a model instance is made: on a steady day nearly all are known.
            if (user_id, key) not in existing and recipients.sees(user_id, label_id):
                entries.append(Notification(user_id=user_id, module=MODULE, kind=kind, ref=f"action:{pk}",
                                            record_id=pk, key=key))
    return _store(entries, existing)


# --- settings and the calendar feed ----------------------------------------------------------------------------------

def settings_for(user: User) -> CalendarSettings:
    """The user's settings row (not saved when it does not exist yet: the defaults hold)."""
    return CalendarSettings.objects.filter(user=user).first() or CalendarSettings(user=user)


def _feed_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_feed_token(user: User, actor: str | None = None) -> str:
    """A new secret for the user's calendar feed, replacing any earlier one (which stops working at once). The
    secret is returned this once; only its SHA-256 is kept."""
    if not user.is_active:
        raise ServiceError(gettext("this account is not active"))
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        row, _ = CalendarSettings.objects.select_for_update().get_or_create(user=user)
        replaced = row.feed_digest is not None
        row.feed_digest = _feed_digest(token)
        row.feed_created_at = timezone.now()
        row.save(update_fields=["feed_digest", "feed_created_at"])
        audit.record(actor or user.username, "feed.create", "calendar_feed", [user.pk], detail={"replaced": replaced})
    return token


def revoke_feed(user: User, actor: str | None = None) -> bool:
    """Stop the user's calendar feed; False when there was none."""
    with transaction.atomic():
        row = CalendarSettings.objects.select_for_update().filter(user=user).first()
        if row is None or row.feed_digest is None:
            return False
        row.feed_digest = None
        row.feed_created_at = None
        row.save(update_fields=["feed_digest", "feed_created_at"])
        audit.record(actor or user.username, "feed.revoke", "calendar_feed", [user.pk])
    return True


def feed_path(token: str) -> str:
    return FEED_PATH.format(token=token)


def user_for_feed(token: str) -> User | None:
    """The active user whose current feed secret this is, or None (unknown, replaced or revoked secret)."""
    if not isinstance(token, str) or not _FEED_TOKEN.match(token):
        return None
    row = (CalendarSettings.objects.select_related("user", "user__organisation")
           .filter(feed_digest=_feed_digest(token)).first())
    if row is None or not row.user.is_active:
        return None
    return row.user


def feed_meetings(user: User, now: datetime | None = None) -> list[Meeting]:
    """The meetings of the user's feed: visible to them, starting from 90 days ago to 400 days ahead, cancelled
    ones included (a calendar must learn of the cancellation)."""
    now = now or timezone.now()
    return list(Meeting.objects.visible_to(subject_for(user))
                .filter(start__gte=now - FEED_PAST, start__lt=now + FEED_AHEAD)
                .select_related("label").order_by("start", "id")[:FEED_MAX])
