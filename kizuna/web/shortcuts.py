"""Small helpers every module's pages share: the signed-in user of a request, a refused write shown on its form, and
the refusal page.
Kept here, below the domain apps, so that each app's views and forms use one copy (issue 11, "shared kits")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kizuna.core.errors import ServiceError
from kizuna.core.models import LabelRecord
from kizuna.directory.models import User
from kizuna.web.banner import note_labels


class Labelled(Protocol):
    label: LabelRecord


def signed_in_user(request: HttpRequest) -> User:
    """The request's user. The login middleware lets only signed-in users reach a page; should anything else arrive,
    it is answered as a missing page, never with an error that says more."""
    user = request.user
    if not isinstance(user, User):
        raise Http404("not found")
    return user


def apply_service_error(form: forms.Form, error: ServiceError, aliases: Mapping[str, str] | None = None) -> None:
    """Show a refused write on the field it concerns (a service's field name, or its alias in this form), or above
    the form when it names none of the form's fields."""
    name = error.field or ""
    if aliases and name not in form.fields:
        name = aliases.get(name, name)
    form.add_error(name if name in form.fields else None, error.message)


def forbidden(request: HttpRequest, message: str, *, record: Labelled | None = None, back_url: str = "",
              back_text: str = "") -> HttpResponse:
    """The refusal page (403): the reader may not do this (change a record they may see, or write at all). Said
    plainly: it is no secret that a record the reader may see exists, so its label is named in the page's banner."""
    if record is not None:
        note_labels(request, record.label)
    return render(request, "web/forbidden.html", {"message": message, "back_url": back_url, "back_text": back_text},
                  status=403)
