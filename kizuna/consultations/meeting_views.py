"""One meeting's pages: the meeting (times in the viewer's and the home zone, the local-time table of the participating
capitals, attendees and RSVP, agenda, minutes, decisions, actions), its .ics download, and the forms that create and
change it and its parts.

Views are thin, like the report pages: every read starts from ``visible_to`` (the meeting through
``queries.get_meeting_or_404``, so a meeting the reader may not see is a 404 exactly like a missing one; its parts through
``queries.*_for`` or ``Model.objects.visible_to``), draft/published is decided by ``queries`` after that, every write goes
through ``services.do_*``, and a ``ServiceError`` becomes a form error with nothing written. Each page
notes every label it shows for the classification banner and audits the read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.dateformat import format as date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kizuna.consultations import ics, queries, services
from kizuna.consultations.meeting_forms import (
    ActionForm,
    ActionStatusForm,
    AgendaItemForm,
    CancelForm,
    DecisionForm,
    MeetingForm,
    MinutesForm,
    MoveForm,
    RsvpForm,
    active_users,
    apply_service_error,
)
from kizuna.consultations.models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    Decision,
    Meeting,
    MeetingStatus,
    MinutesPart,
    Rsvp,
    Series,
)
from kizuna.consultations.timezones import local_times
from kizuna.core import audit
from kizuna.core.access import get_visible_or_404, label_display, label_of
from kizuna.core.errors import NotFound, ServiceError
from kizuna.core.markdown import render as render_markdown
from kizuna.core.models import Labelled, LabelRecord
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.reports.models import Report, ReportStatus
from kizuna.web.banner import chip_class, note_labels
from kizuna.web.labelpicker import describe
from kizuna.web.shortcuts import signed_in_user

L = TypeVar("L", bound=Labelled)

# How a time reads on the page: "Tue 2 Jun 2026, 09:00". Django's formatter translates day and month names and, unlike
# the |date filter, keeps the datetime in its own zone instead of the viewer's.
DAY_TIME = "D j M Y, H:i"
DAY = "D j M"
TIME = "H:i"
MAX_REPORT_CHOICES = 200  # the most recent visible reports offered for linking (plus those already linked)


# --- helpers -------------------------------------------------------------------------------------------------------

def _meeting(user: User, pk: int) -> Meeting:
    """The meeting through visible_to (queries.get_meeting_or_404); not visible and missing are the same 404."""
    try:
        return queries.get_meeting_or_404(user, pk)
    except NotFound:
        raise Http404("not found") from None


def _visible(model: type[L], user: User, meeting: Meeting, pk: int) -> L:
    """A part of the meeting (agenda item, minutes part, decision, action) through visible_to, or a 404."""
    return get_visible_or_404(model, subject_for(user), meeting=meeting, pk=pk)


def _chip(record: LabelRecord) -> str:
    return chip_class(record.policy, record.classification)


def _marking(record: LabelRecord) -> dict[str, str]:
    return {"text": label_display(label_of(record)), "chip": _chip(record)}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _offset(moment: datetime) -> str:
    delta = moment.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    minutes = abs(minutes)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _span(start: datetime, end: datetime, zone: ZoneInfo) -> dict[str, str]:
    """A meeting's time in one zone: "Tue 2 Jun 2026, 09:00 – 11:00" (the end's day only when it differs)."""
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    end_text = date_format(local_end, TIME if local_end.date() == local_start.date() else DAY_TIME)
    return {"start": date_format(local_start, DAY_TIME), "end": end_text, "zone": str(zone.key),
            "offset": _offset(local_start), "iso": local_start.isoformat()}


def _try_reverse(name: str, *args: Any) -> str:
    """The address of another helper's page, or "" while it does not exist (the link is then left out)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _print_url(meeting: Meeting, kind: str) -> str:
    """The printable minutes (print_urls.py, another module): by name when it has one, else the agreed path."""
    for name in (f"consultations_print:minutes_{kind}", f"consultations_print:{kind}"):
        found = _try_reverse(name, meeting.pk)
        if found:
            return found
    base = meeting_url(meeting)
    return f"{base}minutes/print/" if kind == "print" else f"{base.rstrip('/')}/minutes.pdf"


def _address(request: HttpRequest) -> str:
    return audit.client_address(request)


def meeting_url(meeting: Meeting, anchor: str = "") -> str:
    return reverse("consultations:meeting", args=[meeting.pk]) + (f"#{anchor}" if anchor else "")


def _forbidden(request: HttpRequest, meeting: Meeting | None, message: str) -> HttpResponse:
    """The reader may see the meeting but not change it: say so plainly (it is no secret that the meeting exists)."""
    if meeting is not None:
        note_labels(request, meeting.label)
    return render(request, "consultations/meeting_forbidden.html", {"meeting": meeting, "message": message},
                  status=403)


def _visible_series(user: User, meeting: Meeting) -> Series | None:
    """The meeting's series only if the reader may see the series too: a series has its own label."""
    if meeting.series_id is None:
        return None
    return Series.objects.visible_to(subject_for(user)).filter(pk=meeting.series_id).first()


def _owner_name(action: ActionItem) -> str:
    if action.owner_user is not None:
        return action.owner_user.get_full_name() or action.owner_user.username
    return action.owner_organisation.name if action.owner_organisation is not None else "—"


def _action_row(action: ActionItem, user: User, organiser: bool, items: dict[int, AgendaItem]) -> dict[str, Any]:
    is_owner = (action.owner_user_id == user.pk or (action.owner_organisation_id is not None
                                                   and action.owner_organisation_id == user.organisation_id))
    item = items.get(action.agenda_item_id) if action.agenda_item_id else None
    return {
        "action": action, **_marking(action.label), "owner": _owner_name(action),
        "overdue": queries.is_overdue(action), "may_edit": organiser, "may_set_status": organiser or is_owner,
        "agenda_item": item, "notes_html": render_markdown(action.notes) if action.notes else "",
        "status_form": ActionStatusForm(initial={"status": action.status}, prefix=f"a{action.pk}"),
    }


# --- the meeting page ----------------------------------------------------------------------------------------------

def _page_context(request: HttpRequest, meeting: Meeting) -> dict[str, Any]:
    user = signed_in_user(request)
    organiser = queries.may_organise(user, meeting)
    drafts = queries.may_read_drafts(user, meeting)
    series = _visible_series(user, meeting)
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
    note_labels(request, *shown)

    viewer_zone = _zone(user.timezone)
    home_zone = _zone(meeting.time_zone)
    nations = queries.participating_nations(meeting, series, attendees)
    rows = []
    for row in local_times(meeting, nations):
        end_text = date_format(row.end, TIME if row.end.date() == row.start.date() else DAY_TIME)
        rows.append({"row": row, "day": date_format(row.start, DAY) if row.day_differs else "",
                     "start": date_format(row.start, TIME), "end": end_text,
                     "offset": _offset(row.start), "night": row.start.hour < 7 or row.start.hour >= 21})

    minutes_by_item: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for part in minutes:
        key = part.agenda_item_id if part.agenda_item_id in items_by_id else None
        minutes_by_item[key].append({"part": part, **_marking(part.label), "html": render_markdown(part.text)})
    decisions_by_item: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for decision in decisions:
        key = decision.agenda_item_id if decision.agenda_item_id in items_by_id else None
        decisions_by_item[key].append({"decision": decision, **_marking(decision.label),
                                       "html": render_markdown(decision.text)})
    minutes_sections = [{"item": item, "parts": minutes_by_item.get(item.pk, []),
                         "decisions": decisions_by_item.get(item.pk, [])} for item in agenda]
    general = {"item": None, "parts": minutes_by_item.get(None, []), "decisions": decisions_by_item.get(None, [])}

    invitation = next((a for a in attendees if a.user_id == user.pk), None)
    cancelled = meeting.status == MeetingStatus.CANCELLED
    audit.record(user.username, "read", "meeting", [meeting.pk], meeting.label_id, _address(request))
    return {
        "meeting": meeting, **_marking(meeting.label),
        "series": series,
        "series_url": _try_reverse("consultations:series", series.pk) if series is not None else "",
        "calendar_url": _try_reverse("consultations:calendar"),
        "audience": describe(label_of(meeting.label), user, add_own_organisation=False).text,
        "cancelled": cancelled,
        "organiser": organiser and not cancelled,
        "drafts": drafts,
        "viewer_time": _span(meeting.start, meeting.end, viewer_zone),
        "home_time": _span(meeting.start, meeting.end, home_zone),
        "same_zone": viewer_zone.key == home_zone.key,
        "duration": meeting.end - meeting.start,
        "local_rows": rows,
        "attendees": attendees,
        "invitation": invitation,
        "rsvp_choices": [(v, n) for v, n in Rsvp.choices if v != Rsvp.PENDING],
        "agenda_published": meeting.agenda_published_at is not None,
        "minutes_published": meeting.minutes_published_at is not None,
        "agenda": [{"item": item, **_marking(item.label), "reports": [{"report": r, **_marking(r.label)}
                                                                      for r in reports.get(item.pk, [])],
                    "first": n == 0, "last": n == len(agenda) - 1} for n, item in enumerate(agenda)],
        "review": [_action_row(a, user, False, {}) for a in review],
        "minutes_sections": minutes_sections,
        "minutes_general": general,
        "has_minutes": bool(minutes or decisions),
        "actions": [_action_row(a, user, organiser and not cancelled, items_by_id) for a in actions],
        "print_url": _print_url(meeting, "print"),
        "pdf_url": _print_url(meeting, "pdf"),
    }


@login_required
@require_GET
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(signed_in_user(request), pk)
    return render(request, "consultations/meeting_detail.html", _page_context(request, meeting))


@login_required
@require_GET
def meeting_ics(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    meeting = _meeting(user, pk)
    audit.record(user.username, "download", "meeting", [meeting.pk], meeting.label_id, _address(request),
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
    meeting = _meeting(user, pk)
    form = RsvpForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose accept, tentative or decline."))
        return redirect(meeting_url(meeting, "attendees"))
    try:
        services.do_rsvp(user, meeting, form.cleaned_data["answer"], _address(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your answer was saved."))
    return redirect(meeting_url(meeting, "attendees"))


# --- create, edit, cancel ------------------------------------------------------------------------------------------

def _series_choices(request: HttpRequest, user: User) -> list[tuple[int, str]]:
    visible = list(Series.objects.visible_to(subject_for(user)).select_related("label").order_by("title"))
    note_labels(request, *(s.label for s in visible))  # their titles are shown in the list
    return [(s.pk, s.title) for s in visible]


def _meeting_form(request: HttpRequest, user: User, data: Any = None, initial: dict[str, Any] | None = None
                  ) -> MeetingForm:
    return MeetingForm(data, user=user, initial=initial or {}, series_choices=_series_choices(request, user),
                       users=active_users())


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
    initial: dict[str, Any] = {"time_zone": _zone(user.timezone).key}
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
            start = start.astimezone(_zone(initial["time_zone"]))
        start = start.replace(tzinfo=None)
        initial.update(start=start, end=start + length)
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not user.can_contribute:
        return _forbidden(request, None, _("Your role does not allow arranging meetings; ask a coordinator."))
    if request.method == "POST":
        form = _meeting_form(request, user, request.POST)
        if form.is_valid():
            try:
                meeting = services.do_create_meeting(
                    user, services.MeetingInput(**_meeting_input(form, user)), _address(request))
            except ServiceError as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, _("The meeting was created."))
                return redirect(meeting_url(meeting))
    else:
        form = _meeting_form(request, user, initial=_prefill(request, user))
    return render(request, "consultations/meeting_form.html", {"form": form, "meeting": None},
                  status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    meeting = _meeting(user, pk)
    if not queries.may_organise(user, meeting):
        return _forbidden(request, meeting, _("Only the organisers of this meeting may change it."))
    if meeting.status == MeetingStatus.CANCELLED:
        messages.error(request, _("This meeting has been cancelled and can no longer be changed."))
        return redirect(meeting_url(meeting))
    note_labels(request, meeting.label)
    home = _zone(meeting.time_zone)
    series = _visible_series(user, meeting)
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
            try:
                changes = _meeting_input(form, user)
                if series is None and meeting.series_id is not None and changes["series"] is None:
                    del changes["series"]  # a series the editor may not see is kept, not silently dropped
                services.do_update_meeting(user, meeting, _address(request), **changes)
            except ServiceError as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, _("The meeting was saved."))
                return redirect(meeting_url(meeting))
    else:
        form = _meeting_form(request, user, initial=initial)
        audit.record(user.username, "read", "meeting", [meeting.pk], meeting.label_id, _address(request))
    return render(request, "consultations/meeting_form.html", {"form": form, "meeting": meeting},
                  status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    meeting = _meeting(user, pk)
    if not queries.may_organise(user, meeting):
        return _forbidden(request, meeting, _("Only the organisers of this meeting may cancel it."))
    if meeting.status == MeetingStatus.CANCELLED:
        messages.info(request, _("This meeting has already been cancelled."))
        return redirect(meeting_url(meeting))
    note_labels(request, meeting.label)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.do_cancel_meeting(user, meeting, form.cleaned_data["reason"], _address(request))
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The meeting was cancelled. Calendars that subscribed will show it as "
                                        "cancelled."))
            return redirect(meeting_url(meeting))
    return render(request, "consultations/meeting_cancel.html",
                  {"form": form, "meeting": meeting, **_marking(meeting.label),
                   "home_time": _span(meeting.start, meeting.end, _zone(meeting.time_zone))},
                  status=400 if form.is_bound else 200)


# --- agenda --------------------------------------------------------------------------------------------------------

def _organiser_only(request: HttpRequest, meeting: Meeting, what: str) -> HttpResponse | None:
    user = signed_in_user(request)
    if not queries.may_organise(user, meeting):
        return _forbidden(request, meeting, what)
    if meeting.status == MeetingStatus.CANCELLED:
        messages.error(request, _("This meeting has been cancelled and can no longer be changed."))
        return redirect(meeting_url(meeting))
    return None


def _report_choices(request: HttpRequest, user: User, linked: Iterable[int] = ()) -> list[tuple[int, str]]:
    """The most recent visible reports, and those already linked that the editor may see; their labels are noted
    because their titles are shown."""
    visible = Report.objects.visible_to(subject_for(user)).select_related("label")
    recent = list(visible.filter(status=ReportStatus.ACTIVE).order_by("-created_at", "-id")[:MAX_REPORT_CHOICES])
    have = {r.pk for r in recent}
    recent += list(visible.filter(pk__in=[pk for pk in linked if pk not in have]))
    note_labels(request, *(r.label for r in recent))
    return [(r.pk, f"{r.title} [{label_display(label_of(r.label))}]") for r in recent]


def _reports(user: User, ids: Iterable[int]) -> list[Report]:
    wanted = sorted(set(ids))
    found = list(Report.objects.visible_to(subject_for(user)).filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise ServiceError(_("no such report"), "reports")
    return found


def _item_form_page(request: HttpRequest, meeting: Meeting, form: Any, template: str, **extra: Any) -> HttpResponse:
    context = {"form": form, "meeting": meeting, **_marking(meeting.label), **extra}
    return render(request, template, context, status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def agenda_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    meeting = _meeting(user, pk)
    refused = _organiser_only(request, meeting, _("Only the organisers of this meeting may change its agenda."))
    if refused is not None:
        return refused
    note_labels(request, meeting.label)
    choices = _report_choices(request, user)
    initial = {"label": label_of(meeting.label)}
    form = AgendaItemForm(request.POST or None, user=user, report_choices=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cycle_item = services.do_add_agenda_item(
                user, meeting, data["title"], data["label"], presenter=data["presenter"],
                duration_minutes=data["duration_minutes"], reports=_reports(user, data["reports"]),
                address=_address(request))
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The agenda item was added."))
            return redirect(meeting_url(meeting, f"item-{cycle_item.pk}"))
    return _item_form_page(request, meeting, form, "consultations/meeting_agenda_form.html", item=None)


@login_required
@require_http_methods(["GET", "POST"])
def agenda_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    user = signed_in_user(request)
    meeting = _meeting(user, pk)
    refused = _organiser_only(request, meeting, _("Only the organisers of this meeting may change its agenda."))
    if refused is not None:
        return refused
    item = _visible(AgendaItem, user, meeting, item_pk)
    note_labels(request, meeting.label, item.label)
    linked = list(item.reports.values_list("pk", flat=True))
    choices = _report_choices(request, user, linked)
    offered = {pk for pk, _t in choices}
    initial = {"title": item.title, "presenter": item.presenter, "duration_minutes": item.duration_minutes,
               "label": label_of(item.label), "reports": [pk for pk in linked if pk in offered]}
    form = AgendaItemForm(request.POST or None, user=user, report_choices=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes: dict[str, Any] = {"title": data["title"], "presenter": data["presenter"],
                                   "duration_minutes": data["duration_minutes"], "label": data["label"]}
        # Links to reports this editor may not see are not theirs to remove, nor to know about: with such links the
        # list is left as it is (the service would refuse them as "no such report").
        hidden = any(pk not in offered for pk in linked)
        try:
            if set(data["reports"]) != {pk for pk in linked if pk in offered}:
                if hidden:
                    raise ServiceError(_("this item also links reports you may not see, so only someone who sees "
                                         "them all may change its links"), "reports")
                changes["reports"] = _reports(user, data["reports"])
            services.do_update_agenda_item(user, item, _address(request), **changes)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The agenda item was saved."))
            return redirect(meeting_url(meeting, f"item-{item.pk}"))
    return _item_form_page(request, meeting, form, "consultations/meeting_agenda_form.html", item=item,
                           item_marking=_marking(item.label))


@login_required
@require_http_methods(["GET", "POST"])
def agenda_delete(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    user = signed_in_user(request)
    meeting = _meeting(user, pk)
    refused = _organiser_only(request, meeting, _("Only the organisers of this meeting may change its agenda."))
    if refused is not None:
        return refused
    item = _visible(AgendaItem, user, meeting, item_pk)
    note_labels(request, meeting.label, item.label)
    error = ""
    if request.method == "POST":
        try:
            services.do_delete_agenda_item(user, item, _address(request))
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(request, _("The agenda item was removed."))
            return redirect(meeting_url(meeting, "agenda"))
    return render(request, "consultations/meeting_agenda_delete.html",
                  {"meeting": meeting, "item": item, "error": error, **_marking(item.label)},
                  status=400 if error else 200)


@login_required
@require_POST
def agenda_move(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Move the item one place up or down among the items this organiser sees."""
    user = signed_in_user(request)
    meeting = _meeting(user, pk)
    refused = _organiser_only(request, meeting, _("Only the organisers of this meeting may change its agenda."))
    if refused is not None:
        return refused
    item = _visible(AgendaItem, user, meeting, item_pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        items = queries.agenda_for(user, meeting)
        index = next((n for n, i in enumerate(items) if i.pk == item.pk), None)
        step = -1 if form.cleaned_data["direction"] == "up" else 1
        if index is not None and 0 <= index + step < len(items):
            # The service puts the item at the neighbour's place and shifts the others (the neighbour included).
            try:
                services.do_update_agenda_item(user, item, _address(request), order=items[index + step].order)
            except ServiceError as exc:
                messages.error(request, exc.message)
    return redirect(meeting_url(meeting, f"item-{item.pk}"))


def _publish(request: HttpRequest, pk: int, action: Callable[[User, Meeting, str], Meeting], done: str,
             anchor: str) -> HttpResponse:
    user = signed_in_user(request)
    meeting = _meeting(user, pk)
    try:
        action(user, meeting, _address(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(meeting_url(meeting, anchor))


@login_required
@require_POST
def agenda_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _publish(request, pk, services.do_publish_agenda,
                    _("The agenda was published: the attendees can now read it."), "agenda")


@login_required
@require_POST
def agenda_unpublish(request: HttpRequest, pk: int) -> HttpResponse:
    return _publish(request, pk, services.do_unpublish_agenda,
                    _("The agenda is a draft again: only the organisers can read it."), "agenda")


# --- minutes and decisions -----------------------------------------------------------------------------------------

def _item_choices(request: HttpRequest, user: User, meeting: Meeting) -> list[tuple[int, str]]:
    items = queries.agenda_for(user, meeting)
    note_labels(request, *(i.label for i in items))
    return [(i.pk, f"{n}. {i.title}") for n, i in enumerate(items, start=1)]  # numbered among what the user sees


def _agenda_item(user: User, meeting: Meeting, pk: int | None) -> AgendaItem | None:
    if pk is None:
        return None
    found = AgendaItem.objects.visible_to(subject_for(user)).filter(meeting=meeting, pk=pk).first()
    if found is None:
        raise ServiceError(_("no such agenda item"), "agenda_item")
    return found


def _add_part(request: HttpRequest, pk: int, form_class: type[MinutesForm] | type[DecisionForm],
              write: Callable[..., MinutesPart | Decision], refusal: str, saved: str, anchor: str,
              template: str) -> HttpResponse:
    """Add a minutes part or a decision (the same form: text, label, optional agenda item ?item= preselected)."""
    user = signed_in_user(request)
    meeting = _meeting(user, pk)
    refused = _organiser_only(request, meeting, refusal)
    if refused is not None:
        return refused
    note_labels(request, meeting.label)
    choices = _item_choices(request, user, meeting)
    raw_item = request.GET.get("item", "")
    initial = {"label": label_of(meeting.label),
               "agenda_item": int(raw_item) if raw_item.isdigit() and int(raw_item) in dict(choices) else None}
    form = form_class(request.POST or None, user=user, item_choices=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = write(user, meeting, data["text"], data["label"],
                           _agenda_item(user, meeting, data["agenda_item"]), _address(request))
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, saved)
            return redirect(meeting_url(meeting, f"{anchor}-{record.pk}"))
    return _item_form_page(request, meeting, form, template)


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
    meeting = _meeting(user, pk)
    refused = _organiser_only(request, meeting, refusal)
    if refused is not None:
        return refused
    part = _visible(model, user, meeting, part_pk)
    note_labels(request, meeting.label, part.label)
    update = services.do_update_minutes if model is MinutesPart else services.do_update_decision
    delete = services.do_delete_minutes if model is MinutesPart else services.do_delete_decision
    if request.method == "POST" and "delete" in request.POST:
        try:
            delete(user, part, _address(request))  # type: ignore[arg-type]
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect(meeting_url(meeting, f"{anchor}-{part.pk}"))
        messages.success(request, removed)
        return redirect(meeting_url(meeting, "minutes"))
    choices = _item_choices(request, user, meeting)
    initial = {"label": label_of(part.label), "text": part.text,
               "agenda_item": part.agenda_item_id if part.agenda_item_id in dict(choices) else None}
    form = form_class(request.POST or None, user=user, item_choices=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changes: dict[str, Any] = {"text": data["text"], "label": data["label"]}
            if part.agenda_item_id is None or part.agenda_item_id in dict(choices):
                # An item the editor may not see stays as it is.
                changes["agenda_item"] = _agenda_item(user, meeting, data["agenda_item"])
            update(user, part, _address(request), **changes)  # type: ignore[arg-type]
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, saved)
            return redirect(meeting_url(meeting, f"{anchor}-{part.pk}"))
    return _item_form_page(request, meeting, form, template, part=part, part_marking=_marking(part.label))


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
    return _publish(request, pk, services.do_publish_minutes,
                    _("The minutes were published: the attendees can now read them."), "minutes")


@login_required
@require_POST
def minutes_unpublish(request: HttpRequest, pk: int) -> HttpResponse:
    return _publish(request, pk, services.do_unpublish_minutes,
                    _("The minutes are a draft again: only the organisers can read them."), "minutes")


# --- actions -------------------------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def action_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    meeting = _meeting(user, pk)
    refused = _organiser_only(request, meeting, _("Only the organisers of this meeting may record its actions."))
    if refused is not None:
        return refused
    note_labels(request, meeting.label)
    choices = _item_choices(request, user, meeting)
    form = ActionForm(request.POST or None, user=user, users=active_users(), item_choices=choices,
                      initial={"label": label_of(meeting.label)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        owner_user, owner_org = form.owner_pair()
        try:
            action = services.do_create_action(
                user, data["title"], data["label"], meeting=meeting, owner_user=owner_user,
                owner_organisation=owner_org, due=data["due"],
                agenda_item=_agenda_item(user, meeting, data["agenda_item"]), notes=data["notes"],
                address=_address(request))
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The action was recorded."))
            return redirect(meeting_url(meeting, f"action-{action.pk}"))
    return _item_form_page(request, meeting, form, "consultations/meeting_action_form.html", action=None)


@login_required
@require_http_methods(["GET", "POST"])
def action_edit(request: HttpRequest, pk: int, action_pk: int) -> HttpResponse:
    user = signed_in_user(request)
    meeting = _meeting(user, pk)
    refused = _organiser_only(request, meeting, _("Only the organisers of this meeting may change its actions."))
    if refused is not None:
        return refused
    action = _visible(ActionItem, user, meeting, action_pk)
    note_labels(request, meeting.label, action.label)
    choices = _item_choices(request, user, meeting)
    owner = f"user:{action.owner_user_id}" if action.owner_user_id else f"org:{action.owner_organisation_id}"
    initial = {"title": action.title, "owner": owner, "due": action.due, "label": label_of(action.label),
               "notes": action.notes,
               "agenda_item": action.agenda_item_id if action.agenda_item_id in dict(choices) else None}
    form = ActionForm(request.POST or None, user=user, users=active_users(), item_choices=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        owner_user, owner_org = form.owner_pair()
        try:
            changes: dict[str, Any] = {"title": data["title"], "due": data["due"], "label": data["label"],
                                       "notes": data["notes"], "owner_user": owner_user,
                                       "owner_organisation": owner_org}
            if action.agenda_item_id is None or action.agenda_item_id in dict(choices):
                changes["agenda_item"] = _agenda_item(user, meeting, data["agenda_item"])
            services.do_update_action(user, action, _address(request), **changes)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The action was saved."))
            return redirect(meeting_url(meeting, f"action-{action.pk}"))
    return _item_form_page(request, meeting, form, "consultations/meeting_action_form.html", action=action,
                           action_marking=_marking(action.label))


@login_required
@require_POST
def action_status(request: HttpRequest, pk: int, action_pk: int) -> HttpResponse:
    """The owner or an organiser moves an action along (the status select beside each action)."""
    user = signed_in_user(request)
    meeting = _meeting(user, pk)
    action = _visible(ActionItem, user, meeting, action_pk)
    form = ActionStatusForm(request.POST, prefix=f"a{action.pk}")
    if not form.is_valid():
        form = ActionStatusForm(request.POST)  # a client posting the plain field name (tests, scripts)
    if form.is_valid():
        try:
            services.do_set_action_status(user, action, form.cleaned_data["status"], _address(request))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            names = dict(ActionStatus.choices)
            messages.success(request, _("The action is now: %(status)s.")
                             % {"status": names[form.cleaned_data["status"]]})
    else:
        messages.error(request, _("Choose one of the statuses in the list."))
    return redirect(meeting_url(meeting, f"action-{action.pk}"))
