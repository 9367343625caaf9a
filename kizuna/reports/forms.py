"""Forms of the report pages: the list filters, create/edit (with the label picker), comments, attachments, withdraw.

Forms only shape input; every rule about labels and rights is enforced by ``kizuna.reports.services``, whose
``ServiceError`` is shown on the form field it names (``apply_service_error``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kizuna.core.errors import ServiceError
from kizuna.core.focus import FocusArea
from kizuna.directory.models import Organisation, User
from kizuna.reports.models import ReportKind
from kizuna.reports.services import ALLOWED_EXTENSIONS
from kizuna.web import shortcuts
from kizuna.web.labelpicker import LabelPickerField

_ALLOWED = format_lazy(_("Allowed types: {}"), ", ".join(ALLOWED_EXTENSIONS))
STATUS_CHOICES = [("active", _("Active")), ("withdrawn", _("Withdrawn")), ("all", _("All"))]


class ReportFilterForm(forms.Form):
    """The list's GET form. Unknown values are form errors (shown), never a server error."""

    q = forms.CharField(label=_("Search title and summary"), required=False, max_length=200)
    focus_area = forms.ChoiceField(label=_("Focus area"), required=False,
                                   choices=[("", _("Any focus area")), *FocusArea.choices])
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any kind")), *ReportKind.choices])
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)
    originator = forms.ChoiceField(label=_("Originating organisation"), required=False)
    cursor = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The directory is not labelled: listing organisations reveals nothing about reports.
        orgs = [(o.code, o.display_name) for o in Organisation.objects.order_by("name")]
        self.fields["originator"].choices = [("", _("Any organisation")), *orgs]  # type: ignore[attr-defined]


# Maps a service's field name to this module's form field names.
_FIELD_ALIASES = {"file": "attachment", "focus_area": "focus_areas", "body": "body"}


def apply_service_error(form: forms.Form, error: ServiceError) -> None:
    shortcuts.apply_service_error(form, error, _FIELD_ALIASES)


class ReportForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    body = forms.CharField(
        label=_("Body (Markdown)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "class": "markdown"}),
        help_text=_("Markdown: **bold**, *italic*, lists, links, tables. HTML is not allowed and is removed."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=ReportKind.choices, initial=ReportKind.REPORT)
    focus_areas = forms.MultipleChoiceField(
        label=_("Focus areas"), required=False, choices=FocusArea.choices, widget=forms.CheckboxSelectMultiple
    )
    label = LabelPickerField(label=_("Label"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["label"]
        assert isinstance(field, LabelPickerField)
        field.set_user(user)


class ReportCreateForm(ReportForm):
    attachment = forms.FileField(
        label=_("Attachment (optional)"),
        required=False,
        help_text=_ALLOWED,
    )


class AttachmentForm(forms.Form):
    attachment = forms.FileField(label=_("File"), help_text=_ALLOWED)


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), max_length=20000, widget=forms.Textarea(attrs={"rows": 4}))


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=190,
                             widget=forms.Textarea(attrs={"rows": 3}))
