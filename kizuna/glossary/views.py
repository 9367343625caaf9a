"""Glossary pages: the list (search in any language, area filter, keyset pages, and the expansions of the search), a
term, and the forms to create, change and delete one (coordinators and administrators).

Thin, like the worked example: every read goes through ``queries`` (the enforcement point, so a term the reader may
not see is a 404 exactly like a missing one, on the change pages too: the term is looked up before the role is
checked), every write through ``services.do_*``, and a ``ServiceError`` becomes a form error. Each page notes the
labels it shows, so the base template's classification banners cover them, and audits the read.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kizuna.core import audit
from kizuna.core.access import label_of
from kizuna.core.errors import ServiceError
from kizuna.directory.subjects import subject_for
from kizuna.glossary import queries, services
from kizuna.glossary.expansion import expansion
from kizuna.glossary.forms import TermForm, TermSearchForm, initial_for
from kizuna.glossary.models import LANGUAGES, Term
from kizuna.web.banner import note_labels
from kizuna.web.shortcuts import apply_service_error, forbidden, signed_in_user

PAGE_SIZE = 25


def _refused(request: HttpRequest, term: Term | None = None) -> HttpResponse:
    return forbidden(request, _("Only coordinators and administrators may change the glossary."), record=term,
                     back_url=reverse("glossary:list"), back_text=_("Back to the glossary"))


@login_required
@require_GET
def term_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    subject = subject_for(user)
    form = TermSearchForm(request.GET)
    terms: list[Term] = []
    expansions: list[str] = []
    found: list[tuple[Term, list[str]]] = []  # each term found in the search, with the forms it adds
    error = next_url = ""
    status = 200
    if form.is_valid():
        q, area = form.cleaned_data["q"], form.cleaned_data["area"]
        try:
            page = queries.list_terms(subject, q, area, form.cleaned_data["cursor"] or None, PAGE_SIZE)
        except ServiceError as exc:
            error, status = exc.message, 400
        else:
            terms = page.items
            # The expansions show the words of the terms they come from: those are shown too (banner, audit).
            expansions, used = expansion(subject, q) if q else ([], [])
            shown = terms + [t for t in used if t.pk not in {s.pk for s in terms}]
            found = [(t, [f for f in expansions if f in t.forms()]) for t in used]
            note_labels(request, *(t.label for t in shown))
            queries.audit_read(user.username, shown, audit.client_address(request), action="list")
            if page.next_cursor:
                next_url = "?" + urlencode({**({"q": q} if q else {}), **({"area": area} if area else {}),
                                            "cursor": page.next_cursor})
    else:
        status = 400
    return render(request, "glossary/term_list.html",
                  {"form": form, "terms": terms, "error": error, "next_url": next_url, "found": found,
                   "may_edit": services.may_edit_glossary(user)}, status=status)


@login_required
@require_GET
def term_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    term = queries.get_term_or_404(subject_for(user), pk)
    note_labels(request, term.label)
    queries.audit_read(user.username, [term], audit.client_address(request))
    variants = [(code, term.variants_of(code)) for code in LANGUAGES if term.variants_of(code)]
    return render(request, "glossary/term_detail.html",
                  {"term": term, "variants": variants, "may_edit": services.may_edit_glossary(user)})


@login_required
@require_http_methods(["GET", "POST"])
def term_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not services.may_edit_glossary(user):
        return _refused(request)
    form = TermForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            term = services.do_create_term(user, services.TermInput(
                en=data["en"], fr=data["fr"], ja=data["ja"], ko=data["ko"], variants=form.variants(),
                area=data["area"], note=data["note"], label=data["label"]), audit.client_address(request))
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The term was added to the glossary."))
            return redirect("glossary:detail", pk=term.pk)
    return render(request, "glossary/term_form.html", {"form": form, "term": None},
                  status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def term_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    term = queries.get_term_or_404(subject_for(user), pk)  # before the role: hidden answers as missing
    if not services.may_edit_glossary(user):
        return _refused(request, term)
    note_labels(request, term.label)
    initial = initial_for(term, label_of(term.label))
    form = TermForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.do_update_term(user, term, en=data["en"], fr=data["fr"], ja=data["ja"], ko=data["ko"],
                                    variants=form.variants(), area=data["area"], note=data["note"],
                                    label=data["label"], address=audit.client_address(request))
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The term was saved."))
            return redirect("glossary:detail", pk=term.pk)
    elif request.method == "GET":
        queries.audit_read(user.username, [term], audit.client_address(request))
    return render(request, "glossary/term_form.html", {"form": form, "term": term},
                  status=400 if form.is_bound else 200)


@login_required
@require_POST
def term_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    term = queries.get_term_or_404(subject_for(user), pk)
    if not services.may_edit_glossary(user):
        return _refused(request, term)
    services.do_delete_term(user, term, audit.client_address(request))
    messages.success(request, _("The term was deleted."))
    return redirect("glossary:list")
