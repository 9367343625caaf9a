"""Every write of notifications, and their e-mail: storing notices once per key, marking them read, sending each one
(now, after the caller's transaction commits) or a daily digest.

Who is told what is decided by the module that owns the record (e.g. ``consultations.notify``); this module stores,
sends and shows. E-mail goes out once per notification: ``emailed_at`` is claimed before the message is handed to
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
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import ngettext

from kizuna.core.access import label_display, label_of, registry
from kizuna.core.models import LabelRecord
from kizuna.directory.models import User
from kizuna.labels import Label
from kizuna.labels.decision import highest
from kizuna.notifications import queries
from kizuna.notifications.models import Notification
from kizuna.notifications.queries import entries_of
from kizuna.notifications.registry import Entry

logger = logging.getLogger("kizuna.notifications")

DIGEST_MAX = 500  # entries in one digest; the rest wait for the next one
# A digest takes what was created since the previous one, less this margin: a notice whose transaction was still open
# when the previous digest was read has a creation time just before it. emailed_at keeps the overlap from repeating.
DIGEST_GRACE = timedelta(minutes=10)
_CHUNK = 500

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


def digest_entries(user: User, since: datetime | None, now: datetime) -> list[Entry]:
    """What a digest sent at ``now`` would hold: the user's notifications created since ``since`` (less the grace
    margin) and not e-mailed yet, whose words may be mailed and whose record the user may still see; oldest first."""
    pending = Notification.objects.filter(user=user, emailed_at__isnull=True, created_at__lte=now,
                                          module__in=queries.mailed_modules())
    if since is not None:
        pending = pending.filter(created_at__gt=since - DIGEST_GRACE)
    with translation.override(_language(user)):
        return entries_of(user, list(pending.order_by("created_at", "id")[:DIGEST_MAX]))


def send_digest(user: User, entries: Sequence[Entry], now: datetime, settings_url: str = "") -> DigestResult:
    """One e-mail holding ``entries`` (from ``digest_entries``), each marked with its label and the whole with the
    highest. "nothing" when another sender already claimed them all; "failed" when the mail could not be handed over
    (the entries are released for the next run)."""
    owned = set(_claim([e.notification.pk for e in entries], now))
    entries = [e for e in entries if e.notification.pk in owned]
    if not entries:
        return "nothing"
    labels = [e.label for e in entries if e.label is not None]
    mark = marking(labels)
    items = [{"entry": e, "url": absolute(e.url),
              "marking": label_display(label_of(e.label)) if e.label is not None else ""} for e in entries]
    with translation.override(_language(user)):
        count = len(entries)
        subject = _subject(mark, ngettext("Daily digest: %(count)d notification",
                                          "Daily digest: %(count)d notifications", count) % {"count": count})
        body = render_to_string("notifications/email/digest.txt", {
            "marking": mark, "items": items, "settings_url": absolute(settings_url)})
    try:
        _send(user, subject, body, mark)
    except Exception:  # SMTP and socket errors alike: try again on the next run
        _release(sorted(owned))
        logger.warning("could not e-mail the daily digest to user %s", user.pk)
        return "failed"
    return "sent"


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
