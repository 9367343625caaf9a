"""Reads of best-practice notes for a subject, shared by the pages and the API. Every read starts from the
enforcement point (``visible_to``, ``get_visible_or_404``): a note the subject may not see is a 404 exactly like a
missing one, and lists never count or hint at it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q

from kizuna.core import audit
from kizuna.core.access import get_visible_or_404
from kizuna.core.paging import Page, keyset_page
from kizuna.labels import Subject
from kizuna.practices.models import Practice


def list_practices(subject: Subject, q: str = "", cursor: str | None = None, limit: int = 25) -> Page[Practice]:
    """Newest first, keyset-paginated; ``q`` searches title and body."""
    qs = Practice.objects.visible_to(subject).select_related("label", "originator", "author")
    if q.strip():
        text = q.strip()[:200]
        qs = qs.filter(Q(title__icontains=text) | Q(body__icontains=text))
    return keyset_page(qs, cursor, limit)


def get_practice_or_404(subject: Subject, pk: object) -> Practice:
    """The note if the subject may see it; 404 alike for missing and not visible."""
    qs: Any = Practice.objects.select_related("label", "originator", "author")
    found: Practice = get_visible_or_404(qs, subject, pk=pk)
    return found


def audit_read(actor: str, practices: Sequence[Practice], address: str = "", action: str = "read") -> None:
    """Record that ``actor`` was shown these notes (one entry per page or detail view)."""
    if practices:
        audit.record(actor, action, "practice", [p.pk for p in practices],
                     practices[0].label_id if len(practices) == 1 else None, address)
