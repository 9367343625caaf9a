"""One meeting's page (times in the viewer's and the home zone, the local-time table of the participating capitals,
attendees and RSVP, agenda, minutes, decisions, actions), its .ics download, the answer to an invitation, and the
forms that create, change and cancel a meeting.

Views are thin, like the report pages: every read starts from ``visible_to`` (the meeting through
``queries.get_meeting_or_404``, so a meeting the reader may not see is a 404 exactly like a missing one; its parts
through ``queries.*_for``), draft/published is decided by ``queries`` after that, every write goes through
``services.do_*``, and a ``ServiceError`` becomes a form error with nothing written. Each page notes every label it
shows for the classification banner and audits the read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kizuna.consultations import ics, queries, services
from kizuna.consultations.meeting_forms import (
    SERVICE_FIELDS,
    ActionStatusForm,
    CancelForm,
    MeetingForm,
    RsvpForm,
    active_users,
    members_of,
    user_choice,
)
from kizuna.consultations.models import (
    ActionItem,
    AgendaItem,
    Meeting,
    MeetingStatus,
    Rsvp,
    Series,
)
from kizuna.consultations.timezones import city_name, local_times
from kizuna.consultations.views.common import (
    DAY,
    DAY_TIME,
    TIME,
    alliance_label,
    fmt,
    forbidden,
    marking,
    meeting_url,
    organisers_only,
    save_form,
    span,
    utc_offset,
    zone_or_utc,
)
from kizuna.core import audit
from kizuna.core.access import label_of
from kizuna.core.errors import ServiceError
from kizuna.core.markdown import render as render_markdown
from kizuna.core.models import LabelRecord
from kizuna.directory import disclosure
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label, LabelError
from kizuna.web.banner import note_document, note_labels
from kizuna.web.labelpicker import LabelChoice, LabelPickerWidget, choice_to_label, describe
from kizuna.web.shortcuts import signed_in_user


def _owner_name(action: ActionItem) -> str:
    if action.owner_user is not None:
        return action.owner_user.get_full_name() or action.owner_user.username
    return action.owner_organisation.display_name if action.owner_organisation is not None else "—"


def _action_row(action: ActionItem, user: User, organiser: bool, items: dict[int, AgendaItem]) -> dict[str, Any]:
    is_owner = (action.owner_user_id == user.pk or (action.owner_organisation_id is not None
                                                   and action.owner_organisation_id == user.organisation_id))
    item = items.get(action.agenda_item_id) if action.agenda_item_id else None
    return {
        "action": action, **marking(action.label), "owner": _owner_name(action),
        "overdue": queries.is_overdue(action), "may_edit": organiser, "may_set_status": organiser or is_owner,
        "agenda_item": item, "notes_html": render_markdown(action.notes) if action.notes else "",
        "status_form": ActionStatusForm(initial={"status": action.status}, prefix=f"a{action.pk}"),
    }


def _page_context(request: HttpRequest, meeting: Meeting) -> dict[str, Any]:
    user = signed_in_user(request)
    organiser = queries.may_organise(user, meeting)
    drafts = queries.may_read_drafts(user, meeting)
    series = queries.visible_series(user, meeting)
    attendees = list(meeting.attendees.select_related("user", "user__organisation").order_by("user__nation_id",
                                                                                              "user__username"))
    agenda = queries.agenda_for(user, meeting)
    review = queries.review_of_actions(user, meeting)
    minutes = queries.minutes_for(user, meeting)
    decisions = queries.decisions_for(user, meeting)
    actions = queries.actions_for(user, meeting)
    reports = queries.linked_reports(user, agenda)
    items_by_id = {i.pk: i for i in agenda}
    shown: list[LabelRecord] = [meeting.label]
    if series is not None:
        shown.append(series.label)
    shown += [i.label for i in agenda] + [a.label for a in review] + [m.label for m in minutes]
    shown += [d.label for d in decisions] + [a.label for a in actions]
    shown += [r.label for rs in reports.values() for r in rs]
    note_document(request, *shown)  # one meeting with its parts: their least upper bound

    viewer_zone = zone_or_utc(user.timezone)
    home_zone = zone_or_utc(meeting.time_zone)
    nations = queries.participating_nations(meeting, series, attendees)
    rows = []
    for row in local_times(meeting, nations, by_place=True):
        end_text = fmt(row.end, TIME if row.end.date() == row.start.date() else DAY_TIME)
        rows.append({"row": row, "city": city_name(row.city), "day": fmt(row.start, DAY) if row.day_differs else "",
                     "start": fmt(row.start, TIME), "end": end_text,
                     "offset": utc_offset(row.start, "−"), "night": row.start.hour < 7 or row.start.hour >= 21})

    minutes_by_item: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for part in minutes:
        key = part.agenda_item_id if part.agenda_item_id in items_by_id else None
        minutes_by_item[key].append({"part": part, **marking(part.label), "html": render_markdown(part.text)})
    decisions_by_item: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for decision in decisions:
        key = decision.agenda_item_id if decision.agenda_item_id in items_by_id else None
        decisions_by_item[key].append({"decision": decision, **marking(decision.label),
                                       "html": render_markdown(decision.text)})
    minutes_sections = [{"item": item, "parts": minutes_by_item.get(item.pk, []),
                         "decisions": decisions_by_item.get(item.pk, [])} for item in agenda]
    general = {"item": None, "parts": minutes_by_item.get(None, []), "decisions": decisions_by_item.get(None, [])}

    invitation = next((a for a in attendees if a.user_id == user.pk), None)
    cancelled = meeting.status == MeetingStatus.CANCELLED
    audit.record(user.username, "read", "meeting", [meeting.pk], meeting.label_id, audit.client_address(request))
    return {
        "meeting": meeting, **marking(meeting.label),
        "series": series,
        "series_url": reverse("consultations:series", args=[series.pk]) if series is not None else "",
        "calendar_url": reverse("consultations:calendar"),
        "audience": describe(label_of(meeting.label), user, add_own_organisation=False).text,
        "cancelled": cancelled,
        "organiser": organiser and not cancelled,
        "drafts": drafts,
        "viewer_time": span(meeting.start, meeting.end, viewer_zone),
        "home_time": span(meeting.start, meeting.end, home_zone),
        "same_zone": viewer_zone.key == home_zone.key,
        "duration": meeting.end - meeting.start,
        "local_rows": rows,
        "attendees": attendees,
        "invitation": invitation,
        "rsvp_choices": [(v, n) for v, n in Rsvp.choices if v != Rsvp.PENDING],
        "agenda_published": meeting.agenda_published_at is not None,
        "minutes_published": meeting.minutes_published_at is not None,
        "agenda": [{"item": item, **marking(item.label), "reports": [{"report": r, **marking(r.label)}
                                                                      for r in reports.get(item.pk, [])],
                    "first": n == 0, "last": n == len(agenda) - 1} for n, item in enumerate(agenda)],
        "review": [_action_row(a, user, False, {}) for a in review],
        "minutes_sections": minutes_sections,
        "minutes_general": general,
        "has_minutes": bool(minutes or decisions),
        "actions": [_action_row(a, user, organiser and not cancelled, items_by_id) for a in actions],
        "print_url": reverse("consultations_print:minutes_print", args=[meeting.pk]),
        "pdf_url": reverse("consultations_print:minutes_pdf", args=[meeting.pk]),
    }


@login_required
@require_GET
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = queries.get_meeting_or_404(signed_in_user(request), pk)
    return render(request, "consultations/meeting_detail.html", _page_context(request, meeting))


@login_required
@require_GET
def meeting_ics(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    meeting = queries.get_meeting_or_404(user, pk)
    audit.record(user.username, "download", "meeting", [meeting.pk], meeting.label_id, audit.client_address(request),
                 {"format": "ics"})
    response = HttpResponse(ics.ics_for(meeting), content_type="text/calendar; charset=utf-8")
    name = slugify(meeting.title)[:60] or "meeting"
    response["Content-Disposition"] = f'attachment; filename="{name}-{meeting.pk}.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def rsvp(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    meeting = queries.get_meeting_or_404(user, pk)
    form = RsvpForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose accept, tentative or decline."))
        return redirect(meeting_url(meeting, "attendees"))
    try:
        services.do_rsvp(user, meeting, form.cleaned_data["answer"], audit.client_address(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your answer was saved."))
    return redirect(meeting_url(meeting, "attendees"))


def _series_choices(request: HttpRequest, user: User) -> list[tuple[int, str]]:
    visible = list(Series.objects.visible_to(subject_for(user)).select_related("label").order_by("title"))
    note_labels(request, *(s.label for s in visible))  # their titles are shown in the list
    return [(s.pk, s.title) for s in visible]


def _meeting_form(request: HttpRequest, user: User, data: Any = None, initial: dict[str, Any] | None = None
                  ) -> MeetingForm:
    return MeetingForm(data, user=user, initial=initial or {}, series_choices=_series_choices(request, user),
                       users=active_users())


def attendee_check(user: User, label: Label | None, ids: Iterable[int]) -> dict[str, Any]:
    """Which of the chosen attendees could not read a meeting with ``label``, told before the form is sent. Decided
    by the label engine exactly as the service will decide it (``directory.disclosure``): nation, organisation and
    TLP:RED naming are shared, so a person they exclude is named; whether someone holds a clearance or a community is
    not, so such a person is "not shown to you" whatever they hold. Only people the organiser chose are mentioned,
    by the name the picker shows; an id that is no active person of the directory is ignored."""
    wanted = list(dict.fromkeys(ids))
    if label is None or not wanted:
        return {"count": 0}
    people = {p.pk: p for p in disclosure.people().filter(pk__in=wanted).select_related("organisation")}
    left_out: list[str] = []
    undisclosed: list[str] = []
    for pk in wanted:
        person = people.get(pk)
        if person is None:
            continue
        access = disclosure.access_as_known_to(user, person, label)
        if access is disclosure.Access.NO:
            left_out.append(user_choice(person)[1])
        elif access is disclosure.Access.UNDISCLOSED:
            undisclosed.append(user_choice(person)[1])
    count = sum(1 for pk in wanted if pk in people)
    return {"count": count, "left_out": left_out, "undisclosed": undisclosed, "ok": count > 0 and not left_out}


def _check_of_form(user: User, form: MeetingForm) -> dict[str, Any]:
    """The attendee check of the form as it stands: as posted, or as it was first filled."""
    if form.is_bound:
        return _check_of_query(user, form.data, form.users)
    initial = form.initial.get("label")
    label = choice_to_label(initial, user) if isinstance(initial, LabelChoice) else initial
    return attendee_check(user, label if isinstance(label, Label) else None, form.initial.get("attendees") or [])


def _check_of_query(user: User, data: Any, users: list[User]) -> dict[str, Any]:
    widget = LabelPickerWidget()
    widget.user = user
    try:
        label: Label | None = choice_to_label(widget.value_from_datadict(data, {}, "label"), user)
    except LabelError:
        label = None  # the picker's own preview says why
    ids = [int(v) for v in data.getlist("attendees") if str(v).isdigit()][:500]
    groups = [str(g) for g in data.getlist("attendee_groups")][:100]
    return attendee_check(user, label, ids + members_of(groups, users))


@login_required
@require_GET
def meeting_attendee_check(request: HttpRequest) -> HttpResponse:
    """The htmx fragment under the meeting form's label: who of the chosen attendees could not read the meeting."""
    user = signed_in_user(request)
    check = _check_of_query(user, request.GET, active_users())
    return render(request, "consultations/_attendee_check.html", {"check": check})


def _meeting_input(form: MeetingForm, user: User) -> dict[str, Any]:
    data = form.cleaned_data
    series = None
    if data["series"] is not None:
        series = Series.objects.visible_to(subject_for(user)).filter(pk=data["series"]).first()
        if series is None:
            raise ServiceError(_("no such series"), "series")
    people = {u.pk: u for u in User.objects.filter(pk__in=data["attendees"])}
    return {"title": data["title"], "label": data["label"], "start": data["start"], "end": data["end"],
            "time_zone": data["time_zone"], "mode": data["mode"], "place": data["place"], "link": data["link"],
            "series": series, "attendees": [people[pk] for pk in data["attendees"] if pk in people]}


def _prefill(request: HttpRequest, user: User) -> dict[str, Any]:
    """?series=<pk>&start=<ISO date-time> from the calendar or series page: the series' title, label, zone and
    length, and the start read in that zone (a naive start is already wall-clock time there)."""
    initial: dict[str, Any] = {"time_zone": zone_or_utc(user.timezone).key, "label": alliance_label(user)}
    series = None
    raw_series = request.GET.get("series", "")
    if raw_series.isdigit():
        series = Series.objects.visible_to(subject_for(user)).filter(pk=int(raw_series)).first()
    length = timedelta(hours=1)
    if series is not None:
        initial.update(series=series.pk, title=series.title, label=label_of(series.label),
                       time_zone=series.time_zone)
        length = timedelta(minutes=series.duration_minutes)
    try:
        start = datetime.fromisoformat(request.GET.get("start", "").strip().replace(" ", "T").replace("Z", "+00:00"))
    except ValueError:
        start = None
    if start is not None:
        if start.tzinfo is not None:
            start = start.astimezone(zone_or_utc(initial["time_zone"]))
        start = start.replace(tzinfo=None)
        initial.update(start=start, end=start + length)
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not user.can_contribute:
        return forbidden(request, None, _("Your role does not allow arranging meetings; ask a coordinator."))
    if request.method == "POST":
        form = _meeting_form(request, user, request.POST)
        if form.is_valid():
            saved = save_form(request, form, lambda: services.do_create_meeting(
                user, services.MeetingInput(**_meeting_input(form, user)), audit.client_address(request)),
                _("The meeting was created."), meeting_url, SERVICE_FIELDS)
            if saved is not None:
                return saved
    else:
        form = _meeting_form(request, user, initial=_prefill(request, user))
    return render(request, "consultations/meeting_form.html",
                  {"form": form, "meeting": None, "check": _check_of_form(user, form)},
                  status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
@organisers_only(gettext_lazy("Only the organisers of this meeting may change it."))
def meeting_edit(request: HttpRequest, user: User, meeting: Meeting) -> HttpResponse:
    note_labels(request, meeting.label)
    home = zone_or_utc(meeting.time_zone)
    series = queries.visible_series(user, meeting)
    initial = {
        "title": meeting.title, "label": label_of(meeting.label), "time_zone": meeting.time_zone,
        "start": meeting.start.astimezone(home).replace(tzinfo=None),
        "end": meeting.end.astimezone(home).replace(tzinfo=None),
        "mode": meeting.mode, "place": meeting.place, "link": meeting.link,
        "series": series.pk if series else None,
        "attendees": list(meeting.attendees.values_list("user_id", flat=True)),
    }
    if request.method == "POST":
        form = _meeting_form(request, user, request.POST, initial)
        if form.is_valid():

            def write() -> Meeting:
                changes = _meeting_input(form, user)
                if series is None and meeting.series_id is not None and changes["series"] is None:
                    del changes["series"]  # a series the editor may not see is kept, not silently dropped
                return services.do_update_meeting(user, meeting, audit.client_address(request), **changes)

            saved = save_form(request, form, write, _("The meeting was saved."), meeting_url, SERVICE_FIELDS)
            if saved is not None:
                return saved
    else:
        form = _meeting_form(request, user, initial=initial)
        audit.record(user.username, "read", "meeting", [meeting.pk], meeting.label_id, audit.client_address(request))
    return render(request, "consultations/meeting_form.html",
                  {"form": form, "meeting": meeting, "check": _check_of_form(user, form)},
                  status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    meeting = queries.get_meeting_or_404(user, pk)
    if not queries.may_organise(user, meeting):
        return forbidden(request, meeting, _("Only the organisers of this meeting may cancel it."))
    if meeting.status == MeetingStatus.CANCELLED:
        messages.info(request, _("This meeting has already been cancelled."))
        return redirect(meeting_url(meeting))
    note_labels(request, meeting.label)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = save_form(request, form, lambda: services.do_cancel_meeting(
            user, meeting, form.cleaned_data["reason"], audit.client_address(request)),
            _("The meeting was cancelled. Calendars that subscribed will show it as cancelled."), meeting_url,
            SERVICE_FIELDS)
        if saved is not None:
            return saved
    return render(request, "consultations/meeting_cancel.html",
                  {"form": form, "meeting": meeting, **marking(meeting.label),
                   "home_time": span(meeting.start, meeting.end, zone_or_utc(meeting.time_zone))},
                  status=400 if form.is_bound else 200)
