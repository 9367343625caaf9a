"""The STIX 2.1 form of reports, both ways, as pure functions (no database writes, snapshots or audit entries: those
are ``kizuna.reports.services``'s ``do_publish``/``do_receive``): a new SDO type ``kizuna-report`` declared by an
extension-definition of our own (no core type fits: STIX's ``report`` is a container of other objects' references, not
a document with a body, status and withdrawal).

Out: ``to_stix`` is the report's STIX form as it is now. A withdrawal is a version with ``status: withdrawn`` and
``revoked: true``.

In: ``fields_from_stix`` reads the Report fields a received report object carries.

The extension-definition's id is fixed and it is created by Kizuna's identity, so it is the same object on every node
(served by id over TAXII like the label and signature extension-definitions).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from kizuna.core.focus import FocusArea
from kizuna.core.registry import TaxiiCollection
from kizuna.reports.models import Report, ReportKind, ReportStatus
from kizuna.stix.definitions import extension_definition, organisation_identity_id
from kizuna.stix.timestamps import format_timestamp

REPORT_TYPE = "kizuna-report"
REPORT_EXTENSION_ID = "extension-definition--5e7a1c2d-9b3f-4c8e-a1d6-6b697a75726e"
# The TAXII collection of reports (its id is the same on every node).
REPORTS_COLLECTION = TaxiiCollection(
    "6b697a75-6e61-4000-8000-000000000006", "Reports",
    "Shared reports and best-practice papers (kizuna-report objects), withdrawn ones included", Q(type=REPORT_TYPE))
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
    withdrawn = report.status == ReportStatus.WITHDRAWN
    obj: dict[str, Any] = {
        "type": REPORT_TYPE, "spec_version": "2.1", "id": stix_id_of(report),
        "created_by_ref": organisation_identity_id(report.originator.code),
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


# ---- in: the fields of a report received from a peer --------------------------------------------------------------


def fields_from_stix(obj: dict[str, Any]) -> dict[str, Any] | None:
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
