"""The glossary of the REST API (/api/v1/glossary): list, create, read, change, delete. Thin: reads go through
``queries`` (the enforcement point), writes through the ``do_*`` services (coordinators and administrators), and
every read of labelled content is audited with the client's address."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from kizuna.core.audit import client_address
from kizuna.core.errors import ServiceError
from kizuna.core.schemas import ERRORS
from kizuna.directory.subjects import subject_for
from kizuna.glossary import queries
from kizuna.glossary.schemas import TermCreate, TermOut, TermPage, TermPatch, term_out
from kizuna.glossary.services import TermInput, do_create_term, do_delete_term, do_update_term
from kizuna.web.apiauth import caller

router = Router(tags=["glossary"])


@router.get("/glossary", response={200: TermPage, **ERRORS}, summary="List glossary terms the caller may see")
def list_(request: HttpRequest, q: str = "", area: str = "", limit: int = 25,
          cursor: str | None = None) -> dict[str, Any]:
    """Newest first, keyset-paginated: pass ``next_cursor`` back as ``cursor`` until it is null. No total count.
    ``q`` finds a term by any of its forms in any language; ``area`` keeps one area (general, cyber, maritime, hadr,
    space, edt, disinfo, strategic, economic)."""
    user = caller(request)
    page = queries.list_terms(subject_for(user), q, area, cursor or None, limit)
    queries.audit_read(user.username, page.items, client_address(request), action="list")
    return {"items": [term_out(t) for t in page.items], "next_cursor": page.next_cursor}


@router.post("/glossary", response={201: TermOut, **ERRORS}, summary="Add a term to the glossary")
def create(request: HttpRequest, payload: TermCreate) -> Status[dict[str, Any]]:
    """Coordinators and administrators only; the label must be one the caller could see, otherwise 400 and nothing
    is stored."""
    user = caller(request)
    term = do_create_term(user, TermInput(en=payload.en, fr=payload.fr, ja=payload.ja, ko=payload.ko,
                                          variants=payload.variants, area=payload.area, note=payload.note,
                                          label=payload.label.to_label()), client_address(request))
    return Status(201, term_out(queries.get_term_or_404(subject_for(user), term.pk)))


@router.get("/glossary/{id}", response={200: TermOut, **ERRORS}, summary="Read one glossary term")
def read(request: HttpRequest, id: int) -> dict[str, Any]:
    user = caller(request)
    term = queries.get_term_or_404(subject_for(user), id)
    queries.audit_read(user.username, [term], client_address(request))
    return term_out(term)


@router.patch("/glossary/{id}", response={200: TermOut, **ERRORS}, summary="Change some fields of a term")
def update(request: HttpRequest, id: int, payload: TermPatch) -> dict[str, Any]:
    """Only the fields sent change; coordinators and administrators only, never into a label the caller could not
    see. A term the caller may not see answers 404 like a missing one."""
    user = caller(request)
    term = queries.get_term_or_404(subject_for(user), id)
    for name in sorted(payload.model_fields_set):
        if getattr(payload, name) is None:
            raise ServiceError(f"{name} cannot be null; leave it out to keep its value", name)
    do_update_term(user, term, en=payload.en, fr=payload.fr, ja=payload.ja, ko=payload.ko,
                   variants=payload.variants, area=payload.area, note=payload.note,
                   label=payload.label.to_label() if payload.label is not None else None,
                   address=client_address(request))
    return term_out(queries.get_term_or_404(subject_for(user), id))


@router.delete("/glossary/{id}", response={204: None, **ERRORS}, summary="Delete a term")
def delete(request: HttpRequest, id: int) -> Status[None]:
    """Coordinators and administrators only; the term's versions stay. A term the caller may not see answers 404
    like a missing one."""
    user = caller(request)
    do_delete_term(user, queries.get_term_or_404(subject_for(user), id), client_address(request))
    return Status(204, None)
