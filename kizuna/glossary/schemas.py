"""The shapes of glossary terms in the REST API, in and out (on the shared kit ``kizuna.core.schemas``), and the
function that turns a row into its API form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from kizuna.core.access import label_display, label_of
from kizuna.core.schemas import LabelIn, LabelOut, OrganisationOut, Out, Strict
from kizuna.glossary.models import Term

VARIANTS_EXAMPLE = {"en": ["STS", "ship to ship transfer"], "fr": ["transbordement de navire à navire"]}


class TermOut(Out):
    id: int
    en: str
    fr: str
    ja: str
    ko: str
    variants: dict[str, list[str]]
    area: str
    note: str
    label: LabelOut
    label_display: str
    originator: OrganisationOut
    created_by: str
    updated_by: str
    version: int
    created_at: datetime
    updated_at: datetime


class TermPage(Out):
    items: list[TermOut]
    next_cursor: str | None


class TermCreate(Strict):
    en: str = Field(examples=["ship-to-ship transfer"])
    fr: str = ""
    ja: str = ""
    ko: str = ""
    variants: dict[str, list[str]] = Field(default_factory=dict, examples=[VARIANTS_EXAMPLE])
    area: str = Field(default="general", examples=["maritime"])
    note: str = ""
    label: LabelIn


class TermPatch(Strict):
    en: str | None = None
    fr: str | None = None
    ja: str | None = None
    ko: str | None = None
    variants: dict[str, list[str]] | None = None
    area: str | None = None
    note: str | None = None
    label: LabelIn | None = None


def term_out(term: Term) -> dict[str, Any]:
    """The API form of a term. Expects ``label``, ``originator``, ``created_by`` and ``updated_by`` selected."""
    label = label_of(term.label)
    return {
        "id": term.pk, "en": term.en, "fr": term.fr, "ja": term.ja, "ko": term.ko,
        "variants": {code: list(values) for code, values in (term.variants or {}).items()},
        "area": term.area, "note": term.note, "label": label.as_api(), "label_display": label_display(label),
        "originator": {"code": term.originator.code, "name": term.originator.name},
        "created_by": term.created_by.username, "updated_by": term.updated_by.username, "version": term.version,
        "created_at": term.created_at, "updated_at": term.updated_at,
    }
