"""The one ``Notification`` model: an entry of a person's inbox, whatever module it comes from.

A row holds no content of its own, only what it points to: ``module`` (the resolver that owns the record, e.g.
"consultations" or "threats") and ``ref`` (the record as that module names it: "meeting:12", "action:5", a STIX id).
Its title, text, link and label are made when it is read or sent, from the record fetched through ``visible_to`` at
that moment, so a notification whose record the person may no longer see is not shown, not counted and not e-mailed.
``key`` makes each notice happen once per user and module (e.g. "action_due_soon:42:2026-12-01", or "watch:<STIX id>":
one watch notification per user and object).

``Preference`` is a person's one choice of how notifications of every module reach them by e-mail: each at once, a
daily or weekly digest, or none (the inbox holds them all whatever the choice).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KEY_MAX = 200
REF_MAX = 128


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    module = models.CharField(max_length=40)
    # The module's own kinds (e.g. consultations' NotificationKind, "watch_match"): no choices here, since this app
    # knows no module; each resolver names its kinds.
    kind = models.CharField(max_length=32)
    ref = models.CharField(max_length=REF_MAX)
    # The record's integer primary key, for modules whose records have one (consultations: the meeting's or action's
    # id of "meeting:12", "action:5"); null for the others (a STIX id). The resolvers look the record up by it
    # (an EXISTS on the primary key, no cast of ``ref``), together with ``ref``'s prefix naming its table.
    record_id = models.BigIntegerField(null=True, blank=True)
    key = models.CharField(max_length=KEY_MAX)
    # What the module adds about the event, not the record (e.g. {"watch_filter": 3}); never labelled content.
    detail = models.JSONField(default=dict, blank=True)
    # A default rather than auto_now_add, so that the data migration could keep the old rows' times.
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # When it went out by e-mail, alone or in a digest; null = not (yet) e-mailed.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "module", "key"], name="notice_once")]
        indexes = [
            models.Index(fields=["user", "read_at", "created_at"], name="notice_inbox"),
            # The unread count and the visibility test: a user's (unread) rows of a module with their record ids.
            models.Index(fields=["user", "read_at", "module", "record_id"], name="notice_record_id"),
            models.Index(fields=["emailed_at", "user"], name="notice_outbox"),
            # "The notices about this record" (a deleted record's, the reminders already made): ref leads, so that a
            # planner without statistics never reads a whole module's rows for ``module = ...`` (every user's).
            models.Index(fields=["ref", "module"], name="notice_record"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.module}.{self.kind} for {self.user_id}"


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", _("An email for each notification")
    DAILY = "daily", _("One daily digest")
    WEEKLY = "weekly", _("One weekly digest")
    OFF = "off", _("No email (inbox only)")


class Preference(models.Model):
    """How a person's notifications of every module reach them besides the inbox: each one by e-mail, a daily or a
    weekly digest (by e-mail and as one inbox entry), or nothing. A person without a row gets each one by e-mail.
    ``last_digest_at`` is the end of the window of the last digest (or, when a digest mode is chosen, the start of the
    first window): the periodic job takes it by compare-and-set, so a period's digest is sent once."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preference")
    email_mode = models.CharField(max_length=20, choices=EmailMode.choices, default=EmailMode.IMMEDIATE)
    last_digest_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["email_mode", "last_digest_at"], name="notice_digest_due")]

    def __str__(self) -> str:
        return f"notification preference of {self.user_id}"
