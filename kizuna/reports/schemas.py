"""The shapes of reports in the REST API (Django Ninja / Pydantic), in and out, and the functions that turn model
rows into them. The label travels in its API form (DESIGN.md); the display string rides beside it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from kizuna.core.access import label_display, label_of
from kizuna.core.markdown import markdown_html
from kizuna.core.models import Version
from kizuna.core.schemas import LabelIn, LabelOut, OrganisationOut, Out, Strict
from kizuna.reports.models import Attachment, Comment, Report


class AttachmentOut(Out):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str


class ReportOut(Out):
    id: int
    title: str
    summary: str
    body: str
    body_html: str
    kind: str
    focus_areas: list[str]
    status: str
    label: LabelOut
    label_display: str
    originator: OrganisationOut
    author: str
    version: int
    created_at: datetime
    updated_at: datetime
    attachments: list[AttachmentOut]


class ReportPage(Out):
    items: list[ReportOut]
    next_cursor: str | None


class ReportCreate(Strict):
    title: str
    summary: str = ""
    body: str = ""
    kind: str = "report"
    focus_areas: list[str] = Field(default_factory=list)
    label: LabelIn


class ReportPatch(Strict):
    """Every field optional; only the fields sent are changed. ``null`` is refused (see ``changes``)."""

    title: str | None = None
    summary: str | None = None
    body: str | None = None
    kind: str | None = None
    focus_areas: list[str] | None = None
    label: LabelIn | None = None


class VersionOut(Out):
    number: int
    label: LabelOut
    label_display: str
    author: str
    summary: str
    created_at: datetime
    data: dict[str, Any]


class CommentIn(Strict):
    body: str


class CommentOut(Out):
    id: int
    author: str
    body: str
    body_html: str
    created_at: datetime


def attachment_out(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "url": f"/api/v1/reports/{attachment.report_id}/attachments/{attachment.pk}",
    }


def attachments_by_report(report_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The attachments of several reports in one query, as API dicts. Why not prefetch_related: it builds model
    instances and caches for each row, several milliseconds on a list page, where plain rows are enough."""
    grouped: dict[int, list[dict[str, Any]]] = {pk: [] for pk in report_ids}
    rows = (
        Attachment.objects.filter(report_id__in=report_ids)
        .order_by("created_at", "id")
        .values_list("id", "report_id", "filename", "content_type", "size", "sha256")
    )
    for pk, report_id, filename, content_type, size, sha256 in rows:
        grouped[report_id].append({
            "id": pk,
            "filename": filename,
            "content_type": content_type,
            "size": size,
            "sha256": sha256,
            "url": f"/api/v1/reports/{report_id}/attachments/{pk}",
        })
    return grouped


def report_out(report: Report, attachments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The API form of a report. Expects ``label``, ``originator`` and ``author`` selected; a list page passes the
    attachments from ``attachments_by_report`` so that it costs no query per report."""
    if attachments is None:
        attachments = attachments_by_report([report.pk])[report.pk]
    label = label_of(report.label)
    return {
        "id": report.pk,
        "title": report.title,
        "summary": report.summary,
        "body": report.body,
        "body_html": markdown_html(report.body),
        "kind": report.kind,
        "focus_areas": list(report.focus_areas or []),
        "status": report.status,
        "label": label.as_api(),
        "label_display": label_display(label),
        "originator": {"code": report.originator.code, "name": report.originator.name},
        "author": report.author.username,
        "version": report.version,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
        "attachments": attachments,
    }


def version_out(version: Version) -> dict[str, Any]:
    label = label_of(version.label)
    return {
        "number": version.number,
        "label": label.as_api(),
        "label_display": label_display(label),
        "author": version.author.username,
        "summary": version.summary,
        "created_at": version.created_at,
        "data": version.data,
    }


def comment_out(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "author": comment.author.username,
        "body": comment.body,
        "body_html": markdown_html(comment.body),
        "created_at": comment.created_at,
    }
