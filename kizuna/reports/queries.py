"""Reads of reports for a subject — the list with its filters, shared by the web UI, the API and the benchmark —
and the audit of those reads. Every read starts from ``Report.objects.visible_to(subject)``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext

from kizuna.core import audit
from kizuna.core.errors import ServiceError
from kizuna.core.focus import FocusArea
from kizuna.core.paging import Page, keyset_page
from kizuna.labels import Subject
from kizuna.reports.models import Report, ReportKind, ReportStatus


@dataclass
class ReportFilter:
    q: str = ""
    focus_area: str = ""
    kind: str = ""
    status: str = ReportStatus.ACTIVE  # "active", "withdrawn" or "all"
    originator: str = ""  # organisation code


def list_reports(subject: Subject, filters: ReportFilter, cursor: str | None = None, limit: int = 25) -> Page[Report]:
    qs = Report.objects.visible_to(subject).select_related("label", "originator", "author")
    if filters.status not in ("all", *ReportStatus.values):
        raise ServiceError(gettext("unknown status %(status)s; use active, withdrawn or all") % {
            "status": repr(filters.status)}, "status")
    if filters.status != "all":
        qs = qs.filter(status=filters.status)
    if filters.focus_area:
        if filters.focus_area not in FocusArea.values:
            raise ServiceError(gettext("unknown focus area %(area)s") % {"area": repr(filters.focus_area)}, "focus_area")
        # JSON containment differs between SQLite and PostgreSQL; a quoted substring match works on both.
        qs = qs.filter(focus_areas__icontains=f'"{filters.focus_area}"')
    if filters.kind:
        if filters.kind not in ReportKind.values:
            raise ServiceError(gettext("unknown kind %(kind)s") % {"kind": repr(filters.kind)}, "kind")
        qs = qs.filter(kind=filters.kind)
    if filters.originator:
        qs = qs.filter(originator__code=filters.originator)
    if filters.q:
        q = filters.q.strip()[:200]
        qs = qs.filter(Q(title__icontains=q) | Q(summary__icontains=q))
    return keyset_page(qs, cursor, limit)


def audit_read(actor: str, reports: Sequence[Report], address: str = "", action: str = "read") -> None:
    """Record that ``actor`` was shown these reports (one entry per page or detail view)."""
    if reports:
        audit.record(actor, action, "report", [r.pk for r in reports],
                     reports[0].label_id if len(reports) == 1 else None, address)
