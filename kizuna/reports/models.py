"""Shared reports and best-practice papers, their attachments and comments."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kizuna.core.models import Labelled


class ReportKind(models.TextChoices):
    REPORT = "report", _("Report")
    BEST_PRACTICE = "best_practice", _("Best practice")


class ReportStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Report(Labelled):
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    body = models.TextField(blank=True)  # Markdown; sanitised when rendered
    kind = models.CharField(max_length=20, choices=ReportKind.choices, default=ReportKind.REPORT)
    focus_areas = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=ReportStatus.choices, default=ReportStatus.ACTIVE)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports")
    version = models.PositiveIntegerField(default=1)
    withdrawal_reason = models.TextField(blank=True)
    # The report's own identity, from which its STIX id (kizuna-report--<uuid>) is made: the same on every node.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Set only on a report received from a peer: the STIX id its originating node gave it. Such a report is a
    # read-only copy, changed only by new versions from its originator (kizuna.reports.services.do_receive).
    stix_id = models.CharField(max_length=128, unique=True, null=True, blank=True, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["status", "created_at", "id"], name="report_list"),
            # By label: PostgreSQL may drive a list from the visible labels when they are few (kizuna.core.access).
            models.Index(fields=["label", "status", "created_at", "id"], name="report_label_list"),
        ]

    def __str__(self) -> str:
        return self.title


class Attachment(models.Model):
    """A file of a report. Stored under MEDIA_ROOT (outside the web root); readable only if the report is."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_name = models.CharField(max_length=100, unique=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename


class Comment(models.Model):
    """A comment on a report; visible exactly when the report is."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.report_id}"
