"""Forms of the maritime and strategic pages: a maritime incident with its vessels, a strategic site, a strategic event.

Forms check the shape of what is typed (positions in range, IMO check digit, MMSI, flags as ISO 3166 codes, the end
not before the start, a photo that is really a small image); the rules about labels and the store are the services'
(``kizuna.threats.geo.services``), whose ``ServiceError`` is shown on the field it names.
"""

from __future__ import annotations

import re
from typing import Any

import pycountry
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from kizuna.core.errors import ServiceError
from kizuna.directory.models import User
from kizuna.threats.geo import services, stix
from kizuna.web import shortcuts
from kizuna.web.labelpicker import LabelPickerField

# The words for every kind, type and status the STIX form knows (its tuples give each list's values and order).
_WORDS = {
    "ship-to-ship-transfer": _("Ship-to-ship transfer"), "ais-dark-period": _("AIS dark period"),
    "harassment": _("Harassment"), "piracy": _("Piracy"), "illegal-fishing": _("Illegal fishing"),
    "missile-silo-field": _("Missile silo field"), "launch-site": _("Launch site"), "test-site": _("Test site"),
    "nuclear-facility": _("Nuclear facility"), "naval-base": _("Naval base"), "air-base": _("Air base"),
    "shipyard": _("Shipyard"),
    "under-construction": _("Under construction"), "operational": _("Operational"), "inactive": _("Inactive"),
    "unknown": _("Unknown"),
    "missile-test": _("Missile test"), "missile-launch": _("Missile launch"), "space-launch": _("Space launch"),
    "nuclear-test": _("Nuclear test"), "exercise": _("Exercise"), "construction": _("Construction"),
    "deployment": _("Deployment"),
    "other": _("Other"),
}
MARITIME_TYPE_CHOICES = [(value, _WORDS[value]) for value in stix.MARITIME_TYPES]
SITE_TYPE_CHOICES = [(value, _WORDS[value]) for value in stix.SITE_TYPES]
SITE_STATUS_CHOICES = [(value, _WORDS[value]) for value in stix.SITE_STATUSES]
EVENT_TYPE_CHOICES = [(value, _WORDS[value]) for value in stix.EVENT_TYPES]

_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_TIME_HELP = _("In your time zone.")


def _text(label: Any, rows: int = 3, required: bool = False, help_text: Any = "") -> forms.CharField:
    return forms.CharField(label=label, required=required, max_length=20000, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


def _latitude(required: bool = True) -> forms.FloatField:
    return forms.FloatField(label=_("Latitude"), required=required, min_value=-90, max_value=90,
                            help_text=_("Decimal degrees, north positive (e.g. 31.25)."),
                            widget=forms.NumberInput(attrs={"step": "any"}))


def _longitude(required: bool = True) -> forms.FloatField:
    return forms.FloatField(label=_("Longitude"), required=required, min_value=-180, max_value=180,
                            help_text=_("Decimal degrees, east positive (e.g. 124.5)."),
                            widget=forms.NumberInput(attrs={"step": "any"}))


# --- identifiers ------------------------------------------------------------------------------------------------------

_IMO = re.compile(r"^(?:IMO\s*)?(\d{7})$", re.IGNORECASE)
_MMSI = re.compile(r"^\d{9}$")


def clean_imo(value: str) -> str:
    """IMO ship number: seven digits, the last a check digit (digits 1-6 weighted 7..2, sum modulo 10)."""
    value = value.strip()
    if not value:
        return ""
    match = _IMO.match(value)
    if match is None:
        raise ValidationError(_("An IMO number has seven digits (e.g. IMO 9074729)."))
    digits = [int(c) for c in match.group(1)]
    if sum(d * w for d, w in zip(digits[:6], range(7, 1, -1), strict=True)) % 10 != digits[6]:
        raise ValidationError(_("This IMO number's check digit is wrong; check the number."))
    return match.group(1)


def clean_mmsi(value: str) -> str:
    """MMSI of a ship station: nine digits starting with a maritime identification digit 2-7."""
    value = value.strip().replace(" ", "")
    if not value:
        return ""
    if not _MMSI.match(value) or value[0] not in "234567":
        raise ValidationError(_("A ship's MMSI has nine digits and starts with 2 to 7."))
    return value


def country_alpha3(value: str) -> str:
    """An ISO 3166-1 country code (alpha-2 or alpha-3) as alpha-3, the form flag states are usually written in."""
    value = value.strip().upper()
    if not value:
        return ""
    country = pycountry.countries.get(alpha_3=value) if len(value) == 3 else (
        pycountry.countries.get(alpha_2=value) if len(value) == 2 else None)
    if country is None:
        raise ValidationError(_("Use an ISO 3166 country code, e.g. PRK, PAN or KP."))
    return str(country.alpha_3)


def country_alpha2(value: str) -> str:
    """STIX ``location.country`` is ISO 3166-1 alpha-2."""
    code = country_alpha3(value)
    if not code:
        return ""
    country = pycountry.countries.get(alpha_3=code)
    return str(country.alpha_2) if country is not None else ""


# --- photos -----------------------------------------------------------------------------------------------------------


def _sniff_image(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def clean_photo(upload: UploadedFile | None) -> services.Photo | None:
    """The photo as bytes and its type, known from its first bytes (never from the name or the browser's word)."""
    if not upload:
        return None
    if (upload.size or 0) > services.PHOTO_MAX_BYTES:
        raise ValidationError(_("The photo is larger than %(max)d KB; attach large images to a report instead."),
                              params={"max": services.PHOTO_MAX_BYTES // 1024})
    content = upload.read()
    mime_type = _sniff_image(content[:16])
    if mime_type is None:
        raise ValidationError(_("A photo must be a JPEG, PNG or WebP image."))
    return services.Photo(content, mime_type)


_FIELD_ALIASES = {"default_label": "label"}  # the store's name for the label it was given


def apply_service_error(form: forms.Form, error: ServiceError) -> None:
    shortcuts.apply_service_error(form, error, _FIELD_ALIASES)


class _Labelled(forms.Form):
    """A create form with the label picker and an optional photo."""

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        field = self.fields["label"]
        assert isinstance(field, LabelPickerField)
        field.set_user(user)

    def clean_photo(self) -> services.Photo | None:
        return clean_photo(self.cleaned_data.get("photo"))


# --- maritime ---------------------------------------------------------------------------------------------------------


class VesselForm(forms.Form):
    name = forms.CharField(label=_("Vessel name"), required=False, max_length=200)
    imo = forms.CharField(label=_("IMO number"), required=False, max_length=20)
    mmsi = forms.CharField(label=_("MMSI"), required=False, max_length=20)
    flag = forms.CharField(label=_("Flag"), required=False, max_length=3,
                           help_text=_("ISO 3166 code, e.g. PRK, SLE, PAN."))
    flag_apparent = forms.BooleanField(label=_("Apparent flag only (not confirmed)"), required=False)
    sanctions_designation = forms.CharField(label=_("Sanctions designation"), required=False, max_length=200,
                                            help_text=_("e.g. UN 1718 Committee"))
    disguised_name = forms.CharField(label=_("Disguised or painted-over name"), required=False, max_length=200)

    def clean_imo(self) -> str:
        return clean_imo(self.cleaned_data.get("imo", ""))

    def clean_mmsi(self) -> str:
        return clean_mmsi(self.cleaned_data.get("mmsi", ""))

    def clean_flag(self) -> str:
        return country_alpha3(self.cleaned_data.get("flag", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        filled = [data.get(k) for k in ("name", "imo", "mmsi", "disguised_name")]
        if any(data.get(k) for k in ("flag", "sanctions_designation", "flag_apparent")) and not any(filled):
            raise ValidationError(_("Give the vessel's name, IMO number, MMSI or disguised name."))
        return data


VesselFormSet = forms.formset_factory(VesselForm, extra=3, max_num=10, absolute_max=10, validate_max=True)


class MaritimeForm(_Labelled):
    title = forms.CharField(label=_("Title"), max_length=300,
                            help_text=_("e.g. Suspected ship-to-ship transfer in the East China Sea"))
    observation_type = forms.ChoiceField(label=_("Type"), choices=MARITIME_TYPE_CHOICES)
    observing_unit = forms.CharField(label=_("Observing unit"), max_length=200,
                                     help_text=_("Ship or patrol aircraft, e.g. JMSDF P-3C"))
    observed_start = forms.DateTimeField(label=_("Observed at"), widget=_DATETIME, help_text=_TIME_HELP)
    observed_end = forms.DateTimeField(label=_("Observed until (optional)"), required=False, widget=_DATETIME,
                                       help_text=_("For a period, e.g. an AIS dark period."))
    latitude = _latitude()
    longitude = _longitude()
    position_text = forms.CharField(label=_("Position in words"), required=False, max_length=300,
                                    help_text=_("e.g. about 350 km east of Shanghai"))
    observed = _text(_("What was observed"), rows=4, required=True,
                     help_text=_("e.g. the two vessels alongside at night, hoses connected"))
    evidence = _text(_("Evidence"), help_text=_("Photos and other evidence, where they are kept."))
    photo = forms.FileField(label=_("Photo (optional)"), required=False,
                            help_text=_("JPEG, PNG or WebP, up to 512 KB; it is stored with the same label."))
    assessment = _text(_("Assessment"), help_text=_("e.g. strongly suspects a ship-to-ship transfer of "
                                                    "petroleum products prohibited by UNSC resolutions"))
    notified_to = forms.CharField(label=_("Notified to"), required=False, max_length=1000,
                                  help_text=_("Separate with commas, e.g. UN 1718 Committee, flag state, partners"))
    label = LabelPickerField(label=_("Label"))

    def clean_notified_to(self) -> list[str]:
        text = self.cleaned_data.get("notified_to", "")
        return [part.strip() for part in re.split(r"[,\n;]+", text) if part.strip()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("observed_start"), data.get("observed_end")
        if start and end and end < start:
            self.add_error("observed_end", _("The end is before the start."))
        return data


# --- strategic --------------------------------------------------------------------------------------------------------


class SiteForm(_Labelled):
    name = forms.CharField(label=_("Name"), max_length=300, help_text=_("e.g. Silo field near Yumen"))
    site_type = forms.ChoiceField(label=_("Kind of site"), choices=SITE_TYPE_CHOICES)
    status = forms.ChoiceField(label=_("Status"), choices=SITE_STATUS_CHOICES, initial="unknown")
    latitude = _latitude()
    longitude = _longitude()
    country = forms.CharField(label=_("Country"), required=False, max_length=3,
                              help_text=_("ISO 3166 code, e.g. CN or CHN."))
    position_text = forms.CharField(label=_("Position in words"), required=False, max_length=300)
    description = _text(_("Description"), rows=4)
    evidence = _text(_("Evidence"), help_text=_("e.g. commercial satellite imagery of 2026-02-14"))
    photo = forms.FileField(label=_("Photo (optional)"), required=False,
                            help_text=_("JPEG, PNG or WebP, up to 512 KB; it is stored with the same label."))
    label = LabelPickerField(label=_("Label"))

    def clean_country(self) -> str:
        return country_alpha2(self.cleaned_data.get("country", ""))


class EventForm(_Labelled):
    title = forms.CharField(label=_("Title"), max_length=300, help_text=_("e.g. Launch of a ballistic missile"))
    event_type = forms.ChoiceField(label=_("Kind of event"), choices=EVENT_TYPE_CHOICES)
    event_start = forms.DateTimeField(label=_("Start"), widget=_DATETIME, help_text=_TIME_HELP)
    event_end = forms.DateTimeField(label=_("End (optional)"), required=False, widget=_DATETIME,
                                    help_text=_("For an exercise or a period of activity."))
    site = forms.ChoiceField(label=_("Site"), required=False,
                             help_text=_("The site where it happened, if it is recorded."))
    latitude = _latitude(required=False)
    longitude = _longitude(required=False)
    position_text = forms.CharField(label=_("Position in words"), required=False, max_length=300,
                                    help_text=_("Without a site: e.g. impact area about 200 km west of Oga"))
    description = _text(_("What happened"), rows=4)
    evidence = _text(_("Evidence"))
    photo = forms.FileField(label=_("Photo (optional)"), required=False,
                            help_text=_("JPEG, PNG or WebP, up to 512 KB; it is stored with the same label."))
    assessment = _text(_("Assessment"), rows=4)
    confidence = forms.IntegerField(
        label=_("Confidence (0-100)"), required=False, min_value=0, max_value=100,
        help_text=_("STIX confidence: 0 impossible, 20 probably not, 50 chances about even, 56 probable, "
                    "80 almost certain, 100 certain."),
    )
    label = LabelPickerField(label=_("Label"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        site = self.fields["site"]
        assert isinstance(site, forms.ChoiceField)
        site.choices = [("", _("No recorded site")), *services.site_choices(user)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("event_start"), data.get("event_end")
        if start and end and end < start:
            self.add_error("event_end", _("The end is before the start."))
        has_lat, has_lon = data.get("latitude") is not None, data.get("longitude") is not None
        if has_lat != has_lon:
            self.add_error("longitude" if has_lat else "latitude", _("Give both latitude and longitude, or neither."))
        return data
