"""Reads of the glossary for a subject, shared by the pages, the API and ``expand``. Every read starts from the
enforcement point (``visible_to``, ``get_visible_or_404``): a term the subject may not see is a 404 exactly like a
missing one, and lists never count or hint at it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext

from kizuna.core import audit
from kizuna.core.access import get_visible_or_404
from kizuna.core.errors import ServiceError
from kizuna.core.paging import Page, keyset_page
from kizuna.glossary.models import AREAS, Term, forms_of
from kizuna.glossary.text import normalise
from kizuna.labels import Subject

MAX_Q = 200


def list_terms(subject: Subject, q: str = "", area: str = "", cursor: str | None = None,
               limit: int = 25) -> Page[Term]:
    """Newest first, keyset-paginated; ``q`` finds a term by any of its forms in any language (normalised: case,
    accents, full-width letters, spaces next to CJK text); ``area`` keeps one area."""
    qs = Term.objects.visible_to(subject).select_related("label", "originator", "created_by", "updated_by")
    if area:
        if area not in AREAS:
            raise ServiceError(gettext("unknown area %(area)s") % {"area": area}, "area")
        qs = qs.filter(area=area)
    text = normalise(q[:MAX_Q])
    if text:
        qs = qs.filter(search_text__contains=text)
    return keyset_page(qs, cursor, limit)


def get_term_or_404(subject: Subject, pk: object) -> Term:
    """The term if the subject may see it; 404 alike for missing and not visible."""
    qs: Any = Term.objects.select_related("label", "originator", "created_by", "updated_by")
    found: Term = get_visible_or_404(qs, subject, pk=pk)
    return found


def visible_forms(subject: Subject) -> list[tuple[int, str]]:
    """(id, search_text: the term's normal forms, one per line) of every term the subject may see: one query, for
    ``expand``."""
    rows: list[tuple[int, str]] = list(
        Term.objects.visible_to(subject).order_by("id").values_list("id", "search_text"))
    return rows


def visible_term_forms(subject: Subject, limit: int) -> list[list[str]]:
    """Every form (``Term.forms``) of each of the first ``limit`` terms (by id) the subject may see: one query, for
    the search's "did you mean"."""
    rows = Term.objects.visible_to(subject).order_by("id").values_list("en", "fr", "ja", "ko", "variants")[:limit]
    return [forms_of([en, fr, ja, ko], variants) for en, fr, ja, ko, variants in rows]


def terms_by_id(subject: Subject, ids: list[int]) -> dict[int, Term]:
    """The terms of ``ids`` the subject may see (``expand``'s matched terms), by id."""
    return {t.pk: t for t in Term.objects.visible_to(subject).filter(pk__in=ids).select_related("label")}


def audit_read(actor: str, terms: Sequence[Term], address: str = "", action: str = "read") -> None:
    """Record that ``actor`` was shown these terms (one entry per page or term view)."""
    if terms:
        audit.record(actor, action, "glossary-term", [t.pk for t in terms],
                     terms[0].label_id if len(terms) == 1 else None, address)
