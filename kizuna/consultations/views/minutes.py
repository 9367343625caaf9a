"""A meeting's minutes: the forms that write and change its parts and its decisions (Markdown, each with its own
label, about one agenda item or the whole meeting) and the buttons that publish them or take them back to draft.
Organisers only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kizuna.consultations import queries, services
from kizuna.consultations.meeting_forms import (
    SERVICE_FIELDS,
    DecisionForm,
    MinutesForm,
)
from kizuna.consultations.models import (
    Decision,
    MinutesPart,
)
from kizuna.consultations.views.common import (
    chosen_agenda_item,
    item_choices,
    item_form_page,
    marking,
    meeting_url,
    organiser_only,
    publish_page,
)
from kizuna.core import audit
from kizuna.core.access import get_visible_or_404, label_of
from kizuna.core.errors import ServiceError
from kizuna.directory.subjects import subject_for
from kizuna.web.banner import note_labels
from kizuna.web.shortcuts import apply_service_error, signed_in_user


def _add_part(request: HttpRequest, pk: int, form_class: type[MinutesForm] | type[DecisionForm],
              write: Callable[..., MinutesPart | Decision], refusal: str, saved: str, anchor: str,
              template: str) -> HttpResponse:
    """Add a minutes part or a decision (the same form: text, label, optional agenda item ?item= preselected)."""
    user = signed_in_user(request)
    meeting = queries.get_meeting_or_404(user, pk)
    refused = organiser_only(request, meeting, refusal)
    if refused is not None:
        return refused
    note_labels(request, meeting.label)
    choices = item_choices(request, user, meeting)
    raw_item = request.GET.get("item", "")
    initial = {"label": label_of(meeting.label),
               "agenda_item": int(raw_item) if raw_item.isdigit() and int(raw_item) in dict(choices) else None}
    form = form_class(request.POST or None, user=user, item_choices=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = write(user, meeting, data["text"], data["label"],
                           chosen_agenda_item(user, meeting, data["agenda_item"]), audit.client_address(request))
        except ServiceError as exc:
            apply_service_error(form, exc, SERVICE_FIELDS)
        else:
            messages.success(request, saved)
            return redirect(meeting_url(meeting, f"{anchor}-{record.pk}"))
    return item_form_page(request, meeting, form, template)


@login_required
@require_http_methods(["GET", "POST"])
def minutes_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _add_part(request, pk, MinutesForm, services.do_add_minutes,
                     _("Only the organisers of this meeting may write its minutes."), _("The minutes were saved."),
                     "minutes", "consultations/meeting_minutes_form.html")


def _edit_part(request: HttpRequest, pk: int, model: type[MinutesPart] | type[Decision], part_pk: int,
               form_class: type[MinutesForm] | type[DecisionForm], refusal: str, saved: str, removed: str,
               anchor: str, template: str) -> HttpResponse:
    """Change or delete (a POST with ``delete``) a minutes part or a decision the organiser may see."""
    user = signed_in_user(request)
    meeting = queries.get_meeting_or_404(user, pk)
    refused = organiser_only(request, meeting, refusal)
    if refused is not None:
        return refused
    # One of the two models: the lookup's type is their common base, the record is the model's own.
    part = cast("MinutesPart | Decision", get_visible_or_404(model, subject_for(user), meeting=meeting, pk=part_pk))
    note_labels(request, meeting.label, part.label)
    update = services.do_update_minutes if model is MinutesPart else services.do_update_decision
    delete = services.do_delete_minutes if model is MinutesPart else services.do_delete_decision
    if request.method == "POST" and "delete" in request.POST:
        try:
            delete(user, part, audit.client_address(request))  # type: ignore[arg-type]
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect(meeting_url(meeting, f"{anchor}-{part.pk}"))
        messages.success(request, removed)
        return redirect(meeting_url(meeting, "minutes"))
    choices = item_choices(request, user, meeting)
    initial = {"label": label_of(part.label), "text": part.text,
               "agenda_item": part.agenda_item_id if part.agenda_item_id in dict(choices) else None}
    form = form_class(request.POST or None, user=user, item_choices=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changes: dict[str, Any] = {"text": data["text"], "label": data["label"]}
            if part.agenda_item_id is None or part.agenda_item_id in dict(choices):
                # An item the editor may not see stays as it is.
                changes["agenda_item"] = chosen_agenda_item(user, meeting, data["agenda_item"])
            update(user, part, audit.client_address(request), **changes)  # type: ignore[arg-type]
        except ServiceError as exc:
            apply_service_error(form, exc, SERVICE_FIELDS)
        else:
            messages.success(request, saved)
            return redirect(meeting_url(meeting, f"{anchor}-{part.pk}"))
    return item_form_page(request, meeting, form, template, part=part, part_marking=marking(part.label))


@login_required
@require_http_methods(["GET", "POST"])
def minutes_edit(request: HttpRequest, pk: int, part_pk: int) -> HttpResponse:
    return _edit_part(request, pk, MinutesPart, part_pk, MinutesForm,
                      _("Only the organisers of this meeting may write its minutes."), _("The minutes were saved."),
                      _("The part of the minutes was deleted."), "minutes", "consultations/meeting_minutes_form.html")


@login_required
@require_http_methods(["GET", "POST"])
def decision_edit(request: HttpRequest, pk: int, part_pk: int) -> HttpResponse:
    return _edit_part(request, pk, Decision, part_pk, DecisionForm,
                      _("Only the organisers of this meeting may record its decisions."), _("The decision was saved."),
                      _("The decision was deleted."), "decision", "consultations/meeting_decision_form.html")


@login_required
@require_http_methods(["GET", "POST"])
def decision_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _add_part(request, pk, DecisionForm, services.do_record_decision,
                     _("Only the organisers of this meeting may record its decisions."), _("The decision was recorded."),
                     "decision", "consultations/meeting_decision_form.html")


@login_required
@require_POST
def minutes_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return publish_page(request, pk, services.do_publish_minutes,
                    _("The minutes were published: the attendees can now read them."), "minutes")


@login_required
@require_POST
def minutes_unpublish(request: HttpRequest, pk: int) -> HttpResponse:
    return publish_page(request, pk, services.do_unpublish_minutes,
                    _("The minutes are a draft again: only the organisers can read them."), "minutes")
