"""Every write of notifications, and their e-mail: storing notices once per key, marking them read, sending each one
(now, after the caller's transaction commits) or in a daily or weekly digest.

Who is told what is decided by the module that owns the record (e.g. ``consultations.notify``); this module stores,
sends and shows. Each person chooses once, for every module, how notifications reach them by e-mail (``Preference``:
each at once, a daily or weekly digest, or none); digests are sent by the periodic job ``notifications.digests``.
E-mail goes out once per notification: ``emailed_at`` is claimed before the message is handed to
Django's e-mail backend and released again if sending fails. Each message carries the record's label display string
as its classification marking, in the subject and at the top and bottom of the body; the words are made at sending
time from the record the person may still see, so a relabelled record is not sent.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.core.mail import EmailMessage, send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from kizuna.core import audit
from kizuna.core.access import label_display, label_of, registry
from kizuna.core.errors import ServiceError
from kizuna.core.models import LabelRecord
from kizuna.directory.models import User
from kizuna.labels import Label
from kizuna.labels.decision import highest
from kizuna.notifications import queries
from kizuna.notifications.models import EmailMode, Notification, Preference
from kizuna.notifications.queries import entries_of
from kizuna.notifications.registry import Entry
from kizuna.notifications.registry import modules as resolver_modules

logger = logging.getLogger("kizuna.notifications")

DIGEST_MAX = 500  # entries in one digest; the rest wait for the next one
# A digest takes what was created since the previous one, less this margin: a notice whose transaction was still open
# when the previous digest was read has a creation time just before it. emailed_at keeps the overlap from repeating.
DIGEST_GRACE = timedelta(minutes=10)
_CHUNK = 500
PERIODS: dict[str, timedelta] = {EmailMode.DAILY: timedelta(days=1), EmailMode.WEEKLY: timedelta(days=7)}
DIGEST_MODULE = "digests"  # the inbox entries of digests themselves
DEFAULT_POLICY = "NATO"

# Given the ids of the users just notified, those who want each notification e-mailed now.
WantsEmailNow = Callable[[set[int]], set[int]]
DigestResult = Literal["sent", "nothing", "failed"]


# --- recording ------------------------------------------------------------------------------------------------------

def store(entries: Sequence[Notification], existing: set[tuple[int, str]] | None = None,
          email_now: WantsEmailNow | None = None, settings_url: str = "") -> int:
    """Insert the entries (all of one module) that do not exist yet (by user, module and key); returns how many.
    ``existing``: the (user, key) pairs already recorded, when the caller has read them more cheaply itself.
    ``email_now``: after the caller's transaction commits, the new notices of the users it answers are e-mailed one by
    one (a rolled-back write announces nothing). ``ignore_conflicts`` keeps a concurrent insert of the same notice from
    failing the caller's transaction."""
    if not entries:
        return 0
    module = entries[0].module
    if any(e.module != module for e in entries):
        raise ValueError("store() takes the notifications of one module")
    fresh: dict[tuple[int, str], Notification] = {}
    for start in range(0, len(entries), _CHUNK):
        chunk = entries[start:start + _CHUNK]
        known = existing if existing is not None else set(Notification.objects.filter(
            module=module, user_id__in={e.user_id for e in chunk}, key__in={e.key for e in chunk})
            .values_list("user_id", "key"))
        for entry in chunk:
            pair = (entry.user_id, entry.key)
            if pair not in known and pair not in fresh:
                fresh[pair] = entry
    if not fresh:
        return 0
    Notification.objects.bulk_create(list(fresh.values()), ignore_conflicts=True, batch_size=_CHUNK)
    if email_now is not None:
        pairs = list(fresh)
        transaction.on_commit(lambda: send_immediate(module, pairs, email_now, settings_url), robust=True)
    return len(fresh)


def mark_read(user: User, ids: Iterable[int] | None = None, module: str | None = None) -> int:
    """Mark the user's own notifications read (all of them, or all of one module's, when ``ids`` is None); returns
    how many changed. Another user's id changes nothing."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if module is not None:
        qs = qs.filter(module=module)
    if ids is not None:
        qs = qs.filter(pk__in=sorted({int(i) for i in ids}))
    return qs.update(read_at=timezone.now())


def forget(module: str, refs: Iterable[str]) -> int:
    """Delete the notifications about records that no longer exist (their owner calls this when it deletes them)."""
    wanted = sorted(set(refs))
    deleted = 0
    for start in range(0, len(wanted), _CHUNK):
        deleted += Notification.objects.filter(module=module, ref__in=wanted[start:start + _CHUNK]).delete()[0]
    return deleted


# --- e-mail ---------------------------------------------------------------------------------------------------------

def base_url() -> str:
    """The node's public address for links in e-mail (``KIZUNA_BASE_URL``, e.g. https://kizuna.example.org); empty
    means links are written as paths."""
    value = getattr(settings, "KIZUNA_BASE_URL", "") or os.environ.get("KIZUNA_BASE_URL", "")
    return str(value).rstrip("/")


def absolute(path: str) -> str:
    return base_url() + path


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _language(user: User) -> str:
    """The recipient's saved language when the node offers it, else the node's default (English)."""
    return user.language if user.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def marking(labels: Sequence[LabelRecord]) -> str:
    """The classification marking of a message: the label when all entries share one, else the highest
    classification among them (as the page banner does for a list)."""
    parsed: list[Label] = [label_of(r) for r in labels]
    top = highest(parsed, registry())
    if top is None:
        return ""
    if len({label.key() for label in parsed}) == 1:
        return label_display(top)
    return registry().require(top.policy).classification(top.classification).display


def _send(user: User, subject: str, body: str, mark: str) -> None:
    message = EmailMessage(_one_line(subject)[:900], body, None, [user.email],
                           headers={"X-Kizuna-Label": _one_line(mark)})
    message.send(fail_silently=False)


def _claim(ids: list[int], now: datetime) -> list[int]:
    """Mark these notifications e-mailed unless another sender already did; the ones this call now owns."""
    with transaction.atomic():
        free = list(Notification.objects.select_for_update().filter(pk__in=ids, emailed_at__isnull=True)
                    .values_list("pk", flat=True))
        Notification.objects.filter(pk__in=free).update(emailed_at=now)
    return free


def _release(ids: list[int]) -> None:
    Notification.objects.filter(pk__in=ids).update(emailed_at=None)


def _subject(mark: str, title: str) -> str:
    return _one_line(render_to_string("notifications/email/subject.txt", {"marking": mark, "title": title}))


def send_immediate(module: str, pairs: Sequence[tuple[int, str]], email_now: WantsEmailNow,
                   settings_url: str = "") -> int:
    """After commit: e-mail each new notification (``pairs`` of user id and key) to its user when ``email_now`` says
    so, if they may still see its record. Returns how many e-mails went out. Failures are logged, never raised into
    the committed request."""
    sent = 0
    try:
        keys: dict[int, list[str]] = defaultdict(list)
        for user_id, key in pairs:
            keys[user_id].append(key)
        wanted = sorted(email_now(set(keys)))
        for user in User.objects.filter(pk__in=wanted, is_active=True).exclude(email="").select_related("organisation"):
            notes: list[Notification] = []
            for start in range(0, len(keys[user.pk]), _CHUNK):
                notes.extend(Notification.objects.filter(user=user, module=module,
                                                         key__in=keys[user.pk][start:start + _CHUNK],
                                                         emailed_at__isnull=True))
            # The words are the recipient's: their language, their time zone.
            with translation.override(_language(user)):
                entries = [e for e in entries_of(user, notes) if queries.may_mail(e)]
            for entry in entries:
                sent += _send_entry(user, entry, settings_url)
    except Exception:  # the write this follows is committed; a broken mail setup must not undo it
        logger.exception("could not send notification e-mails")
    return sent


def _send_entry(user: User, entry: Entry, settings_url: str) -> int:
    if not _claim([entry.notification.pk], timezone.now()):
        return 0
    assert entry.label is not None
    mark = label_display(label_of(entry.label))
    with translation.override(_language(user)):
        subject = _subject(mark, entry.title)
        body = render_to_string("notifications/email/notification.txt", {
            "marking": mark, "entry": entry, "url": absolute(entry.url), "settings_url": absolute(settings_url)})
    try:
        _send(user, subject, body, mark)
    except Exception:  # SMTP and socket errors alike: leave it for a later send
        _release([entry.notification.pk])
        logger.warning("could not e-mail notification %s to user %s", entry.notification.pk, user.pk)
        return 0
    return 1


# --- preference and digests ------------------------------------------------------------------------------------------

def preference_for(user: User) -> Preference:
    """The user's preference (not saved when it does not exist yet: each notification is e-mailed)."""
    return Preference.objects.filter(user=user).first() or Preference(user=user)


def email_modes(user_ids: Iterable[int]) -> dict[int, str]:
    """Each user's e-mail mode; a user without a preference gets an e-mail for each notification."""
    ids = sorted(set(user_ids))
    modes = dict(Preference.objects.filter(user_id__in=ids).values_list("user_id", "email_mode"))
    return {pk: str(modes.get(pk, EmailMode.IMMEDIATE)) for pk in ids}


def wants_email_now(user_ids: set[int]) -> set[int]:
    """Of these users, those who want each notification e-mailed as it happens (``store``'s ``email_now``)."""
    return {pk for pk, mode in email_modes(user_ids).items() if mode == EmailMode.IMMEDIATE}


def set_email_mode(user: User, mode: str, actor: str | None = None, address: str = "") -> Preference:
    """Change how notifications of every module reach the user by e-mail. Choosing a digest starts its window now
    (the first digest comes a period later), so what arrived while e-mail was off is never sent afterwards."""
    if mode not in EmailMode.values:
        raise ServiceError(gettext("unknown email mode %(mode)s; use one of %(modes)s")
                           % {"mode": repr(mode), "modes": ", ".join(EmailMode.values)}, "email_mode")
    with transaction.atomic():
        row, _ = Preference.objects.select_for_update().get_or_create(user=user)
        if row.email_mode == mode:
            return row
        previous = row.email_mode
        row.email_mode = mode
        if mode in PERIODS:
            row.last_digest_at = timezone.now() + DIGEST_GRACE  # the window's lower bound is exactly now
        row.save(update_fields=["email_mode", "last_digest_at"])
        audit.record(actor or user.username, "update", "notification_preference", [user.pk], address=address,
                     detail={"email_mode": mode, "from": previous})
    return row


def digest_entries(user: User, since: datetime | None, now: datetime) -> list[Entry]:
    """What a digest sent at ``now`` would hold: the user's notifications of every module created since ``since``
    (less the grace margin) and not e-mailed yet, whose record the user may still see now; oldest first. Earlier
    digests are not part of a digest."""
    pending = Notification.objects.filter(user=user, emailed_at__isnull=True, created_at__lte=now).exclude(
        module=DIGEST_MODULE)
    if since is not None:
        pending = pending.filter(created_at__gt=since - DIGEST_GRACE)
    with translation.override(_language(user)):
        return entries_of(user, list(pending.order_by("created_at", "id")[:DIGEST_MAX]))


def digest_title(period: str, count: int) -> str:
    """The words of a digest (its e-mail's subject and its inbox entry), in the active language."""
    if period == EmailMode.WEEKLY:
        return ngettext("Weekly digest: %(count)d notification", "Weekly digest: %(count)d notifications",
                        count) % {"count": count}
    return ngettext("Daily digest: %(count)d notification", "Daily digest: %(count)d notifications",
                    count) % {"count": count}


def send_digest(user: User, entries: Sequence[Entry], now: datetime, settings_url: str = "",
                period: str = EmailMode.DAILY) -> DigestResult:
    """One digest of ``entries`` (from ``digest_entries``): an e-mail (when the user has an address) and one inbox
    entry naming them. In the e-mail each entry a module lets be mailed (``may_mail``) is marked with its label and the
    whole with the highest; the others (e.g. watch matches) are only counted per module. "nothing" when another
    sender already claimed them all; "failed" when the mail could not be handed over (the entries are released for
    the next run)."""
    owned = set(_claim([e.notification.pk for e in entries], now))
    entries = [e for e in entries if e.notification.pk in owned]
    if not entries:
        return "nothing"
    mailed = [e for e in entries if queries.may_mail(e)]
    counted: dict[str, int] = defaultdict(int)
    for entry in entries:
        if not queries.may_mail(entry):
            counted[entry.notification.module] += 1
    names = {name: resolver.name for name, resolver in resolver_modules().items()}
    labels = [e.label for e in mailed if e.label is not None]
    mark = marking(labels) or marking_of_nothing()
    items = [{"entry": e, "url": absolute(e.url),
              "marking": label_display(label_of(e.label)) if e.label is not None else ""} for e in mailed]
    if user.email:
        with translation.override(_language(user)):
            subject = _subject(mark, digest_title(period, len(entries)))
            body = render_to_string("notifications/email/digest.txt", {
                "marking": mark, "items": items, "period": period, "inbox_url": absolute(reverse("notifications:inbox")),
                "counted": [{"name": str(names.get(m, m)), "count": n} for m, n in sorted(counted.items())],
                "settings_url": absolute(settings_url or reverse("web:account"))})
        try:
            _send(user, subject, body, mark)
        except Exception:  # SMTP and socket errors alike: try again on the next run
            _release(sorted(owned))
            logger.warning("could not e-mail the %s digest to user %s", period, user.pk)
            return "failed"
    # The inbox entry names the notifications it holds; its words are made when it is read, from those the reader
    # may see then (``digest_resolver``).
    Notification.objects.bulk_create([Notification(
        user=user, module=DIGEST_MODULE, kind=period, ref=f"digest:{now.isoformat()}",
        key=f"{period}:{now.isoformat()}", detail={"ids": sorted(owned)}, created_at=now, emailed_at=now)],
        ignore_conflicts=True)
    return "sent"


def marking_of_nothing() -> str:
    """The marking of a digest that names no labelled record (only counts): the lowest level of the default policy."""
    policy = registry().require(DEFAULT_POLICY)
    return policy.lowest.display


def send_digests(now: datetime | None = None) -> int:
    """One digest per user whose mode is daily or weekly and whose last digest is at least a period old, holding
    every notification since that digest which was not e-mailed yet and whose record they may still see. Run by the
    periodic job ``notifications.digests``; of two runners at the same moment one sends (compare-and-set on
    ``last_digest_at``). Returns how many digests went out."""
    now = now or timezone.now()
    due = Q()
    for mode, period in PERIODS.items():
        due |= Q(email_mode=mode) & (Q(last_digest_at__isnull=True) | Q(last_digest_at__lte=now - period))
    rows = (Preference.objects.filter(due, user__is_active=True)
            .select_related("user", "user__organisation").order_by("pk"))
    sent = 0
    for row in rows:
        try:
            sent += _digest(row, now)
        except Exception:  # one user's failure must not stop the others' digests
            logger.exception("could not send the digest of user %s", row.user_id)
    return sent


def _digest(row: Preference, now: datetime) -> int:
    user = row.user
    entries = digest_entries(user, row.last_digest_at, now)
    if not entries:
        return 0
    # Compare-and-set on last_digest_at: of two runners at the same moment, one sends.
    if not Preference.objects.filter(pk=row.pk, last_digest_at=row.last_digest_at).update(last_digest_at=now):
        return 0
    result = send_digest(user, entries, now, period=row.email_mode)
    if result == "failed":  # try again on the next run
        Preference.objects.filter(pk=row.pk).update(last_digest_at=row.last_digest_at)
    return 1 if result == "sent" else 0


def send_plain(user: User, subject: str, body: str) -> bool:
    """A message that names no record (e.g. "3 new objects match your watch filters"): no marking is needed. Returns
    whether it was handed over; a failure is logged."""
    if not user.email:
        return False
    try:
        send_mail(subject, body, None, [user.email], fail_silently=False)
    except OSError:
        logger.warning("could not send a notification e-mail to user %s", user.pk)
        return False
    return True
