"""Every write to reports, as ``do_*`` functions in a transaction. Audit entries are written here and only here.

The label rules for writes: a subject cannot create or relabel a record into a label it could not itself see; labels
and content change only by the originating organisation or a coordinator of the same nation; every change is kept as a
version. After each write the record is re-read through ``visible_to(author)``; if that fails, everything rolls back.

Every write that changes a report also stores the report's STIX form as a new version in the threat store, in the
same transaction (``kizuna.reports.stix.publish``), so that it travels to peers. A report received from a peer is a
read-only copy: only its originating node changes it (by sending a new version).
"""

from __future__ import annotations

import hashlib
import mimetypes
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from kizuna.core import audit
from kizuna.core.access import intern_label, label_of, recheck_visible
from kizuna.core.errors import NotFound, ServiceError
from kizuna.core.focus import FocusArea
from kizuna.core.versions import snapshot
from kizuna.directory.authoring import require_contributor, resolve_label
from kizuna.directory.models import Role, User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label
from kizuna.reports.models import Attachment, Comment, Report, ReportKind, ReportStatus
from kizuna.reports.stix import publish

MAX_TITLE = 300


@dataclass
class ReportInput:
    title: str
    label: Label
    summary: str = ""
    body: str = ""
    kind: str = ReportKind.REPORT
    focus_areas: list[str] = field(default_factory=list)


def _check_input(data: ReportInput) -> None:
    if not data.title or not data.title.strip():
        raise ServiceError(gettext("a title is required"), "title")
    if len(data.title) > MAX_TITLE:
        raise ServiceError(gettext("the title is longer than %(max)d characters") % {"max": MAX_TITLE}, "title")
    if data.kind not in ReportKind.values:
        raise ServiceError(gettext("unknown kind %(kind)s; use one of %(kinds)s") % {
            "kind": repr(data.kind), "kinds": ", ".join(ReportKind.values)}, "kind")
    unknown = [a for a in data.focus_areas if a not in FocusArea.values]
    if unknown:
        raise ServiceError(gettext("unknown focus area(s): %(areas)s") % {"areas": ", ".join(unknown)}, "focus_areas")






def may_edit(user: User, report: Report) -> bool:
    """The originating organisation, or a coordinator (or admin) of the same nation, may edit and relabel — on this
    node only: a report received from a peer is changed only by its originating node."""
    if not user.can_contribute or report.stix_id:
        return False
    if user.organisation_id is not None and user.organisation_id == report.originator_id:
        return True
    originator_nation = report.originator.nation_id
    return (
        user.role in (Role.COORDINATOR, Role.ADMIN)
        and user.nation_id is not None
        and user.nation_id == originator_nation
    )


def _data(report: Report) -> dict[str, Any]:
    return {
        "title": report.title,
        "summary": report.summary,
        "body": report.body,
        "kind": report.kind,
        "focus_areas": list(report.focus_areas),
        "status": report.status,
        "label": label_of(report.label).as_api(),
    }


def _refuse_received(report: Report) -> None:
    if report.stix_id:
        raise ServiceError(gettext("this report was received from another node; only its originating node may "
                                   "change it"))



def do_create_report(author: User, data: ReportInput, address: str = "") -> Report:
    require_contributor(author)
    _check_input(data)
    with transaction.atomic():
        label = resolve_label(author, data.label)
        record = intern_label(label)
        assert author.organisation is not None
        report = Report.objects.create(
            title=data.title.strip(),
            summary=data.summary,
            body=data.body,
            kind=data.kind,
            focus_areas=sorted(set(data.focus_areas)),
            label=record,
            originator=author.organisation,
            author=author,
        )
        recheck_visible(report, subject_for(author))
        publish(report, subject_for(author))
        snapshot(report, _data(report), author, "created")
        audit.record(author.username, "create", "report", [report.pk], record.pk, address)
    return report


_UNSET: Any = object()


def do_update_report(
    author: User,
    report: Report,
    *,
    title: str = _UNSET,
    summary: str = _UNSET,
    body: str = _UNSET,
    kind: str = _UNSET,
    focus_areas: list[str] = _UNSET,
    label: Label = _UNSET,
    address: str = "",
) -> Report:
    """Change some fields of a report the author can see (the caller fetched it through visible_to)."""
    _refuse_received(report)
    if not may_edit(author, report):
        raise ServiceError(gettext("only the originating organisation or a coordinator of its nation may change this report"))
    if report.status == ReportStatus.WITHDRAWN:
        raise ServiceError(gettext("this report has been withdrawn and can no longer be changed"))
    current_label = label_of(report.label)
    merged = ReportInput(
        title=report.title if title is _UNSET else title,
        summary=report.summary if summary is _UNSET else summary,
        body=report.body if body is _UNSET else body,
        kind=report.kind if kind is _UNSET else kind,
        focus_areas=list(report.focus_areas) if focus_areas is _UNSET else list(focus_areas),
        label=current_label if label is _UNSET else label,
    )
    _check_input(merged)
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        changes: list[str] = []
        new_label = current_label
        if merged.label != current_label:
            new_label = resolve_label(author, merged.label)
        record = intern_label(new_label)
        if record.pk != locked.label_id:
            changes.append("label")
        for name in ("title", "summary", "body", "kind"):
            value = getattr(merged, name).strip() if name == "title" else getattr(merged, name)
            if getattr(locked, name) != value:
                setattr(locked, name, value)
                changes.append(name)
        areas = sorted(set(merged.focus_areas))
        if list(locked.focus_areas) != areas:
            locked.focus_areas = areas
            changes.append("focus_areas")
        if not changes:
            return locked
        locked.label = record
        locked.version += 1
        locked.save()
        recheck_visible(locked, subject_for(author))
        publish(locked, subject_for(author))
        snapshot(locked, _data(locked), author, "changed " + ", ".join(changes))
        audit.record(author.username, "update", "report", [locked.pk], record.pk, address, {"changed": changes})
    return locked


def do_withdraw_report(author: User, report: Report, reason: str = "", address: str = "") -> Report:
    _refuse_received(report)
    if not may_edit(author, report):
        raise ServiceError(
            gettext("only the originating organisation or a coordinator of its nation may withdraw this report"))
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.status == ReportStatus.WITHDRAWN:
            return locked
        locked.status = ReportStatus.WITHDRAWN
        locked.withdrawal_reason = reason
        locked.version += 1
        locked.save()
        publish(locked, subject_for(author))  # a revoked version: the withdrawal travels to peers
        snapshot(locked, _data(locked), author, f"withdrawn: {reason}"[:200] if reason else "withdrawn")
        audit.record(author.username, "withdraw", "report", [locked.pk], locked.label_id, address, {"reason": reason})
    return locked


def do_add_comment(author: User, report: Report, body: str, address: str = "") -> Comment:
    if not author.is_active:
        raise ServiceError(gettext("your account cannot comment"))
    if not body or not body.strip():
        raise ServiceError(gettext("a comment cannot be empty"), "body")
    if len(body) > 20000:
        raise ServiceError(gettext("a comment is limited to 20,000 characters"), "body")
    with transaction.atomic():
        comment = Comment.objects.create(report=report, author=author, body=body.strip())
        audit.record(author.username, "comment", "report", [report.pk], report.label_id, address, {"comment": comment.pk})
    return comment


# Attachments: a type is accepted when its extension is allowed and its first bytes agree with it.
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
    ".pptx": (b"PK\x03\x04",),
    ".zip": (b"PK\x03\x04",),
}
_TEXT_TYPES = {".txt": "text/plain", ".md": "text/markdown", ".csv": "text/csv", ".json": "application/json"}
ALLOWED_EXTENSIONS = sorted([*_SIGNATURES, *_TEXT_TYPES])


def attachment_dir() -> Path:
    path = Path(settings.MEDIA_ROOT)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check_type(filename: str, head: bytes) -> str:
    ext = Path(filename).suffix.lower()
    if ext in _TEXT_TYPES:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # a multi-byte character cut at the end of the sample is fine
                raise ServiceError(gettext("%(file)s is not UTF-8 text") % {"file": filename}, "file") from None
        if b"\x00" in head:
            raise ServiceError(gettext("%(file)s is not text") % {"file": filename}, "file")
        return _TEXT_TYPES[ext]
    if ext not in _SIGNATURES:
        raise ServiceError(gettext("files of type %(type)s are not accepted; allowed: %(allowed)s") % {
            "type": ext or gettext("(none)"), "allowed": ", ".join(ALLOWED_EXTENSIONS)}, "file")
    if not any(head.startswith(sig) for sig in _SIGNATURES[ext]):
        raise ServiceError(gettext("%(file)s does not look like a %(type)s file") % {"file": filename, "type": ext}, "file")
    return mimetypes.types_map.get(ext, "application/octet-stream") if ext != ".docx" else (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )


def do_add_attachment(author: User, report: Report, filename: str, stream: BinaryIO, address: str = "") -> Attachment:
    """Store a file outside the web root; refused if too large or of the wrong type. Nothing is left on failure."""
    _refuse_received(report)
    if not may_edit(author, report):
        raise ServiceError(gettext("only the originating organisation or a coordinator of its nation may attach files"))
    filename = Path(filename or "").name.strip()
    if not filename:
        raise ServiceError(gettext("the file needs a name"), "file")
    limit = int(settings.KIZUNA_ATTACHMENT_MAX_BYTES)
    stored_name = uuid.uuid4().hex
    path = attachment_dir() / stored_name
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with open(path, "xb") as out:
            while chunk := stream.read(64 * 1024):
                if not head:
                    head = chunk[:4096]
                size += len(chunk)
                if size > limit:
                    raise ServiceError(gettext("the file is larger than the limit of %(size)d MB") % {
                        "size": limit // (1024 * 1024)}, "file")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ServiceError(gettext("the file is empty"), "file")
        content_type = _check_type(filename, head)
        with transaction.atomic():
            attachment = Attachment.objects.create(
                report=report,
                filename=filename[:255],
                content_type=content_type,
                size=size,
                sha256=digest.hexdigest(),
                stored_name=stored_name,
                uploaded_by=author,
            )
            audit.record(author.username, "attach", "report", [report.pk], report.label_id, address,
                         {"attachment": attachment.pk, "filename": filename, "size": size})
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return attachment


def attachment_path(attachment: Attachment) -> Path:
    return attachment_dir() / attachment.stored_name


def get_report_or_404(user: User, pk: object) -> Report:
    from kizuna.core.access import get_visible_or_404

    qs: Any = Report.objects.select_related("label", "originator", "author")
    return get_visible_or_404(qs, subject_for(user), pk=pk)


__all__ = [
    "ALLOWED_EXTENSIONS",
    "NotFound",
    "ReportInput",
    "attachment_path",
    "do_add_attachment",
    "do_add_comment",
    "do_create_report",
    "do_update_report",
    "do_withdraw_report",
    "get_report_or_404",
    "may_edit",
]
