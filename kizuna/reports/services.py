"""Every write to reports, as ``do_*`` functions in a transaction. Audit entries are written here and only here.

The label rules for writes: a subject cannot create or relabel a record into a label it could not itself see; labels
and content change only by the originating organisation or a coordinator of the same nation; every change is kept as a
version. After each write the record is re-read through ``visible_to(author)``; if that fails, everything rolls back.

Every write that changes a report also stores the report's STIX form (``kizuna.reports.stix.to_stix``) as a new
version in the threat store, in the same transaction, under the report's label and with its originating organisation
as originator — so TAXII serves it (signed by this node, like every local object) exactly to those the label allows,
and sync carries it to peers. ``do_publish_all`` backfills reports written before reports travelled.

A report received from a peer is a read-only copy: only its originating node changes it (by sending a new version).
``do_receive`` is the federation inbound handler for the type (registered in ``apps.ready``): a received, verified and
stored report object becomes a local, read-only ``Report`` row keyed by its STIX id, with the label of the stored
object and the sending node's organisation as originator.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from kizuna.core import audit, registry
from kizuna.core.access import get_visible_or_404, intern_label, label_of, recheck_visible
from kizuna.core.errors import NotFound, ServiceError
from kizuna.core.focus import FocusArea
from kizuna.core.versions import snapshot
from kizuna.directory.authoring import require_contributor, resolve_label
from kizuna.directory.models import Role, User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label, Subject
from kizuna.reports.models import Attachment, Comment, Report, ReportKind, ReportStatus
from kizuna.reports.stix import fields_from_stix, stix_id_of, to_stix
from kizuna.stix.timestamps import parse_timestamp_or_none, strictly_later
from kizuna.threats.store import candidate, current_versions, received_current, write_batch

log = logging.getLogger("kizuna.reports")

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
        _store_stix(report, subject_for(author))
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
        _store_stix(locked, subject_for(author))
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
        _store_stix(locked, subject_for(author))  # a revoked version: the withdrawal travels to peers
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


# ---- the STIX form: stored on every write, received from peers -------------------------------------------------------


def _store_stix(report: Report, subject: Subject) -> str:
    """Store the report's current state as a new version of its STIX form (in the caller's transaction); its
    ``modified``. ``subject`` is the writer's: the store refuses a label the writer could not see. A refusal raises
    ServiceError, which rolls the caller's write back with it."""
    if report.stix_id:
        return ""  # a copy received from a peer: only its originating node issues versions
    obj = to_stix(report)
    with transaction.atomic():
        # The report's own version line (its organisation's oldest: see kizuna.threats.store), not a line someone
        # else may have started under the same id.
        current = current_versions(obj["id"], report.originator_id).values_list("modified", flat=True).first()
        obj["modified"] = strictly_later(obj["modified"], current)
        result = write_batch([candidate(0, obj, label_of(report.label))], subject=subject,
                             originator_id=report.originator_id)
        if result.rejected:
            raise ServiceError(gettext("the report could not be stored for sharing: %(reason)s") % {
                "reason": result.rejected[0][2]})
    return str(obj["modified"])


def published_version(report: Report) -> int | None:
    """The report version of the current stored STIX form, or None when there is none."""
    data = current_versions(stix_id_of(report), report.originator_id).values_list("data", flat=True).first()
    if data is None:
        return None
    try:
        version = json.loads(data).get("report_version")
    except ValueError:
        return None
    return version if isinstance(version, int) else None


def do_publish_all() -> tuple[int, list[str]]:
    """Backfill: store the STIX form of every local report whose current state has none yet (reports written before
    reports travelled). Idempotent. Returns the number published and one line per report that could not be (its
    author may no longer see its label)."""
    published = 0
    failed: list[str] = []
    reports = Report.objects.filter(stix_id__isnull=True).select_related("label", "originator", "author")
    for report in reports.order_by("pk").iterator():
        if published_version(report) == report.version:
            continue
        try:
            _store_stix(report, subject_for(report.author))
        except ServiceError as exc:
            failed.append(f"report {report.pk} ({report.title[:60]}): {exc.message}")
            continue
        published += 1
    return published, failed


def do_receive(objects: list[dict[str, Any]], peer: registry.Sender) -> None:
    """Inbound handler (``kizuna.federation.inbound``): make or update the local Report of each received report
    object, inside the page's transaction. Idempotent: keyed by STIX id, and it mirrors the CURRENT stored version
    of each id (its data and its label), so a page read again, an older version arriving after a newer one, or a
    version already applied change nothing."""
    originator_id = peer.organisation_id
    ids = sorted({o["id"] for o in objects if isinstance(o.get("id"), str)})
    reports = {r.stix_id: r for r in Report.objects.select_for_update().filter(stix_id__in=ids)}
    created: list[int] = []
    changed: list[int] = []
    for stix_id, label_id, obj in received_current(objects, originator_id):
        fields = fields_from_stix(obj)
        if fields is None:
            log.warning("received report %s from peer %s has no usable title; not shown as a report", stix_id,
                        peer.name)
            continue
        report = reports.get(stix_id)
        if report is None:
            report = Report.objects.create(stix_id=stix_id, label_id=label_id, originator_id=originator_id,
                                           author=peer.account, version=1, **fields)
            stamp = parse_timestamp_or_none(obj.get("created"))
            if stamp is not None:  # listed by when its originator wrote it, not when it arrived
                # A save, not QuerySet.update: its post_save re-indexes the search entry with this date at once.
                # (``auto_now_add`` sets the field only on the first save, so this second one keeps ``stamp``.)
                report.created_at = stamp
                report.save(update_fields=["created_at"])
            snapshot(report, _data(report), peer.account, f"received from {peer.name}")
            created.append(report.pk)
            continue
        if report.originator_id != originator_id:  # never expected: the store keeps one originator per STIX id
            log.warning("received report %s from peer %s, but the local copy has another originator", stix_id,
                        peer.name)
            continue
        differs = [name for name, value in fields.items() if getattr(report, name) != value]
        if report.label_id != label_id:
            differs.append("label")
        if not differs:
            continue
        for name, value in fields.items():
            setattr(report, name, value)
        report.label_id = label_id
        report.version += 1
        report.save()
        note = "withdrawn by its originator" if "status" in differs and report.status == ReportStatus.WITHDRAWN \
            else "changed " + ", ".join(differs)
        snapshot(report, _data(report), peer.account, f"received from {peer.name}: {note}"[:200])
        changed.append(report.pk)
    if created or changed:
        audit.record(f"peer:{peer.name}", "receive", "report", [*created, *changed], None, "",
                     {"created": created, "changed": changed})


def attachment_path(attachment: Attachment) -> Path:
    return attachment_dir() / attachment.stored_name


def get_report_or_404(user: User, pk: object) -> Report:
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
    "do_publish_all",
    "do_receive",
    "do_update_report",
    "do_withdraw_report",
    "get_report_or_404",
    "may_edit",
]
