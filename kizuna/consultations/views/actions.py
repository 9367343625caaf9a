"""Action items: "my actions" (the actions the user or the user's organisation owns, by tab, with status buttons) and,
on one meeting, the forms that record and change its actions and the status select beside each.

Each row of "my actions" is made here, not by a template include per row (the page must answer in under 100 ms with
100,000 actions); an action's meeting and series are named only when their own labels are visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kizuna.consultations import queries, services
from kizuna.consultations.forms import (
    MyActionStatusForm,
)
from kizuna.consultations.meeting_forms import (
    SERVICE_FIELDS,
    ActionForm,
    ActionStatusForm,
    active_users,
)
from kizuna.consultations.models import ActionItem, ActionStatus, Meeting
from kizuna.consultations.views.common import (
    Chips,
    RowUrls,
    chosen_agenda_item,
    fmt,
    item_choices,
    item_form_page,
    marking,
    meeting_url,
    organisers_only,
    person,
    save_form,
    viewer_zone,
    zone_context,
)
from kizuna.core import audit
from kizuna.core.access import VisibleLabels, get_visible_or_404, label_of, visible_labels
from kizuna.core.errors import ServiceError
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.web.banner import note_labels
from kizuna.web.shortcuts import signed_in_user

ACTION_PAGE = 50
# The status buttons say what they do. "Start" has a context: threats/geo's event form uses "Start" as a field label,
# and catalogs of different apps are merged (the app listed first wins), so the button's verb needs its own msgid.
_MOVES: dict[str, Any] = {ActionStatus.OPEN: gettext_lazy("Reopen"),
          ActionStatus.IN_PROGRESS: pgettext_lazy("action status button", "Start"),
          ActionStatus.DONE: gettext_lazy("Mark done"), ActionStatus.DROPPED: gettext_lazy("Drop")}
ACTION_TABS = [("open", gettext_lazy("Open")), ("overdue", gettext_lazy("Overdue")), ("done", gettext_lazy("Done")),
               ("all", gettext_lazy("All"))]


@dataclass
class RowKit:
    """What every action row of a page shares, made once: URL makers, the CSRF token, the words."""

    csrf: str = ""
    tab: str = ""
    meeting_url: RowUrls = field(default_factory=lambda: RowUrls("consultations:meeting"))
    series_url: RowUrls = field(default_factory=lambda: RowUrls("consultations:series"))
    status_url: RowUrls = field(default_factory=lambda: RowUrls("consultations:my_action_status"))
    overdue_flag: str = ""
    day_format: str = ""
    status_names: dict[str, str] = field(default_factory=dict)
    days: dict[date, str] = field(default_factory=dict)
    buttons: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.overdue_flag = format_html(' <span class="flag-overdue" data-testid="overdue">{}</span>',
                                        gettext("Overdue"))
        self.day_format = "DAY_DATE_FORMAT"
        self.status_names = {value: str(name) for value, name in ActionStatus.choices}
        if self.csrf:
            # Each status button escaped once per page with a placeholder id; a row only puts its id in.
            probe = self.status_url(RowUrls.PLACEHOLDER)
            self.buttons = {value: format_html(
                '<form method="post" action="{}" class="inline-form"><input type="hidden" name="csrfmiddlewaretoken" '
                'value="{}"><input type="hidden" name="status" value="{}"><input type="hidden" name="tab" value="{}">'
                '<button type="submit" class="button button--small" data-testid="set-{}">{}</button></form>',
                probe, self.csrf, value, self.tab, value, _MOVES[value]) for value in ActionStatus.values}

    def day(self, value: date) -> str:
        shown = self.days.get(value)
        if shown is None:
            shown = self.days[value] = fmt(value, self.day_format)
        return shown

    def status_buttons(self, pk: int, status: str) -> str:
        html = "".join(b for value, b in self.buttons.items() if value != status)
        # The markup was escaped by format_html above; the only value put in is the row's integer id.
        return mark_safe(html.replace(str(RowUrls.PLACEHOLDER), str(int(pk))))  # noqa: S308


def action_row(action: ActionItem, today: date, visible: VisibleLabels, chips: Chips,
                kit: RowKit) -> dict[str, Any]:
    """An action as a list shows it, with the row's markup made here (no include per row: "my actions" must answer
    in under 100 ms with 100,000 actions). Its meeting and series (already joined) are named only when their own
    labels are visible. With ``kit.csrf`` the row has the status buttons."""
    meeting = action.meeting if action.meeting is not None and action.meeting.label_id in visible else None
    series = action.series if action.series is not None and action.series.label_id in visible else None
    owner = person(action.owner_user) if action.owner_user is not None else (
        action.owner_organisation.display_name if action.owner_organisation is not None else "")
    overdue = queries.is_overdue(action, today)
    links = [format_html('<a href="{}">{}</a>', kit.meeting_url(meeting.pk), meeting.title)] if meeting else []
    if series is not None:
        links.append(format_html('<a class="muted" href="{}">{}</a>', kit.series_url(series.pk), series.title))
    due = (format_html('<time datetime="{}">{}</time>', action.due.isoformat(), kit.day(action.due))
           if action.due else "—")
    html = format_html(
        '<tr class="{}" data-testid="action-row" data-action="{}"><td>{}{}</td><td>{}</td>'
        '<td><span class="action-status action-status--{}">{}</span></td><td>{}</td><td>{}</td><td>{}</td>{}</tr>',
        "action--overdue" if overdue else "", action.pk, action.title, kit.overdue_flag if overdue else "", due,
        action.status, kit.status_names.get(action.status, action.status), owner,
        format_html("{}<br>{}", *links) if len(links) == 2 else (links[0] if links else "—"), chips(action.label)["html"],
        format_html('<td class="table__actions">{}</td>', kit.status_buttons(action.pk, action.status))
        if kit.csrf else "",
    )
    return {"action": action, "overdue": overdue, "html": html}


@login_required
@require_GET
def my_actions(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    subject = subject_for(user)
    zone = viewer_zone(user)
    today = timezone.now().astimezone(zone).date()
    # "state" is the API's name for the same choice; both are accepted.
    tab = request.GET.get("tab") or request.GET.get("state") or "open"
    if tab not in dict(ACTION_TABS):
        tab = "open"
    cursor = request.GET.get("cursor") or None
    error = ""
    try:
        page = queries.my_actions(user, state=tab, today=today, cursor=cursor, limit=ACTION_PAGE, subject=subject)
    except (ServiceError, ValueError):
        page, error = queries.ActionPage([], None), _("This page of actions does not exist any more; start again.")
    visible = visible_labels(subject)
    chips = Chips()
    kit = RowKit(csrf=get_token(request), tab=tab)
    rows = [action_row(a, today, visible, chips, kit) for a in page.items]
    note_labels(request, *(a.label for a in page.items))
    if page.items:
        audit.record(user.username, "list", "action", [a.pk for a in page.items], None, audit.client_address(request),
                     {"tab": tab})
    base = reverse("consultations:my_actions")
    return render(request, "consultations/my_actions.html", {
        "rows": rows, "tab": tab, "error": error,
        "tabs": [{"key": key, "name": name, "url": f"{base}?{urlencode({'tab': key})}", "current": key == tab}
                 for key, name in ACTION_TABS],
        "next_url": f"{base}?{urlencode({'tab': tab, 'cursor': page.next_cursor})}" if page.next_cursor else "",
        "first_url": f"{base}?{urlencode({'tab': tab})}" if cursor else "",
        "today": fmt(today, "DAY_DATE_FORMAT"),
        **zone_context(zone),
    }, status=400 if error else 200)


@login_required
@require_POST
def my_action_status(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    action = queries.get_action_or_404(user, pk)
    form = MyActionStatusForm(request.POST)
    tab = "open"
    if form.is_valid():
        tab = form.cleaned_data["tab"] if form.cleaned_data["tab"] in dict(ACTION_TABS) else "open"
        try:
            action = services.do_set_action_status(user, action, form.cleaned_data["status"],
                                                   audit.client_address(request))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("“%(title)s” is now %(status)s.") % {
                "title": action.title, "status": action.get_status_display()})
    else:
        messages.error(request, _("Unknown status; nothing was changed."))
    return redirect(f"{reverse('consultations:my_actions')}?{urlencode({'tab': tab})}")


# --- the actions of one meeting ---------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
@organisers_only(gettext_lazy("Only the organisers of this meeting may record its actions."))
def action_add(request: HttpRequest, user: User, meeting: Meeting) -> HttpResponse:
    note_labels(request, meeting.label)
    choices = item_choices(request, user, meeting)
    form = ActionForm(request.POST or None, user=user, users=active_users(), item_choices=choices,
                      initial={"label": label_of(meeting.label)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        owner_user, owner_org = form.owner_pair()
        saved = save_form(request, form, lambda: services.do_create_action(
            user, data["title"], data["label"], meeting=meeting, owner_user=owner_user,
            owner_organisation=owner_org, due=data["due"],
            agenda_item=chosen_agenda_item(user, meeting, data["agenda_item"]), notes=data["notes"],
            address=audit.client_address(request)),
            _("The action was recorded."), lambda action: meeting_url(meeting, f"action-{action.pk}"), SERVICE_FIELDS)
        if saved is not None:
            return saved
    return item_form_page(request, meeting, form, "consultations/meeting_action_form.html", action=None)


@login_required
@require_http_methods(["GET", "POST"])
@organisers_only(gettext_lazy("Only the organisers of this meeting may change its actions."))
def action_edit(request: HttpRequest, user: User, meeting: Meeting, action_pk: int) -> HttpResponse:
    action = get_visible_or_404(ActionItem, subject_for(user), meeting=meeting, pk=action_pk)
    note_labels(request, meeting.label, action.label)
    choices = item_choices(request, user, meeting)
    owner = f"user:{action.owner_user_id}" if action.owner_user_id else f"org:{action.owner_organisation_id}"
    initial = {"title": action.title, "owner": owner, "due": action.due, "label": label_of(action.label),
               "notes": action.notes,
               "agenda_item": action.agenda_item_id if action.agenda_item_id in dict(choices) else None}
    form = ActionForm(request.POST or None, user=user, users=active_users(), item_choices=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        owner_user, owner_org = form.owner_pair()

        def write() -> ActionItem:
            changes: dict[str, Any] = {"title": data["title"], "due": data["due"], "label": data["label"],
                                       "notes": data["notes"], "owner_user": owner_user,
                                       "owner_organisation": owner_org}
            if action.agenda_item_id is None or action.agenda_item_id in dict(choices):
                changes["agenda_item"] = chosen_agenda_item(user, meeting, data["agenda_item"])
            return services.do_update_action(user, action, audit.client_address(request), **changes)

        saved = save_form(request, form, write, _("The action was saved."),
                          lambda _action: meeting_url(meeting, f"action-{action.pk}"), SERVICE_FIELDS)
        if saved is not None:
            return saved
    return item_form_page(request, meeting, form, "consultations/meeting_action_form.html", action=action,
                          action_marking=marking(action.label))


@login_required
@require_POST
def action_status(request: HttpRequest, pk: int, action_pk: int) -> HttpResponse:
    """The owner or an organiser moves an action along (the status select beside each action)."""
    user = signed_in_user(request)
    meeting = queries.get_meeting_or_404(user, pk)
    action = get_visible_or_404(ActionItem, subject_for(user), meeting=meeting, pk=action_pk)
    form = ActionStatusForm(request.POST, prefix=f"a{action.pk}")
    if not form.is_valid():
        form = ActionStatusForm(request.POST)  # a client posting the plain field name (tests, scripts)
    if form.is_valid():
        try:
            services.do_set_action_status(user, action, form.cleaned_data["status"], audit.client_address(request))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            names = dict(ActionStatus.choices)
            messages.success(request, _("The action is now: %(status)s.")
                             % {"status": names[form.cleaned_data["status"]]})
    else:
        messages.error(request, _("Choose one of the statuses in the list."))
    return redirect(meeting_url(meeting, f"action-{action.pk}"))
