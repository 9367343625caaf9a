"""The reports resource of the REST API (/api/v1/reports): list, create, read, change, withdraw, versions, comments
and attachments. Thin: reads go through ``visible_to`` (``list_reports``, ``get_report_or_404``), writes through the
``do_*`` services, and every read of labelled content is audited with the client's address."""

from __future__ import annotations

from typing import Any, BinaryIO, Literal, cast

from django.http import FileResponse, Http404, HttpRequest
from ninja import File, Router, Status
from ninja.files import UploadedFile

from kizuna.core import audit
from kizuna.core.audit import client_address
from kizuna.core.errors import ServiceError
from kizuna.core.schemas import ERRORS
from kizuna.core.versions import history
from kizuna.directory.subjects import subject_for
from kizuna.reports.models import Report
from kizuna.reports.queries import ReportFilter, audit_read, list_reports
from kizuna.reports.schemas import (
    AttachmentOut,
    CommentIn,
    CommentOut,
    ReportCreate,
    ReportOut,
    ReportPage,
    ReportPatch,
    VersionOut,
    attachment_out,
    attachments_by_report,
    comment_out,
    report_out,
    version_out,
)
from kizuna.reports.services import (
    ReportInput,
    attachment_path,
    do_add_attachment,
    do_add_comment,
    do_create_report,
    do_update_report,
    do_withdraw_report,
    get_report_or_404,
)
from kizuna.web.apiauth import caller

router = Router(tags=["reports"])

# The path parameter is called ``id`` (not report_id) because the published contract and OpenAPI paths say {id}.


def _fetch(request: HttpRequest, report_id: int) -> Report:
    """The report if the caller may see it; 404 alike for missing and not visible."""
    return get_report_or_404(caller(request), report_id)


@router.get("/reports", response={200: ReportPage, **ERRORS}, summary="List reports the caller may see")
def list_(
    request: HttpRequest,
    q: str = "",
    focus_area: str = "",
    kind: str = "",
    status: Literal["active", "withdrawn", "all"] = "active",
    originator: str = "",
    limit: int = 25,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Newest first, keyset-paginated: pass ``next_cursor`` back as ``cursor`` until it is null. No total count is
    given, on purpose: a count would hint at what the caller may not see. ``status`` is active, withdrawn or all."""
    user = caller(request)
    filters = ReportFilter(q=q, focus_area=focus_area, kind=kind, status=status, originator=originator)
    page = list_reports(subject_for(user), filters, cursor or None, limit)
    attachments = attachments_by_report([r.pk for r in page.items]) if page.items else {}
    audit_read(user.username, page.items, client_address(request), action="list")
    return {"items": [report_out(r, attachments[r.pk]) for r in page.items], "next_cursor": page.next_cursor}


@router.post("/reports", response={201: ReportOut, **ERRORS}, summary="Create a report")
def create(request: HttpRequest, payload: ReportCreate) -> Status[dict[str, Any]]:
    """The label must be one the caller could see; otherwise 400 and nothing is stored."""
    user = caller(request)
    data = ReportInput(
        title=payload.title,
        label=payload.label.to_label(),
        summary=payload.summary,
        body=payload.body,
        kind=payload.kind,
        focus_areas=list(payload.focus_areas),
    )
    report = do_create_report(user, data, client_address(request))
    return Status(201, report_out(_fetch(request, report.pk)))


@router.get("/reports/{id}", response={200: ReportOut, **ERRORS}, summary="Read one report")
def read(request: HttpRequest, id: int) -> dict[str, Any]:
    user = caller(request)
    report = _fetch(request, id)
    audit_read(user.username, [report], client_address(request))
    return report_out(report)


@router.patch("/reports/{id}", response={200: ReportOut, **ERRORS}, summary="Change some fields of a report")
def update(request: HttpRequest, id: int, payload: ReportPatch) -> dict[str, Any]:
    """Only the fields sent change. Relabelling follows the service's rules: originating organisation or a
    coordinator of its nation, and never into a label the caller could not see."""
    user = caller(request)
    report = _fetch(request, id)
    changes: dict[str, Any] = {}
    for name in sorted(payload.model_fields_set):
        value = getattr(payload, name)
        if value is None:
            raise ServiceError(f"{name} cannot be null; leave it out to keep its value", name)
        changes[name] = value.to_label() if name == "label" else value
    do_update_report(user, report, address=client_address(request), **changes)
    return report_out(_fetch(request, id))


@router.delete("/reports/{id}", response={204: None, **ERRORS}, summary="Withdraw a report")
def withdraw(request: HttpRequest, id: int, reason: str = "") -> Status[None]:
    """Withdrawal keeps the report (status "withdrawn") and its history; it no longer appears in the default list."""
    user = caller(request)
    do_withdraw_report(user, _fetch(request, id), reason[:500], client_address(request))
    return Status(204, None)


@router.get("/reports/{id}/versions", response={200: list[VersionOut], **ERRORS}, summary="Version history")
def versions(request: HttpRequest, id: int) -> list[dict[str, Any]]:
    """The versions the caller may see: each version keeps the label it had, which may differ from today's."""
    user = caller(request)
    report = _fetch(request, id)
    visible = history(report, subject_for(user))
    audit_read(user.username, [report], client_address(request), action="read.versions")
    return [version_out(v) for v in visible]


@router.get("/reports/{id}/comments", response={200: list[CommentOut], **ERRORS}, summary="Comments on a report")
def comments(request: HttpRequest, id: int) -> list[dict[str, Any]]:
    user = caller(request)
    report = _fetch(request, id)
    rows = list(report.comments.select_related("author"))
    audit_read(user.username, [report], client_address(request), action="read.comments")
    return [comment_out(c) for c in rows]


@router.post("/reports/{id}/comments", response={201: CommentOut, **ERRORS}, summary="Comment on a report")
def comment_add(request: HttpRequest, id: int, payload: CommentIn) -> Status[dict[str, Any]]:
    user = caller(request)
    comment = do_add_comment(user, _fetch(request, id), payload.body, client_address(request))
    return Status(201, comment_out(comment))


@router.post("/reports/{id}/attachments", response={201: AttachmentOut, **ERRORS}, summary="Attach a file")
def attachment_add(request: HttpRequest, id: int, file: File[UploadedFile]) -> Status[dict[str, Any]]:
    """Multipart form with one field ``file``. The type is checked against the file's first bytes; the size limit is
    the node's ``KIZUNA_ATTACHMENT_MAX_BYTES``."""
    user = caller(request)
    attachment = do_add_attachment(
        user, _fetch(request, id), file.name or "", cast(BinaryIO, file), client_address(request)
    )
    return Status(201, attachment_out(attachment))


_DOWNLOAD_DOC: dict[str, Any] = {
    "responses": {
        200: {
            "description": "The file, as an attachment download",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


@router.get(
    "/reports/{id}/attachments/{att_id}",
    response={**ERRORS},
    openapi_extra=_DOWNLOAD_DOC,
    summary="Download an attachment",
)
def attachment_download(request: HttpRequest, id: int, att_id: int) -> FileResponse:
    """Served only through the report's label check; 404 alike for a missing file and one the caller may not see."""
    user = caller(request)
    report = _fetch(request, id)
    attachment = report.attachments.filter(pk=att_id).first()
    if attachment is None:
        raise Http404
    path = attachment_path(attachment)
    if not path.is_file():
        raise Http404
    audit.record(user.username, "download", "report", [report.pk], report.label_id, client_address(request),
                 {"attachment": attachment.pk, "filename": attachment.filename})
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=attachment.filename, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
