"""The shapes of best-practice notes in the REST API, in and out (on the shared kit ``kizuna.core.schemas``), and the
function that turns a row into its API form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kizuna.core.access import label_display, label_of
from kizuna.core.markdown import markdown_html
from kizuna.core.schemas import LabelIn, LabelOut, OrganisationOut, Out, Strict
from kizuna.practices.models import Practice


class PracticeOut(Out):
    id: int
    title: str
    body: str
    body_html: str
    label: LabelOut
    label_display: str
    originator: OrganisationOut
    author: str
    version: int
    created_at: datetime
    updated_at: datetime


class PracticePage(Out):
    items: list[PracticeOut]
    next_cursor: str | None


class PracticeCreate(Strict):
    title: str
    body: str = ""
    label: LabelIn


class PracticePatch(Strict):
    title: str | None = None
    body: str | None = None
    label: LabelIn | None = None


def practice_out(practice: Practice) -> dict[str, Any]:
    """The API form of a note. Expects ``label``, ``originator`` and ``author`` selected."""
    label = label_of(practice.label)
    return {
        "id": practice.pk, "title": practice.title, "body": practice.body, "body_html": markdown_html(practice.body),
        "label": label.as_api(), "label_display": label_display(label),
        "originator": {"code": practice.originator.code, "name": practice.originator.name},
        "author": practice.author.username, "version": practice.version,
        "created_at": practice.created_at, "updated_at": practice.updated_at,
    }
