"""Consultation series, meetings (stored in UTC with a home IANA zone), attendees, agenda items, minutes, decisions,
action items, the kinds of their notifications (stored by ``kizuna.notifications``) and the per-user calendar
settings of the consultation cycle.

Every shareable record inherits ``Labelled``, so it reaches a subject only through ``objects.visible_to``. Attendees
are not labelled on their own: a row is visible exactly when its meeting is. Draft and published (agenda, minutes) are
workflow states applied *after* ``visible_to``, never instead of it: a draft agenda item is read by the meeting's
organisers, a published one by whoever may see the meeting and the item's own label.

Each shareable record has a ``uuid``, the base of its STIX id (the same on every node), and ``stix_id`` set only on a
read-only copy received from a peer (see ``stix.py``).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kizuna.core.models import Labelled


class MeetingMode(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    VIRTUAL = "virtual", _("Virtual")
    HYBRID = "hybrid", _("Hybrid")


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")


class Rsvp(models.TextChoices):
    PENDING = "pending", _("No answer yet")
    ACCEPTED = "accepted", _("Accepted")
    TENTATIVE = "tentative", _("Tentative")
    DECLINED = "declined", _("Declined")


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class NotificationKind(models.TextChoices):
    INVITATION = "invitation", _("Invitation")
    MEETING_CHANGED = "meeting_changed", _("Meeting changed")
    MEETING_CANCELLED = "meeting_cancelled", _("Meeting cancelled")
    AGENDA_PUBLISHED = "agenda_published", _("Agenda published")
    MINUTES_PUBLISHED = "minutes_published", _("Minutes published")
    ACTION_ASSIGNED = "action_assigned", _("Action assigned")
    ACTION_DUE_SOON = "action_due_soon", _("Action due in 3 days")
    ACTION_OVERDUE = "action_overdue", _("Action overdue")


def _stix_id_field() -> models.CharField:  # type: ignore[type-arg]
    return models.CharField(max_length=128, unique=True, null=True, blank=True, editable=False)


class Series(Labelled):
    """A recurring dialogue. Its cadence is an RFC 5545 RRULE evaluated in local (wall-clock) time of ``time_zone``,
    starting on ``first_date`` at ``start_time``: 09:00 in Brussels stays 09:00 in Brussels across summer time."""

    title = models.CharField(max_length=300)
    focus_areas = models.JSONField(default=list, blank=True)  # values of kizuna.core.focus.FocusArea
    nations = models.JSONField(default=list, blank=True)  # participating nations, ISO alpha-3 codes, sorted
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="chaired_series"
    )
    rrule = models.TextField(blank=True)  # e.g. "FREQ=WEEKLY;BYDAY=TU"; empty = no fixed cadence
    time_zone = models.CharField(max_length=64)  # IANA key
    first_date = models.DateField(null=True, blank=True)  # DTSTART's date, in the home zone
    start_time = models.TimeField(null=True, blank=True)  # DTSTART's wall-clock time, in the home zone
    duration_minutes = models.PositiveIntegerField(default=60)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    stix_id = _stix_id_field()

    class Meta:
        verbose_name_plural = "series"
        indexes = [
            models.Index(fields=["label", "created_at", "id"], name="series_label_list"),
            # The list newest first, each row's label tested as it is read (kizuna.core.access decides in SQL).
            models.Index(fields=["created_at", "id"], name="series_recent"),
        ]

    def __str__(self) -> str:
        return self.title


# The longest a meeting may last: the services refuse longer ones, and the calendar query counts on it (a meeting
# overlapping a range started at most this long before it).
MAX_MEETING = timedelta(days=14)


class Meeting(Labelled):
    series = models.ForeignKey(Series, on_delete=models.PROTECT, null=True, blank=True, related_name="meetings")
    title = models.CharField(max_length=300)
    start = models.DateTimeField()  # UTC
    end = models.DateTimeField()  # UTC, after start
    time_zone = models.CharField(max_length=64)  # home IANA zone: how the organisers read the time
    mode = models.CharField(max_length=20, choices=MeetingMode.choices, default=MeetingMode.VIRTUAL)
    place = models.CharField(max_length=300, blank=True)
    link = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED)
    # iCalendar: UID never changes; SEQUENCE rises with every change a calendar must pick up (RFC 5545 3.8.7.4).
    uid = models.CharField(max_length=255, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    cancel_reason = models.TextField(blank=True)
    # Null while the agenda (the minutes) is a draft, read only by the organisers; set when published to the readers
    # of the meeting. Unpublishing sets it back to null.
    agenda_published_at = models.DateTimeField(null=True, blank=True)
    minutes_published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    stix_id = _stix_id_field()

    class Meta:
        indexes = [
            # The calendar walks meeting_start (start in [month) ORDER BY start), each row's label tested as it is
            # read (kizuna.core.access); the label-led index serves PostgreSQL when few labels are visible.
            models.Index(fields=["label", "start", "id"], name="meeting_label_start"),
            models.Index(fields=["start", "id"], name="meeting_start"),
        ]
        constraints = [models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="meeting_end_after_start")]

    def __str__(self) -> str:
        return self.title


class Attendee(models.Model):
    """A person invited to a meeting, with their answer. Visible exactly when the meeting is."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="meeting_invitations")
    rsvp = models.CharField(max_length=20, choices=Rsvp.choices, default=Rsvp.PENDING)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="attendee_unique")]
        ordering = ["meeting", "id"]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.meeting_id}: {self.rsvp}"


class AgendaItem(Labelled):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    order = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    presenter = models.CharField(max_length=200, blank=True)  # a person or a delegation, as written on the agenda
    duration_minutes = models.PositiveIntegerField(default=15)
    # Linked reports: each is shown only to whom may see it (through Report.objects.visible_to), never by this link.
    reports = models.ManyToManyField("reports.Report", blank=True, related_name="+")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    stix_id = _stix_id_field()

    class Meta:
        ordering = ["meeting", "order", "id"]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class ActionItem(Labelled):
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, null=True, blank=True, related_name="actions")
    series = models.ForeignKey(Series, on_delete=models.PROTECT, null=True, blank=True, related_name="actions")
    title = models.CharField(max_length=300)
    # The owner is a person or an organisation (exactly one of the two).
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="meeting_actions"
    )
    owner_organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions")
    notes = models.TextField(blank=True)  # Markdown
    completed_at = models.DateTimeField(null=True, blank=True)  # set when the status becomes done or dropped
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    stix_id = _stix_id_field()

    class Meta:
        indexes = [
            models.Index(fields=["owner_user", "status", "due"], name="action_owner_due"),
            models.Index(fields=["owner_organisation", "status", "due"], name="action_org_due"),
            models.Index(fields=["series", "status", "due"], name="action_series_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(owner_user__isnull=False, owner_organisation__isnull=True)
                           | models.Q(owner_user__isnull=True, owner_organisation__isnull=False)),
                name="action_one_owner",
            )
        ]

    def __str__(self) -> str:
        return self.title


class MinutesPart(Labelled):
    """A part of a meeting's minutes (Markdown), about one agenda item or about the meeting as a whole (no item).
    Each part has its own label, so one meeting's minutes may be read differently by different readers."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="minutes_parts")
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, null=True, blank=True,
                                    related_name="minutes_parts")
    order = models.PositiveIntegerField(default=1)
    text = models.TextField()  # Markdown; sanitised when rendered
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    stix_id = _stix_id_field()

    class Meta:
        ordering = ["meeting", "order", "id"]

    def __str__(self) -> str:
        return f"minutes {self.pk} of meeting {self.meeting_id}"


class Decision(Labelled):
    """A decision taken at a meeting (optionally under one agenda item): its own record, with its own label."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="decisions")
    order = models.PositiveIntegerField(default=1)
    text = models.TextField()  # Markdown
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    stix_id = _stix_id_field()

    class Meta:
        ordering = ["meeting", "order", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class CalendarSettings(models.Model):
    """A person's consultation settings: their calendar feed (how notifications reach them by e-mail is the
    notifications app's ``Preference``, for every module). The feed's secret is shown once when made; only its
    SHA-256 is kept (like API tokens), and a new one replaces the old."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_settings")
    feed_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    feed_created_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"calendar settings of {self.user_id}"
