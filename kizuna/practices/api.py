"""The best-practice notes of the REST API (/api/v1/practices): list, create, read, change. Thin: reads go through
``queries`` (the enforcement point), writes through the ``do_*`` services, and every read of labelled content is
audited with the client's address."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from kizuna.core.audit import client_address
from kizuna.core.errors import ServiceError
from kizuna.core.schemas import ERRORS
from kizuna.directory.subjects import subject_for
from kizuna.practices import queries
from kizuna.practices.schemas import PracticeCreate, PracticeOut, PracticePage, PracticePatch, practice_out
from kizuna.practices.services import PracticeInput, do_create_practice, do_update_practice
from kizuna.web.apiauth import caller

router = Router(tags=["practices"])


@router.get("/practices", response={200: PracticePage, **ERRORS}, summary="List best-practice notes the caller may see")
def list_(request: HttpRequest, q: str = "", limit: int = 25, cursor: str | None = None) -> dict[str, Any]:
    """Newest first, keyset-paginated: pass ``next_cursor`` back as ``cursor`` until it is null. No total count."""
    user = caller(request)
    page = queries.list_practices(subject_for(user), q, cursor or None, limit)
    queries.audit_read(user.username, page.items, client_address(request), action="list")
    return {"items": [practice_out(p) for p in page.items], "next_cursor": page.next_cursor}


@router.post("/practices", response={201: PracticeOut, **ERRORS}, summary="Create a best-practice note")
def create(request: HttpRequest, payload: PracticeCreate) -> Status[dict[str, Any]]:
    """The label must be one the caller could see; otherwise 400 and nothing is stored."""
    user = caller(request)
    practice = do_create_practice(user, PracticeInput(title=payload.title, body=payload.body,
                                                      label=payload.label.to_label()), client_address(request))
    return Status(201, practice_out(queries.get_practice_or_404(subject_for(user), practice.pk)))


@router.get("/practices/{id}", response={200: PracticeOut, **ERRORS}, summary="Read one best-practice note")
def read(request: HttpRequest, id: int) -> dict[str, Any]:
    user = caller(request)
    practice = queries.get_practice_or_404(subject_for(user), id)
    queries.audit_read(user.username, [practice], client_address(request))
    return practice_out(practice)


@router.patch("/practices/{id}", response={200: PracticeOut, **ERRORS}, summary="Change some fields of a note")
def update(request: HttpRequest, id: int, payload: PracticePatch) -> dict[str, Any]:
    """Only the fields sent change; only the originating organisation may change a note, never into a label the
    caller could not see."""
    user = caller(request)
    practice = queries.get_practice_or_404(subject_for(user), id)
    for name in sorted(payload.model_fields_set):
        if getattr(payload, name) is None:
            raise ServiceError(f"{name} cannot be null; leave it out to keep its value", name)
    do_update_practice(user, practice, title=payload.title, body=payload.body,
                       label=payload.label.to_label() if payload.label is not None else None,
                       address=client_address(request))
    return practice_out(queries.get_practice_or_404(subject_for(user), id))
