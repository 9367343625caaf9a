"""Forms of the consultation pages: the calendar's view and filter, a series (with the label picker and an RRULE with
presets), the scheduling assistant, and the status change of an action.

Forms only shape input; every rule about labels, zones, cadences and rights is enforced by
``kizuna.consultations.services``, whose ``ServiceError`` is shown on the form field it names
(``kizuna.web.shortcuts.apply_service_error``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kizuna.consultations.models import ActionStatus
from kizuna.consultations.timezones import CAPITALS, city_name
from kizuna.core.focus import FocusArea
from kizuna.directory.models import User
from kizuna.web.labelpicker import LabelPickerField

VIEW_CHOICES = [("month", _("Month")), ("week", _("Week")), ("list", _("List"))]
MAX_SCHEDULE_DAYS = 93  # the assistant's own limit (timezones.propose_slots)

# One-click cadences. "custom" keeps the RRULE text as typed; any other preset replaces it (works without JavaScript).
RRULE_PRESETS: list[tuple[str, Any, str]] = [
    ("weekly", _("Weekly"), "FREQ=WEEKLY"),
    ("fortnightly", _("Every two weeks"), "FREQ=WEEKLY;INTERVAL=2"),
    ("monthly", _("Monthly"), "FREQ=MONTHLY"),
    ("quarterly", _("Quarterly"), "FREQ=MONTHLY;INTERVAL=3"),
]
RRULE_EXAMPLES = [
    ("FREQ=WEEKLY;BYDAY=TU", _("every Tuesday")),
    ("FREQ=MONTHLY;BYDAY=1WE", _("the first Wednesday of each month")),
    ("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15", _("the 15th of every third month")),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;COUNT=10", _("every other Thursday, ten times")),
]


def nation_choices() -> list[tuple[str, str]]:
    """Participating nations: every nation with a capital in the time table, shown with that capital."""
    return [(code, f"{code} — {city_name(cap.city)}") for code, cap in sorted(CAPITALS.items())]


def zone_suggestions() -> list[str]:
    """The capitals' zones and UTC, offered as suggestions (any IANA name is accepted)."""
    return sorted({cap.zone for cap in CAPITALS.values()} | {"UTC"})


# Maps a service's field name to this module's form field names.
class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%H:%M")


class ChairField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.get_full_name() or obj.username} ({obj.username}, {obj.nation_id or '—'})"


class CalendarForm(forms.Form):
    """The calendar's GET parameters. Unknown values are form errors (shown), never a server error."""

    view = forms.ChoiceField(label=_("View"), required=False, choices=VIEW_CHOICES)
    date = forms.DateField(label=_("Date"), required=False, widget=DateInput)
    series = forms.TypedChoiceField(label=_("Series"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, series_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only series the viewer may see (the caller read them through visible_to).
        self.fields["series"].choices = [("", _("All series")), *series_choices]  # type: ignore[attr-defined]


class SeriesForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    focus_areas = forms.MultipleChoiceField(label=_("Focus areas"), required=False, choices=FocusArea.choices,
                                            widget=forms.CheckboxSelectMultiple)
    nations = forms.MultipleChoiceField(label=_("Participating nations"), required=False,
                                        widget=forms.CheckboxSelectMultiple)
    chair = ChairField(label=_("Chair"), required=False, queryset=User.objects.none(),
                                   to_field_name="username", empty_label=_("No chair"))
    time_zone = forms.CharField(
        label=_("Home time zone"), max_length=64, initial="Europe/Brussels",
        widget=forms.TextInput(attrs={"list": "zone-suggestions", "autocomplete": "off"}),
        help_text=_("An IANA name such as Europe/Brussels or Asia/Tokyo. The cadence keeps its wall-clock time in "
                    "this zone across summer time."),
    )
    preset = forms.ChoiceField(
        label=_("Cadence"), required=False,
        choices=[("custom", _("Custom: use the RRULE below")), *((k, t) for k, t, _r in RRULE_PRESETS)],
        help_text=_("A preset replaces the RRULE text."),
    )
    rrule = forms.CharField(
        label=_("RRULE (RFC 5545)"), required=False, max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "FREQ=WEEKLY;BYDAY=TU", "spellcheck": "false"}),
        help_text=_("Leave empty for a series without a fixed cadence."),
    )
    first_date = forms.DateField(label=_("First date"), required=False, widget=DateInput)
    start_time = forms.TimeField(label=_("Start time (home zone)"), required=False, widget=TimeInput)
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), initial=60, min_value=1, max_value=24 * 60)
    label = LabelPickerField(label=_("Label"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["label"]
        assert isinstance(field, LabelPickerField)
        field.set_user(user)
        self.fields["nations"].choices = nation_choices()  # type: ignore[attr-defined]
        # The directory is not labelled: listing people reveals nothing about consultations.
        chair = self.fields["chair"]
        assert isinstance(chair, ChairField)
        chair.queryset = User.objects.filter(is_active=True).order_by("username")

    def clean_rrule(self) -> str:
        # The preset wins over the text, as the label picker's presets do.
        preset = self.data.get(self.add_prefix("preset")) or "custom"
        for key, _title, rule in RRULE_PRESETS:
            if key == preset:
                return rule
        return str(self.cleaned_data.get("rrule") or "").strip()


class ScheduleForm(forms.Form):
    nations = forms.MultipleChoiceField(label=_("Participating nations"), widget=forms.CheckboxSelectMultiple)
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), initial=90, min_value=5, max_value=24 * 60)
    first_day = forms.DateField(label=_("First day"), widget=DateInput)
    last_day = forms.DateField(label=_("Last day"), widget=DateInput)
    work_start = forms.TimeField(label=_("Working day starts"), required=False, widget=TimeInput,
                                 help_text=_("Local time in each capital; 08:00 when empty."))
    work_end = forms.TimeField(label=_("Working day ends"), required=False, widget=TimeInput,
                               help_text=_("Local time in each capital; 18:00 when empty."))
    series = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["nations"].choices = nation_choices()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first_day"), data.get("last_day")
        if first and last:
            if last < first:
                self.add_error("last_day", _("The last day must not be before the first day."))
            elif last - first >= timedelta(days=MAX_SCHEDULE_DAYS):
                self.add_error("last_day", _("The range is limited to %(days)d days.") % {"days": MAX_SCHEDULE_DAYS})
        start, end = data.get("work_start"), data.get("work_end")
        if start and end and end <= start:
            self.add_error("work_end", _("The working day must end after it starts."))
        return data


class MyActionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionStatus.choices)
    tab = forms.CharField(required=False, max_length=20)
