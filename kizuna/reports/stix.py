"""The STIX 2.1 form of reports, both ways: a new SDO type ``kizuna-report`` declared by an extension-definition of our
own (no core type fits: STIX's ``report`` is a container of other objects' references, not a document with a body,
status and withdrawal).

Out: every write to a report (``services.do_*``) stores the report's STIX form as a new version in the threat store,
in the same transaction, under the report's label and with its originating organisation as originator — so TAXII
serves it (signed by this node, like every local object) exactly to those the label allows, and sync carries it to
peers. A withdrawal is a version with ``status: withdrawn`` and ``revoked: true``.

In: ``receive`` is the federation inbound handler for the type (registered in ``apps.ready``): a received, verified and
stored report object becomes a local, read-only ``Report`` row keyed by its STIX id, with the label of the stored
object and the sending node's organisation as originator.

The extension-definition's id is fixed and it is created by Kizuna's identity, so it is the same object on every node
(served by id over TAXII like the label and signature extension-definitions).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from kizuna.core.access import label_of
from kizuna.core.errors import ServiceError
from kizuna.core.focus import FocusArea
from kizuna.labels import Subject
from kizuna.reports.models import Report, ReportKind, ReportStatus
from kizuna.stix.definitions import extension_definition
from kizuna.stix.timestamps import format_timestamp, parse_timestamp_or_none
from kizuna.threats.models import StixObject
from kizuna.threats.store import candidate, write_batch
from kizuna.threats.validate import timestamp_key

log = logging.getLogger("kizuna.reports.stix")

REPORT_TYPE = "kizuna-report"
REPORT_EXTENSION_ID = "extension-definition--5e7a1c2d-9b3f-4c8e-a1d6-6b697a75726e"
MAX_TITLE = 300


def report_extension_definition() -> dict[str, Any]:
    """The extension-definition that declares the ``kizuna-report`` object type (the same object on every node)."""
    return extension_definition(
        REPORT_EXTENSION_ID, "Kizuna shared report",
        "A new SDO, kizuna-report: a report or best-practice paper shared between Kizuna nodes. "
        "Properties: name (the title), summary, body (Markdown; render it sanitised), body_format "
        "(\"markdown\"), kind (report, best_practice), focus_areas (cyber, maritime, hadr, space, edt, "
        "disinfo, strategic, economic), status (published, withdrawn), withdrawal_reason, "
        "report_version (the originator's version number). A withdrawn report is also revoked. "
        "Its Kizuna label marking says who may see it; receivers must enforce it.",
        "kizuna-report", ["new-sdo"],
    )


def stix_id_of(report: Report) -> str:
    """The report's STIX id: its own on a received copy, else made from its uuid (fixed for the report's life)."""
    return report.stix_id or f"{REPORT_TYPE}--{report.uuid}"


def to_stix(report: Report) -> dict[str, Any]:
    """The STIX form of the report as it is now (without label marking or signature: TAXII serving adds both)."""
    from kizuna.threats.watch.services import organisation_identity_id  # the identity an organisation has everywhere

    withdrawn = report.status == ReportStatus.WITHDRAWN
    obj: dict[str, Any] = {
        "type": REPORT_TYPE, "spec_version": "2.1", "id": stix_id_of(report),
        "created_by_ref": organisation_identity_id(report.originator),
        "created": format_timestamp(report.created_at), "modified": format_timestamp(report.updated_at),
        "name": report.title, "summary": report.summary, "body": report.body, "body_format": "markdown",
        "kind": report.kind, "focus_areas": list(report.focus_areas),
        "status": "withdrawn" if withdrawn else "published", "report_version": report.version,
    }
    if withdrawn:
        obj["withdrawal_reason"] = report.withdrawal_reason
        obj["revoked"] = True
    obj["extensions"] = {REPORT_EXTENSION_ID: {"extension_type": "new-sdo"}}
    return obj


def publish(report: Report, subject: Subject) -> str:
    """Store the report's current state as a new version of its STIX form (in the caller's transaction); its
    ``modified``. ``subject`` is the writer's: the store refuses a label the writer could not see. A refusal raises
    ServiceError, which rolls the caller's write back with it."""
    if report.stix_id:
        return ""  # a copy received from a peer: only its originating node issues versions
    obj = to_stix(report)
    with transaction.atomic():
        # The report's own version line (its organisation's oldest: see kizuna.threats.store), not a line someone
        # else may have started under the same id.
        current = (StixObject.objects.filter(stix_id=obj["id"], is_current=True, originator_id=report.originator_id)
                   .order_by("line").values_list("modified", flat=True).first())
        if current is not None and timestamp_key(obj["modified"]) <= timestamp_key(current):
            # Two writes within one millisecond (or a clock set back): each version must be strictly later.
            earlier = parse_timestamp_or_none(current)
            if earlier is not None:
                obj["modified"] = format_timestamp(earlier + timedelta(milliseconds=1))
        result = write_batch([candidate(0, obj, label_of(report.label))], subject=subject,
                             originator_id=report.originator_id)
        if result.rejected:
            raise ServiceError(gettext("the report could not be stored for sharing: %(reason)s") % {
                "reason": result.rejected[0][2]})
    return str(obj["modified"])


def published_version(report: Report) -> int | None:
    """The report version of the current stored STIX form, or None when there is none."""
    data = (StixObject.objects.filter(stix_id=stix_id_of(report), is_current=True, originator_id=report.originator_id)
            .order_by("line").values_list("data", flat=True).first())
    if data is None:
        return None
    try:
        version = json.loads(data).get("report_version")
    except ValueError:
        return None
    return version if isinstance(version, int) else None


def publish_all() -> tuple[int, list[str]]:
    """Backfill: store the STIX form of every local report whose current state has none yet (reports written before
    reports travelled). Idempotent. Returns the number published and one line per report that could not be (its
    author may no longer see its label)."""
    from kizuna.directory.subjects import subject_for

    published = 0
    failed: list[str] = []
    reports = Report.objects.filter(stix_id__isnull=True).select_related("label", "originator", "author")
    for report in reports.order_by("pk").iterator():
        if published_version(report) == report.version:
            continue
        try:
            publish(report, subject_for(report.author))
        except ServiceError as exc:
            failed.append(f"report {report.pk} ({report.title[:60]}): {exc.message}")
            continue
        published += 1
    return published, failed


# ---- in: reports received from peers ---------------------------------------------------------------------------------


def _fields(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The Report fields a received object carries, or None when it is not a usable report (logged by the caller)."""
    title = obj.get("name")
    if not isinstance(title, str) or not title.strip():
        return None
    text = {k: obj.get(k) if isinstance(obj.get(k), str) else "" for k in ("summary", "body", "withdrawal_reason")}
    areas = obj.get("focus_areas")
    withdrawn = obj.get("revoked") is True or obj.get("status") == "withdrawn"
    return {
        "title": title.strip()[:MAX_TITLE],
        "summary": text["summary"],
        "body": text["body"],
        "kind": obj.get("kind") if obj.get("kind") in ReportKind.values else ReportKind.REPORT,
        "focus_areas": sorted({a for a in areas if a in FocusArea.values}) if isinstance(areas, list) else [],
        "status": ReportStatus.WITHDRAWN if withdrawn else ReportStatus.ACTIVE,
        "withdrawal_reason": text["withdrawal_reason"] if withdrawn else "",
    }


def receive(objects: list[dict[str, Any]], originator_id: int) -> None:
    """Inbound handler (``kizuna.federation.inbound``): make or update the local Report of each received report
    object, inside the page's transaction. Idempotent: keyed by STIX id, and it mirrors the CURRENT stored version
    of each id (its data and its label), so a page read again, an older version arriving after a newer one, or a
    version already applied change nothing."""
    from kizuna.core import audit
    from kizuna.core.versions import snapshot
    from kizuna.federation.models import Peer
    from kizuna.reports.services import _data

    peer = Peer.objects.select_related("account").filter(organisation_id=originator_id).first()
    if peer is None:  # never expected: sync stores only what a known peer's node signed
        log.warning("received %d report(s) from organisation %s, which is no peer's", len(objects), originator_id)
        return
    ids = sorted({o["id"] for o in objects if isinstance(o.get("id"), str)})
    stored = (StixObject.objects.filter(stix_id__in=ids, is_current=True, originator_id=originator_id)
              .values_list("stix_id", "label_id", "data"))
    reports = {r.stix_id: r for r in Report.objects.select_for_update().filter(stix_id__in=ids)}
    created: list[int] = []
    changed: list[int] = []
    for stix_id, label_id, data in stored:
        try:
            obj = json.loads(data)
        except ValueError:
            continue
        fields = _fields(obj) if isinstance(obj, dict) else None
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
                Report.objects.filter(pk=report.pk).update(created_at=stamp)
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
