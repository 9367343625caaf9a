"""Notifications of the consultation cycle: the in-app inbox, email (now or in a daily digest), the reminders of
actions due in 3 days and overdue, and the per-user calendar feed at a secret URL.

A notification row holds no content, only what it points to (a meeting or an action). Its title, text and link are
made when it is read or sent, from the record fetched through ``visible_to`` at that moment: a notification whose
record the person may no longer see (relabelled, or the person's clearance lowered) is not shown, not counted and not
emailed. When a notification names both an action and a meeting, the action is the record: only it is shown.

Email goes out after the caller's transaction commits (a rolled-back write announces nothing), once per
notification: ``emailed_at`` is claimed before the message is handed to Django's email backend and released again if
sending fails. Each message carries the record's label display string as its classification marking, in the subject
and at the top and bottom of the body.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from kizuna.consultations.models import (
    ActionItem,
    ActionStatus,
    CalendarSettings,
    EmailMode,
    Meeting,
    Notification,
    NotificationKind,
)
from kizuna.core import audit
from kizuna.core.access import (
    VisibleLabels,
    label_display,
    label_of,
    may_subject_see,
    registry,
    visible_labels,
)
from kizuna.core.errors import ServiceError
from kizuna.core.models import LabelRecord
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label
from kizuna.labels.decision import highest

logger = logging.getLogger("kizuna.consultations.notify")

DUE_SOON_DAYS = 3
OPEN_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
_REMINDERS = (NotificationKind.ACTION_DUE_SOON, NotificationKind.ACTION_OVERDUE)
DIGEST_EVERY = timedelta(hours=24)
DIGEST_MAX = 500  # entries in one digest; the rest wait for the next one
# A digest takes what was created since the previous one, less this margin: a notice whose transaction was still open
# when the previous digest was read has a creation time just before it. emailed_at keeps the overlap from repeating.
DIGEST_GRACE = timedelta(minutes=10)
FEED_PAST = timedelta(days=90)
FEED_AHEAD = timedelta(days=400)
FEED_MAX = 5000  # meetings in one feed
KEY_MAX = 200  # Notification.key's max_length
MEETING_PATH = "/consultations/meetings/{pk}/"
ACTIONS_PATH = "/consultations/actions/"
SETTINGS_PATH = "/consultations/settings/"
FEED_PATH = "/consultations/feed/{token}.ics"
_CHUNK = 500
# secrets.token_urlsafe(32) gives 43 characters of the URL-safe base64 alphabet; anything else is not a feed token.
_FEED_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


# --- what a notification says ----------------------------------------------------------------------------------------

@dataclass
class InboxEntry:
    notification: Notification
    title: str
    text: str
    url: str
    label: LabelRecord | None = None  # of the record shown: for the banner and the label chip

    @property
    def unread(self) -> bool:
        return self.notification.read_at is None


def base_url() -> str:
    """The node's public address for links in email (``KIZUNA_BASE_URL``, e.g. https://kizuna.example.org); empty
    means links are written as paths."""
    value = getattr(settings, "KIZUNA_BASE_URL", "") or os.environ.get("KIZUNA_BASE_URL", "")
    return str(value).rstrip("/")


def _zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _when(meeting: Meeting, user: User) -> str:
    zone = _zone(user)
    return f"{meeting.start.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


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
    due = action.due.isoformat() if action.due else gettext("no due date")
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


def _entries(user: User, notifications: Sequence[Notification]) -> list[InboxEntry]:
    """The notifications whose record ``user`` may see now, each with its words, in the given order. The records
    are fetched through ``visible_to``: one query for the meetings and one for the actions."""
    if not notifications:
        return []
    subject = subject_for(user)
    action_ids = {n.action_id for n in notifications if n.action_id is not None}
    meeting_ids = {n.meeting_id for n in notifications if n.action_id is None and n.meeting_id is not None}
    actions = {a.pk: a for a in ActionItem.objects.visible_to(subject).filter(pk__in=sorted(action_ids))
               .select_related("label")} if action_ids else {}
    meetings = {m.pk: m for m in Meeting.objects.visible_to(subject).filter(pk__in=sorted(meeting_ids))
                .select_related("label")} if meeting_ids else {}
    kinds = dict(NotificationKind.choices)
    result: list[InboxEntry] = []
    for note in notifications:
        kind_name = str(kinds.get(note.kind, note.kind))
        if note.action_id is not None:
            action = actions.get(note.action_id)
            if action is None:
                continue
            result.append(InboxEntry(note, f"{kind_name}: {action.title}", _action_text(note.kind, action),
                                     ACTIONS_PATH, action.label))
        elif note.meeting_id is not None:
            meeting = meetings.get(note.meeting_id)
            if meeting is None:
                continue
            result.append(InboxEntry(note, f"{kind_name}: {meeting.title}", _meeting_text(note.kind, meeting, user),
                                     MEETING_PATH.format(pk=meeting.pk), meeting.label))
    return result


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
    return _store([Notification(user=u, kind=kind, meeting=meeting, action=action, key=key)
                   for u in chosen.values()])


def _store(entries: list[Notification], existing: set[tuple[int, str]] | None = None) -> int:
    """Insert the entries that do not exist yet (by user and key) and send the immediate emails after commit.
    ``existing``: the (user, key) pairs already recorded, when the caller has read them more cheaply itself.
    ``ignore_conflicts`` keeps a concurrent insert of the same notice from failing the caller's transaction."""
    fresh: dict[tuple[int, str], Notification] = {}
    for start in range(0, len(entries), _CHUNK):
        chunk = entries[start:start + _CHUNK]
        known = existing if existing is not None else set(Notification.objects.filter(
            user_id__in={e.user_id for e in chunk}, key__in={e.key for e in chunk}).values_list("user_id", "key"))
        for entry in chunk:
            pair = (entry.user_id, entry.key)
            if pair not in known and pair not in fresh:
                fresh[pair] = entry
    if not fresh:
        return 0
    Notification.objects.bulk_create(list(fresh.values()), ignore_conflicts=True, batch_size=_CHUNK)
    pairs = list(fresh)
    transaction.on_commit(lambda: send_immediate(pairs), robust=True)
    return len(fresh)


# --- email ----------------------------------------------------------------------------------------------------------

def _mode_of(user_ids: Iterable[int]) -> dict[int, str]:
    """Each user's email mode; a user without a settings row gets an email for each notification."""
    ids = sorted(set(user_ids))
    modes = dict(CalendarSettings.objects.filter(user_id__in=ids).values_list("user_id", "email_mode"))
    return {pk: str(modes.get(pk, EmailMode.IMMEDIATE)) for pk in ids}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _absolute(path: str) -> str:
    return base_url() + path


def _marking(labels: Sequence[LabelRecord]) -> str:
    """The classification marking of a message: the label when all entries share one, else the highest
    classification among them (as the page banner does for a list)."""
    parsed: list[Label] = [label_of(r) for r in labels]
    top = highest(parsed, registry())
    if top is None:
        return ""
    if len({label.key() for label in parsed}) == 1:
        return label_display(top)
    return registry().require(top.policy).classification(top.classification).display


def _send(user: User, subject: str, body: str, marking: str) -> None:
    message = EmailMessage(_one_line(subject)[:900], body, None, [user.email],
                           headers={"X-Kizuna-Label": _one_line(marking)})
    message.send(fail_silently=False)


def _claim(ids: list[int], now: datetime) -> list[int]:
    """Mark these notifications emailed unless another sender already did; the ones this call now owns."""
    with transaction.atomic():
        free = list(Notification.objects.select_for_update().filter(pk__in=ids, emailed_at__isnull=True)
                    .values_list("pk", flat=True))
        Notification.objects.filter(pk__in=free).update(emailed_at=now)
    return free


def _release(ids: list[int]) -> None:
    Notification.objects.filter(pk__in=ids).update(emailed_at=None)


def _subject(marking: str, title: str) -> str:
    return _one_line(render_to_string("consultations/email/subject.txt", {"marking": marking, "title": title}))


def send_immediate(pairs: Sequence[tuple[int, str]]) -> int:
    """After commit: email each new notification to its user when their mode is "immediate", if they may still see
    its record. Returns how many emails went out. Failures are logged, never raised into the committed request."""
    sent = 0
    try:
        keys: dict[int, list[str]] = defaultdict(list)
        for user_id, key in pairs:
            keys[user_id].append(key)
        modes = _mode_of(keys)
        wanted = [pk for pk, mode in modes.items() if mode == EmailMode.IMMEDIATE]
        for user in User.objects.filter(pk__in=wanted, is_active=True).exclude(email="").select_related("organisation"):
            notes: list[Notification] = []
            for start in range(0, len(keys[user.pk]), _CHUNK):
                notes.extend(Notification.objects.filter(user=user, key__in=keys[user.pk][start:start + _CHUNK],
                                                         emailed_at__isnull=True))
            # The words are the recipient's: their language, their time zone.
            with translation.override(user.language or settings.LANGUAGE_CODE):
                entries = _entries(user, notes)
            for entry in entries:
                sent += _send_entry(user, entry)
    except Exception:  # the write this follows is committed; a broken mail setup must not undo it
        logger.exception("could not send consultation notification emails")
    return sent


def _send_entry(user: User, entry: InboxEntry) -> int:
    if not _claim([entry.notification.pk], timezone.now()):
        return 0
    assert entry.label is not None
    marking = label_display(label_of(entry.label))
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = _subject(marking, entry.title)
        body = render_to_string("consultations/email/notification.txt", {
            "marking": marking, "entry": entry, "url": _absolute(entry.url),
            "settings_url": _absolute(SETTINGS_PATH)})
    try:
        _send(user, subject, body, marking)
    except Exception:  # SMTP and socket errors alike: leave it for a later send
        _release([entry.notification.pk])
        logger.warning("could not email notification %s to user %s", entry.notification.pk, user.pk)
        return 0
    return 1


def send_digests(now: datetime | None = None) -> int:
    """One email per user whose mode is "daily" and whose last digest is at least 24 h old, holding every notification
    since that digest which was not emailed yet and whose record they may still see. Returns the emails sent."""
    now = now or timezone.now()
    rows = (CalendarSettings.objects.filter(email_mode=EmailMode.DAILY, user__is_active=True)
            .exclude(user__email="")
            .filter(Q(last_digest_at__isnull=True) | Q(last_digest_at__lte=now - DIGEST_EVERY))
            .select_related("user", "user__organisation").order_by("pk"))
    sent = 0
    for row in rows:
        try:
            sent += _digest(row, now)
        except Exception:  # one user's failure must not stop the others' digests
            logger.exception("could not send the daily digest of user %s", row.user_id)
    return sent


def _digest(row: CalendarSettings, now: datetime) -> int:
    user = row.user
    pending = Notification.objects.filter(user=user, emailed_at__isnull=True, created_at__lte=now)
    if row.last_digest_at is not None:
        pending = pending.filter(created_at__gt=row.last_digest_at - DIGEST_GRACE)
    with translation.override(user.language or settings.LANGUAGE_CODE):
        entries = _entries(user, list(pending.order_by("created_at", "id")[:DIGEST_MAX]))
    if not entries:
        return 0
    # Compare-and-set on last_digest_at: of two runners at the same moment, one sends.
    if not CalendarSettings.objects.filter(pk=row.pk, last_digest_at=row.last_digest_at).update(last_digest_at=now):
        return 0
    owned = set(_claim([e.notification.pk for e in entries], now))
    entries = [e for e in entries if e.notification.pk in owned]
    if not entries:
        return 0
    labels = [e.label for e in entries if e.label is not None]
    marking = _marking(labels)
    items = [{"entry": e, "url": _absolute(e.url),
              "marking": label_display(label_of(e.label)) if e.label is not None else ""} for e in entries]
    with translation.override(user.language or settings.LANGUAGE_CODE):
        count = len(entries)
        subject = _subject(marking, ngettext("Daily digest: %(count)d notification",
                                             "Daily digest: %(count)d notifications", count) % {"count": count})
        body = render_to_string("consultations/email/digest.txt", {
            "marking": marking, "items": items, "settings_url": _absolute(SETTINGS_PATH)})
    try:
        _send(user, subject, body, marking)
    except Exception:  # SMTP and socket errors alike: try again on the next run
        _release(sorted(owned))
        CalendarSettings.objects.filter(pk=row.pk).update(last_digest_at=row.last_digest_at)
        logger.warning("could not email the daily digest to user %s", user.pk)
        return 0
    return 1


# --- the inbox ------------------------------------------------------------------------------------------------------

def _visible(user: User) -> QuerySet[Notification]:
    """The user's notifications whose record they may see now, as one query: the record's label among the label ids
    ``visible_to`` would use for this user (an action's label when the notice is about an action)."""
    visible = visible_labels(subject_for(user))
    if not visible:
        return Notification.objects.none()
    return Notification.objects.filter(user=user).filter(
        (Q(action__isnull=False) & visible.q("action__label")) | (Q(action__isnull=True) & visible.q("meeting__label")))


def inbox(user: User, unread_only: bool = False, limit: int = 50) -> list[InboxEntry]:
    """Unread first, then newest first; only notifications whose record the user may see now."""
    qs = _visible(user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    qs = qs.annotate(_read=Case(When(read_at__isnull=True, then=Value(0)), default=Value(1),
                                output_field=IntegerField()))
    return _entries(user, list(qs.order_by("_read", "-created_at", "-id")[:max(0, limit)]))


def unread_count(user: User) -> int:
    """Unread notifications the user may see: one count over the (user, read_at, created_at) index."""
    return _visible(user).filter(read_at__isnull=True).count()


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read (all of them when ``ids`` is None); returns how many changed."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=sorted({int(i) for i in ids}))
    return qs.update(read_at=timezone.now())


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
    """Users, their visible label ids and organisation members, fetched once per scan."""

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
    known = Notification.objects.filter(action_id__in=[r[0] for r in batch], kind__in=_REMINDERS)
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
                entries.append(Notification(user_id=user_id, kind=kind, action_id=pk, key=key))
    return _store(entries, existing)


# --- settings and the calendar feed ----------------------------------------------------------------------------------

def settings_for(user: User) -> CalendarSettings:
    """The user's settings row (not saved when it does not exist yet: the defaults hold)."""
    return CalendarSettings.objects.filter(user=user).first() or CalendarSettings(user=user)


def set_email_mode(user: User, mode: str, actor: str | None = None) -> CalendarSettings:
    """Change how notifications reach the user by email. Choosing the daily digest starts its window now (the first
    digest comes a day later), so what arrived while email was off is never sent afterwards."""
    if mode not in EmailMode.values:
        raise ServiceError(gettext("unknown email mode %(mode)s; use one of %(modes)s")
                           % {"mode": repr(mode), "modes": ", ".join(EmailMode.values)}, "email_mode")
    with transaction.atomic():
        row, _ = CalendarSettings.objects.select_for_update().get_or_create(user=user)
        if row.email_mode == mode:
            return row
        previous = row.email_mode
        row.email_mode = mode
        if mode == EmailMode.DAILY:
            row.last_digest_at = timezone.now() + DIGEST_GRACE  # the window's lower bound is exactly now
        row.save(update_fields=["email_mode", "last_digest_at"])
        audit.record(actor or user.username, "update", "calendar_settings", [user.pk],
                     detail={"email_mode": mode, "from": previous})
    return row


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
