"""Forms of one meeting's pages: the meeting itself (create, edit, cancel), agenda items, minutes parts, decisions,
action items (add, edit, status) and the RSVP buttons.

Forms only shape input. Every rule about labels, organisers, attendees and time zones is enforced by
``kizuna.consultations.services``, whose ``ServiceError`` the views show on the field it names
(``kizuna.web.shortcuts.apply_service_error`` with ``SERVICE_FIELDS``). Choices that list labelled records (series,
agenda items, reports) are built by the views from ``visible_to`` reads and passed in, so a form never lists what its
user may not see.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.utils.translation import gettext_lazy as _

from kizuna.consultations.models import ActionStatus, MeetingMode, Rsvp
from kizuna.directory.models import Nation, Organisation, User
from kizuna.web.labelpicker import LabelPickerField

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> posts and shows

# A service's field name -> this module's form field name, where they differ.
# The service field a refusal names, by the form field it is shown on (``web.shortcuts.apply_service_error``).
SERVICE_FIELDS = {"owner_user": "owner", "owner_organisation": "owner", "duration": "duration_minutes",
                  "agenda_item": "agenda_item", "reason": "reason", "answer": "answer"}


@lru_cache(maxsize=1)
def _zones() -> tuple[tuple[str, str], ...]:
    # Region/City keys and UTC; the old aliases without a region (EST5EDT, Japan, ...) only clutter the list.
    return tuple((z, z.replace("_", " ")) for z in sorted(available_timezones()) if "/" in z or z == "UTC")


def zone_choices() -> list[tuple[str, str]]:
    """The IANA zones of the installed tz database, sorted by name."""
    return list(_zones())


class LocalDateTimeField(forms.CharField):
    """A wall-clock date and time, *without* a zone: the meeting's home zone (another field) gives it one, in the
    service. Django's DateTimeField would read it in the viewer's zone instead, which is not what was typed."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMAT)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.replace(tzinfo=None).strftime(LOCAL_FORMAT)
        return value

    def to_python(self, value: Any) -> datetime | None:  # type: ignore[override]
        text = str(super().to_python(value) or "").strip()
        if not text:
            return None
        try:
            parsed = datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError:
            raise forms.ValidationError(_("Enter a date and time such as 2026-06-02 09:00."), code="invalid") from None
        return parsed.replace(tzinfo=None, second=0, microsecond=0)


class ZoneField(forms.ChoiceField):
    """An IANA zone picked from the list. Any posted value passes the form so that the service, the one judge of time
    zones, answers an unknown one with its own message (naming the field)."""

    def valid_value(self, value: Any) -> bool:
        return True


def user_choice(user: User) -> tuple[str, str]:
    full = user.get_full_name()
    name = f"{full} — {user.username}" if full else user.username
    where = ", ".join(x for x in (user.nation_id or "", user.organisation.code if user.organisation else "") if x)
    return str(user.pk), name + (f" ({where})" if where else "")


class AttendeeWidget(forms.CheckboxSelectMultiple):
    """Tick boxes, one per person, each carrying the person's nation and organisation (``data-nation``,
    ``data-org``) so ``attendees.js`` can filter the list as one types and tick a whole group at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people: dict[str, dict[str, str]] = {}

    def create_option(self, name: str, value: Any, label: Any, selected: Any, index: int,
                      subindex: int | None = None, attrs: dict[str, Any] | None = None) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["attrs"].update(self.people.get(str(value), {}))
        return option


def group_choices(users: Iterable[User]) -> list[tuple[str, str]]:
    """"Everyone of Japan", "everyone of JPN-MOD": the nations and organisations of the people who can be invited.
    The directory is not labelled (``directory.disclosure``): naming its groups reveals no record."""
    nations: dict[str, str] = {}
    organisations: dict[str, str] = {}
    for user in users:
        if user.nation_id:
            nations[str(user.nation_id)] = str(user.nation_id)
        if user.organisation is not None:
            organisations[user.organisation.code] = f"{user.organisation.display_name} ({user.organisation.code})"
    names = {n.code: n.localised_name for n in Nation.objects.filter(code__in=list(nations))}
    return ([(f"nation:{code}", f"{names.get(code, code)} ({code})") for code in sorted(nations)]
            + [(f"org:{code}", name) for code, name in sorted(organisations.items(), key=lambda x: x[1])])


def members_of(groups: Iterable[str], users: Iterable[User]) -> list[int]:
    """The people (ids) of the chosen groups, among ``users``."""
    nations = {g.removeprefix("nation:") for g in groups if g.startswith("nation:")}
    organisations = {g.removeprefix("org:") for g in groups if g.startswith("org:")}
    return [u.pk for u in users if (u.nation_id and u.nation_id in nations)
            or (u.organisation is not None and u.organisation.code in organisations)]


def active_users() -> list[User]:
    """People who can be invited or own an action. The directory is not labelled: listing it reveals no record."""
    return list(User.objects.filter(is_active=True).select_related("organisation").order_by("nation_id", "username"))


class _LabelledForm(forms.Form):
    label = LabelPickerField(label=_("Label"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["label"]
        assert isinstance(field, LabelPickerField)
        field.set_user(user)


class MeetingForm(_LabelledForm):
    title = forms.CharField(label=_("Title"), max_length=300)
    series = forms.TypedChoiceField(label=_("Series"), required=False, coerce=int, empty_value=None)
    time_zone = ZoneField(label=_("Home time zone"),
                          help_text=_("The start and end below are read as local time in this zone."))
    start = LocalDateTimeField(label=_("Start (local time in the home zone)"))
    end = LocalDateTimeField(label=_("End (local time in the home zone)"))
    mode = forms.ChoiceField(label=_("Mode"), choices=MeetingMode.choices, initial=MeetingMode.VIRTUAL)
    place = forms.CharField(label=_("Place"), required=False, max_length=300,
                            help_text=_("Needed in person or hybrid."))
    link = forms.CharField(label=_("Video link (https://…)"), required=False, max_length=500,
                           help_text=_("Needed when virtual or hybrid."))
    attendees = forms.TypedMultipleChoiceField(
        label=_("Attendees"), required=False, coerce=int, widget=AttendeeWidget,
        help_text=_("Everyone invited must be able to see the meeting's label."),
    )
    attendee_groups = forms.MultipleChoiceField(
        label=_("Invite everyone of a nation or an organisation"), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Adds every active person of the group to the attendees."),
    )

    field_order = ["title", "series", "time_zone", "start", "end", "mode", "place", "link", "attendees",
                   "attendee_groups", "label"]

    def __init__(self, *args: Any, user: User, series_choices: Iterable[tuple[int, str]],
                 users: Iterable[User], **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["series"].choices = [("", _("— no series —")), *series_choices]  # type: ignore[attr-defined]
        self.fields["time_zone"].choices = zone_choices()  # type: ignore[attr-defined]
        self.users = list(users)
        attendees = self.fields["attendees"]
        attendees.choices = [user_choice(u) for u in self.users]  # type: ignore[attr-defined]
        widget = attendees.widget
        assert isinstance(widget, AttendeeWidget)
        widget.people = {str(u.pk): {"data-nation": u.nation_id or "",
                                     "data-org": u.organisation.code if u.organisation else ""} for u in self.users}
        self.fields["attendee_groups"].choices = group_choices(self.users)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # A group ticked without JavaScript is expanded here; with it, attendees.js has ticked its people already.
        chosen = list(data.get("attendees") or [])
        data["attendees"] = list(dict.fromkeys(chosen + members_of(data.get("attendee_groups") or [], self.users)))
        start, end = data.get("start"), data.get("end")
        # Said here too (the service says it again) so both fields' errors show in one round.
        if isinstance(start, datetime) and isinstance(end, datetime) and end <= start:
            self.add_error("end", _("the meeting must end after it starts"))
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (shown to the attendees)"), required=False, max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class AgendaItemForm(_LabelledForm):
    title = forms.CharField(label=_("Title"), max_length=300)
    presenter = forms.CharField(label=_("Presenter (person or delegation)"), required=False, max_length=200)
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), initial=15, min_value=1, max_value=1440)
    reports = forms.TypedMultipleChoiceField(
        label=_("Linked reports"), required=False, coerce=int,
        help_text=_("Each reader sees only the linked reports they may see."),
    )

    field_order = ["title", "presenter", "duration_minutes", "reports", "label"]

    def __init__(self, *args: Any, user: User, report_choices: Iterable[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        reports = self.fields["reports"]
        reports.choices = list(report_choices)  # type: ignore[attr-defined]
        reports.widget.attrs["size"] = "6"


def _item_choices(items: Iterable[tuple[int, str]], general: Any) -> list[tuple[Any, Any]]:
    return [("", general), *items]


class MinutesForm(_LabelledForm):
    agenda_item = forms.TypedChoiceField(label=_("About"), required=False, coerce=int, empty_value=None)
    text = forms.CharField(
        label=_("Minutes (Markdown)"), max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 12, "class": "markdown"}),
        help_text=_("Markdown: **bold**, *italic*, lists, links, tables. HTML is not allowed and is removed."),
    )

    field_order = ["agenda_item", "text", "label"]

    def __init__(self, *args: Any, user: User, item_choices: Iterable[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["agenda_item"].choices = _item_choices(  # type: ignore[attr-defined]
            item_choices, _("The meeting as a whole"))


class DecisionForm(MinutesForm):
    text = forms.CharField(label=_("Decision (Markdown)"), max_length=20_000,
                           widget=forms.Textarea(attrs={"rows": 5, "class": "markdown"}))


class ActionForm(_LabelledForm):
    title = forms.CharField(label=_("Action"), max_length=300)
    owner = forms.ChoiceField(label=_("Owner (a person or an organisation)"))
    due = forms.DateField(label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    agenda_item = forms.TypedChoiceField(label=_("Arising from agenda item"), required=False, coerce=int,
                                         empty_value=None)
    notes = forms.CharField(label=_("Notes (Markdown)"), required=False, max_length=20_000,
                            widget=forms.Textarea(attrs={"rows": 4}))

    field_order = ["title", "owner", "due", "agenda_item", "notes", "label"]

    def __init__(self, *args: Any, user: User, users: Iterable[User], item_choices: Iterable[tuple[int, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        people = [(f"user:{pk}", name) for pk, name in (user_choice(u) for u in users)]
        orgs = [(f"org:{o.pk}", f"{o.display_name} ({o.code})") for o in Organisation.objects.order_by("name")]
        self.fields["owner"].choices = [  # type: ignore[attr-defined]
            ("", _("— choose —")), (_("People"), people), (_("Organisations"), orgs)]
        self.fields["agenda_item"].choices = _item_choices(item_choices, _("— none —"))  # type: ignore[attr-defined]

    def owner_pair(self) -> tuple[User | None, Organisation | None]:
        """The chosen owner as (person, organisation), exactly one set."""
        kind, _sep, pk = str(self.cleaned_data.get("owner") or "").partition(":")
        if kind == "user":
            return User.objects.filter(pk=int(pk), is_active=True).first(), None
        return None, Organisation.objects.filter(pk=int(pk)).first()


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ActionStatus.choices)


class RsvpForm(forms.Form):
    answer = forms.ChoiceField(choices=[(v, n) for v, n in Rsvp.choices if v != Rsvp.PENDING])


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", _("Up")), ("down", _("Down"))])
