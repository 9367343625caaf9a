"""A meeting's agenda: the forms that add, change, move and remove its items (with the reports linked to each, as far
as the editor may see them) and the buttons that publish it or take it back to draft. Organisers only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kizuna.consultations import queries, services
from kizuna.consultations.meeting_forms import (
    SERVICE_FIELDS,
    AgendaItemForm,
    MoveForm,
)
from kizuna.consultations.models import AgendaItem, Meeting
from kizuna.consultations.views.common import (
    item_form_page,
    marking,
    meeting_url,
    organisers_only,
    publish_view,
    save_form,
)
from kizuna.core import audit
from kizuna.core.access import get_visible_or_404, label_display, label_of
from kizuna.core.errors import ServiceError
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.reports.models import Report, ReportStatus
from kizuna.web.banner import note_labels

MAX_REPORT_CHOICES = 200  # the most recent visible reports offered for linking (plus those already linked)


def _report_choices(request: HttpRequest, user: User, linked: Iterable[int] = ()) -> list[tuple[int, str]]:
    """The most recent visible reports, and those already linked that the editor may see; their labels are noted
    because their titles are shown."""
    visible = Report.objects.visible_to(subject_for(user)).select_related("label")
    recent = list(visible.filter(status=ReportStatus.ACTIVE).order_by("-created_at", "-id")[:MAX_REPORT_CHOICES])
    have = {r.pk for r in recent}
    recent += list(visible.filter(pk__in=[pk for pk in linked if pk not in have]))
    note_labels(request, *(r.label for r in recent))
    return [(r.pk, f"{r.title} [{label_display(label_of(r.label))}]") for r in recent]


AGENDA_ORGANISERS = gettext_lazy("Only the organisers of this meeting may change its agenda.")


@login_required
@require_http_methods(["GET", "POST"])
@organisers_only(AGENDA_ORGANISERS)
def agenda_add(request: HttpRequest, user: User, meeting: Meeting) -> HttpResponse:
    note_labels(request, meeting.label)
    form = AgendaItemForm(request.POST or None, user=user, report_choices=_report_choices(request, user),
                          initial={"label": label_of(meeting.label)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = save_form(request, form, lambda: services.do_add_agenda_item(
            user, meeting, data["title"], data["label"], presenter=data["presenter"],
            duration_minutes=data["duration_minutes"], reports=queries.visible_reports(user, data["reports"]),
            address=audit.client_address(request)),
            _("The agenda item was added."), lambda item: meeting_url(meeting, f"item-{item.pk}"), SERVICE_FIELDS)
        if saved is not None:
            return saved
    return item_form_page(request, meeting, form, "consultations/meeting_agenda_form.html", item=None)


@login_required
@require_http_methods(["GET", "POST"])
@organisers_only(AGENDA_ORGANISERS)
def agenda_edit(request: HttpRequest, user: User, meeting: Meeting, item_pk: int) -> HttpResponse:
    item = get_visible_or_404(AgendaItem, subject_for(user), meeting=meeting, pk=item_pk)
    note_labels(request, meeting.label, item.label)
    linked = list(item.reports.values_list("pk", flat=True))
    choices = _report_choices(request, user, linked)
    offered = {pk for pk, _t in choices}
    initial = {"title": item.title, "presenter": item.presenter, "duration_minutes": item.duration_minutes,
               "label": label_of(item.label), "reports": [pk for pk in linked if pk in offered]}
    form = AgendaItemForm(request.POST or None, user=user, report_choices=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def write() -> AgendaItem:
            changes: dict[str, Any] = {"title": data["title"], "presenter": data["presenter"],
                                       "duration_minutes": data["duration_minutes"], "label": data["label"]}
            # Links to reports this editor may not see are not theirs to remove, nor to know about: with such links
            # the list is left as it is (the service would refuse them as "no such report").
            if set(data["reports"]) != {pk for pk in linked if pk in offered}:
                if any(pk not in offered for pk in linked):
                    raise ServiceError(_("this item also links reports you may not see, so only someone who sees "
                                         "them all may change its links"), "reports")
                changes["reports"] = queries.visible_reports(user, data["reports"])
            return services.do_update_agenda_item(user, item, audit.client_address(request), **changes)

        saved = save_form(request, form, write, _("The agenda item was saved."),
                          lambda _item: meeting_url(meeting, f"item-{item.pk}"), SERVICE_FIELDS)
        if saved is not None:
            return saved
    return item_form_page(request, meeting, form, "consultations/meeting_agenda_form.html", item=item,
                          item_marking=marking(item.label))


@login_required
@require_http_methods(["GET", "POST"])
@organisers_only(AGENDA_ORGANISERS)
def agenda_delete(request: HttpRequest, user: User, meeting: Meeting, item_pk: int) -> HttpResponse:
    item = get_visible_or_404(AgendaItem, subject_for(user), meeting=meeting, pk=item_pk)
    note_labels(request, meeting.label, item.label)
    error = ""
    if request.method == "POST":
        try:
            services.do_delete_agenda_item(user, item, audit.client_address(request))
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(request, _("The agenda item was removed."))
            return redirect(meeting_url(meeting, "agenda"))
    return render(request, "consultations/meeting_agenda_delete.html",
                  {"meeting": meeting, "item": item, "error": error, **marking(item.label)},
                  status=400 if error else 200)


@login_required
@require_POST
@organisers_only(AGENDA_ORGANISERS)
def agenda_move(request: HttpRequest, user: User, meeting: Meeting, item_pk: int) -> HttpResponse:
    """Move the item one place up or down among the items this organiser sees."""
    item = get_visible_or_404(AgendaItem, subject_for(user), meeting=meeting, pk=item_pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        items = queries.agenda_for(user, meeting)
        index = next((n for n, i in enumerate(items) if i.pk == item.pk), None)
        step = -1 if form.cleaned_data["direction"] == "up" else 1
        if index is not None and 0 <= index + step < len(items):
            # The service puts the item at the neighbour's place and shifts the others (the neighbour included).
            try:
                services.do_update_agenda_item(user, item, audit.client_address(request),
                                               order=items[index + step].order)
            except ServiceError as exc:
                messages.error(request, exc.message)
    return redirect(meeting_url(meeting, f"item-{item.pk}"))


agenda_publish = publish_view(services.do_publish_agenda,
                              gettext_lazy("The agenda was published: the attendees can now read it."), "agenda")
agenda_unpublish = publish_view(services.do_unpublish_agenda,
                                gettext_lazy("The agenda is a draft again: only the organisers can read it."), "agenda")
