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
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from kizuna.consultations import services
from kizuna.consultations.meeting_forms import (
    SERVICE_FIELDS,
    DecisionForm,
    MinutesForm,
)
from kizuna.consultations.models import Decision, Meeting, MinutesPart
from kizuna.consultations.views.common import (
    chosen_agenda_item,
    item_choices,
    item_form_page,
    marking,
    meeting_url,
    organisers_only,
    publish_view,
    save_form,
)
from kizuna.core import audit
from kizuna.core.access import get_visible_or_404, label_of
from kizuna.core.errors import ServiceError
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.web.banner import note_labels

MINUTES_ORGANISERS = gettext_lazy("Only the organisers of this meeting may write its minutes.")
DECISION_ORGANISERS = gettext_lazy("Only the organisers of this meeting may record its decisions.")


def _add_part(request: HttpRequest, user: User, meeting: Meeting, form_class: type[MinutesForm] | type[DecisionForm],
              write: Callable[..., MinutesPart | Decision], saved: str, anchor: str, template: str) -> HttpResponse:
    """Add a minutes part or a decision (the same form: text, label, optional agenda item ?item= preselected)."""
    note_labels(request, meeting.label)
    choices = item_choices(request, user, meeting)
    raw_item = request.GET.get("item", "")
    initial = {"label": label_of(meeting.label),
               "agenda_item": int(raw_item) if raw_item.isdigit() and int(raw_item) in dict(choices) else None}
    form = form_class(request.POST or None, user=user, item_choices=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = save_form(request, form, lambda: write(
            user, meeting, data["text"], data["label"], chosen_agenda_item(user, meeting, data["agenda_item"]),
            audit.client_address(request)), saved, lambda record: meeting_url(meeting, f"{anchor}-{record.pk}"),
            SERVICE_FIELDS)
        if done is not None:
            return done
    return item_form_page(request, meeting, form, template)


@login_required
@require_http_methods(["GET", "POST"])
@organisers_only(MINUTES_ORGANISERS)
def minutes_add(request: HttpRequest, user: User, meeting: Meeting) -> HttpResponse:
    return _add_part(request, user, meeting, MinutesForm, services.do_add_minutes, _("The minutes were saved."),
                     "minutes", "consultations/meeting_minutes_form.html")


@login_required
@require_http_methods(["GET", "POST"])
@organisers_only(DECISION_ORGANISERS)
def decision_add(request: HttpRequest, user: User, meeting: Meeting) -> HttpResponse:
    return _add_part(request, user, meeting, DecisionForm, services.do_record_decision,
                     _("The decision was recorded."), "decision", "consultations/meeting_decision_form.html")


def _edit_part(request: HttpRequest, user: User, meeting: Meeting, model: type[MinutesPart] | type[Decision],
               part_pk: int, form_class: type[MinutesForm] | type[DecisionForm], saved: str, removed: str,
               anchor: str, template: str) -> HttpResponse:
    """Change or delete (a POST with ``delete``) a minutes part or a decision the organiser may see."""
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

        def write() -> MinutesPart | Decision:
            changes: dict[str, Any] = {"text": data["text"], "label": data["label"]}
            if part.agenda_item_id is None or part.agenda_item_id in dict(choices):
                # An item the editor may not see stays as it is.
                changes["agenda_item"] = chosen_agenda_item(user, meeting, data["agenda_item"])
            return update(user, part, audit.client_address(request), **changes)  # type: ignore[arg-type]

        done = save_form(request, form, write, saved, lambda _part: meeting_url(meeting, f"{anchor}-{part.pk}"),
                         SERVICE_FIELDS)
        if done is not None:
            return done
    return item_form_page(request, meeting, form, template, part=part, part_marking=marking(part.label))


@login_required
@require_http_methods(["GET", "POST"])
@organisers_only(MINUTES_ORGANISERS)
def minutes_edit(request: HttpRequest, user: User, meeting: Meeting, part_pk: int) -> HttpResponse:
    return _edit_part(request, user, meeting, MinutesPart, part_pk, MinutesForm, _("The minutes were saved."),
                      _("The part of the minutes was deleted."), "minutes", "consultations/meeting_minutes_form.html")


@login_required
@require_http_methods(["GET", "POST"])
@organisers_only(DECISION_ORGANISERS)
def decision_edit(request: HttpRequest, user: User, meeting: Meeting, part_pk: int) -> HttpResponse:
    return _edit_part(request, user, meeting, Decision, part_pk, DecisionForm, _("The decision was saved."),
                      _("The decision was deleted."), "decision", "consultations/meeting_decision_form.html")


minutes_publish = publish_view(services.do_publish_minutes,
                               gettext_lazy("The minutes were published: the attendees can now read them."), "minutes")
minutes_unpublish = publish_view(services.do_unpublish_minutes,
                                 gettext_lazy("The minutes are a draft again: only the organisers can read them."),
                                 "minutes")
