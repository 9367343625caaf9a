"""Best-practice pages: the list (search, keyset pages), a note, and the form for a new one.

Thin, like the reports slice: every read goes through ``queries`` (the enforcement point, so a note the reader may
not see is a 404 exactly like a missing one), every write through ``services.do_*``, and a ``ServiceError`` becomes
a form error. Each page notes the labels it shows, so the base template's classification banners cover them, and
audits the read.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kizuna.core import audit
from kizuna.core.errors import ServiceError
from kizuna.core.markdown import markdown_html
from kizuna.directory.subjects import subject_for
from kizuna.practices import queries, services
from kizuna.practices.forms import PracticeForm, PracticeSearchForm
from kizuna.web.banner import note_labels
from kizuna.web.shortcuts import apply_service_error, forbidden, signed_in_user

PAGE_SIZE = 25


@login_required
@require_GET
def practice_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = PracticeSearchForm(request.GET)
    practices: list[services.Practice] = []
    error = next_url = ""
    status = 200
    if form.is_valid():
        q = form.cleaned_data["q"]
        try:
            page = queries.list_practices(subject_for(user), q, form.cleaned_data["cursor"] or None, PAGE_SIZE)
        except ServiceError as exc:
            error, status = exc.message, 400
        else:
            practices = page.items
            note_labels(request, *(p.label for p in practices))
            queries.audit_read(user.username, practices, audit.client_address(request), action="list")
            if page.next_cursor:
                next_url = "?" + urlencode({**({"q": q} if q else {}), "cursor": page.next_cursor})
    else:
        status = 400
    return render(request, "practices/practice_list.html",
                  {"form": form, "practices": practices, "error": error, "next_url": next_url,
                   "may_create": user.can_contribute}, status=status)


@login_required
@require_GET
def practice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    practice = queries.get_practice_or_404(subject_for(user), pk)
    note_labels(request, practice.label)
    queries.audit_read(user.username, [practice], audit.client_address(request))
    return render(request, "practices/practice_detail.html",
                  {"practice": practice, "body_html": markdown_html(practice.body)})


@login_required
@require_http_methods(["GET", "POST"])
def practice_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not user.can_contribute:
        return forbidden(request, _("Your role does not allow writing best-practice notes; ask a coordinator."),
                         back_url=reverse("practices:list"), back_text=_("Back to best practice"))
    form = PracticeForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            practice = services.do_create_practice(user, services.PracticeInput(
                title=data["title"], body=data["body"], label=data["label"]), audit.client_address(request))
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The note was created."))
            return redirect("practices:detail", pk=practice.pk)
    return render(request, "practices/practice_form.html", {"form": form}, status=400 if form.is_bound else 200)
