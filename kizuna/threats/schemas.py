"""The shapes of the STIX resources in the REST API (/api/v1/stix/), and the functions that turn stored rows, import
summaries and jobs into them. A STIX object travels as the JSON it was stored as; Kizuna's label rides beside it in
its API form, with the display string."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import Field

from kizuna.core.access import label_display, label_of
from kizuna.core.schemas import LabelOut, OrganisationOut, Out
from kizuna.threats.models import ImportJob, StixObject


class StixObjectSummaryOut(Out):
    id: str
    type: str
    name: str
    created: str
    modified: str
    revoked: bool
    label: LabelOut
    label_display: str
    originator: OrganisationOut
    added_at: datetime
    url: str


class StixObjectPage(Out):
    items: list[StixObjectSummaryOut]
    next_cursor: str | None


class StixAlsoReportedOut(Out):
    id: str
    type: str
    name: str
    originator: OrganisationOut
    kind: str
    value: str
    url: str


class StixObjectOut(Out):
    object: dict[str, Any]
    label: LabelOut
    label_display: str
    originator: OrganisationOut
    added_at: datetime
    revoked: bool
    also_reported_by: list[StixAlsoReportedOut]


class StixVersionOut(Out):
    modified: str
    current: bool
    label: LabelOut
    label_display: str
    originator: OrganisationOut
    added_at: datetime
    object: dict[str, Any]


class StixObjectErrorOut(Out):
    index: int
    id: str | None
    reason: str


class StixImportSummaryOut(Out):
    accepted: int
    unchanged: int
    rejected: int
    rejected_by_reason: dict[str, int]
    errors: list[StixObjectErrorOut]
    accepted_ids: list[str]
    default_label_display: str
    stream_error: str = Field(description="set when the input stopped being readable (broken JSON); what came "
                                          "before it was imported")


class StixImportStartedOut(Out):
    job: int
    status: str
    url: str


class StixImportJobOut(Out):
    id: int
    status: str
    source: str
    fmt: str
    total_bytes: int
    read_bytes: int
    accepted: int
    unchanged: int
    rejected: int
    rejected_by_reason: dict[str, int]
    errors: list[StixObjectErrorOut]
    message: str
    created_at: datetime
    finished_at: datetime | None


def object_url(stix_id: str) -> str:
    return f"/api/v1/stix/objects/{stix_id}"


def job_url(job_id: int) -> str:
    return f"/api/v1/stix/imports/{job_id}"


def _label_fields(obj: StixObject) -> dict[str, Any]:
    label = label_of(obj.label)
    return {"label": label.as_api(), "label_display": label_display(label)}


def _org(obj: StixObject) -> dict[str, str]:
    return {"code": obj.originator.code, "name": obj.originator.name}


def summary_out(obj: StixObject) -> dict[str, Any]:
    """Expects ``label`` and ``originator`` selected."""
    return {
        "id": obj.stix_id,
        "type": obj.type,
        "name": obj.name,
        "created": obj.created,
        "modified": obj.modified,
        "revoked": obj.revoked,
        **_label_fields(obj),
        "originator": _org(obj),
        "added_at": obj.created_at,
        "url": object_url(obj.stix_id),
    }


def object_out(obj: StixObject, also: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": json.loads(obj.data),
        **_label_fields(obj),
        "originator": _org(obj),
        "added_at": obj.created_at,
        "revoked": obj.revoked,
        "also_reported_by": [
            {
                "id": a["object"].stix_id,
                "type": a["object"].type,
                "name": a["object"].name,
                "originator": {"code": a["originator"].code, "name": a["originator"].name},
                "kind": a["kind"],
                "value": a["value"],
                "url": object_url(a["object"].stix_id),
            }
            for a in also
        ],
    }


def version_out(obj: StixObject) -> dict[str, Any]:
    return {
        "modified": obj.modified,
        "current": obj.is_current,
        **_label_fields(obj),
        "originator": _org(obj),
        "added_at": obj.created_at,
        "object": json.loads(obj.data),
    }


def import_summary_out(summary: Any) -> dict[str, Any]:
    """From the importer's ``ImportSummary`` dataclass."""
    return {
        "accepted": summary.accepted,
        "unchanged": summary.unchanged,
        "rejected": summary.rejected,
        "rejected_by_reason": dict(summary.rejected_by_reason),
        "errors": [{"index": e.index, "id": e.id, "reason": e.reason} for e in summary.errors],
        "accepted_ids": list(summary.accepted_ids),
        "default_label_display": summary.default_label_display,
        "stream_error": getattr(summary, "stream_error", ""),
    }


def job_out(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "status": job.status,
        "source": job.source,
        "fmt": job.fmt,
        "total_bytes": job.total_bytes,
        "read_bytes": job.read_bytes,
        "accepted": job.accepted,
        "unchanged": job.unchanged,
        "rejected": job.rejected,
        "rejected_by_reason": {str(k): int(v) for k, v in (job.rejected_by_reason or {}).items()},
        "errors": [
            {"index": int(e.get("index", -1)), "id": e.get("id"), "reason": str(e.get("reason", ""))}
            for e in (job.errors or []) if isinstance(e, dict)
        ],
        "message": job.message,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }
