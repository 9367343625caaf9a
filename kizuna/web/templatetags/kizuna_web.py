"""Template tags of the web UI: label chips coloured by classification, the main navigation's entries (from the
registry of shareable types), and what error pages need when they are rendered without the context processors
(Django's 500 view)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString

from kizuna.core import registry
from kizuna.core.access import label_display, label_of
from kizuna.core.dates import format_local
from kizuna.core.models import LabelRecord
from kizuna.core.versions import summary_text
from kizuna.labels import Label
from kizuna.web.banner import Banner, chip_class, default_banner
from kizuna.web.context import node_display_name

register = template.Library()


def _as_label(value: LabelRecord | Label) -> Label:
    return value if isinstance(value, Label) else label_of(value)


@register.simple_tag
def label_chip(value: LabelRecord | Label | str, chip: str = "") -> SafeString:
    """The one label chip: the label's display string in a chip coloured by its classification (marked lang="en": the
    policy's markings are English in every UI language).

    ``{% label_chip report.label %}`` from a label (or its record); ``{% label_chip text chip %}`` when the view has
    already put the label into words (its display string and ``chip_class``), as list pages do for their rows."""
    if isinstance(value, LabelRecord | Label):
        label = _as_label(value)
        return format_html(
            '<span class="label-chip {}" data-label="{}" lang="en" data-testid="label-chip">{}</span>',
            chip_class(label.policy, label.classification),
            label.key(),
            label_display(label),
        )
    return format_html('<span class="label-chip {}" lang="en" data-testid="label-chip">{}</span>', chip, value)


@register.filter
def label_chip_class(value: LabelRecord | Label) -> str:
    """``{{ label|label_chip_class }}``: the CSS class that colours a chip for this label (e.g. chip-NATO-RESTRICTED)."""
    label = _as_label(value)
    return chip_class(label.policy, label.classification)


@register.filter
def version_summary(value: str) -> str:
    """``{{ version.summary|version_summary }}``: a version's stored English summary in the reader's language."""
    return summary_text(str(value or ""))


@register.simple_tag
def fallback_banner() -> Banner:
    return default_banner()


@register.simple_tag
def node_name() -> str:
    return node_display_name()


@register.simple_tag
def nav_entries() -> list[str]:
    """The navigation fragments of the modules registered with the registry of shareable types, in order (each is
    included with the page's context, so an entry with a badge keeps its own template tag)."""
    return registry.nav_entries()


@register.simple_tag
def account_sections() -> list[str]:
    """The account-page fragments of the registered modules (``Module.account``, e.g. the notifications' e-mail and
    digest choice), in registration order; each is included with the page's context."""
    return registry.account_sections()


# Named formats of kizuna/core/formats: English keeps 2026-12-05 07:30, Japanese reads 2026年12月5日(土) 07:30.
_WHEN_FORMATS = {"datetime": "WHEN_DATETIME_FORMAT", "date": "WHEN_DATE_FORMAT", "seconds": "WHEN_SECONDS_FORMAT",
                 "month-day": "WHEN_MONTH_DAY_FORMAT"}


def _instant(value: object) -> datetime | None:
    """An aware datetime from a datetime or a STIX/ISO timestamp string; None for anything else."""
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)
    if isinstance(value, str) and value:
        parsed = parse_datetime(value.strip())
        if parsed is not None:
            return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)
    return None


@register.simple_tag
def when(value: object, style: str = "datetime") -> SafeString | str:
    """A moment as every page shows one (issue 13: one rule for every page): in the reader's time zone with the zone
    named (``2026-12-05 16:00 JST``, ``2026年12月5日(土) 16:00 JST`` in Japanese: kizuna/core/formats; a date-only
    ``style`` names it in the tooltip), the same moment in UTC on hover,
    and the exact instant in ``<time datetime>``. A calendar date (no time of day) is shown as it is, with no zone.
    ``style``: datetime (default), date, seconds, month-day."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return format_html('<time datetime="{}">{}</time>', value.isoformat(), format_local(value, "WHEN_DATE_FORMAT"))
    moment = _instant(value)
    if moment is None:
        return str(value) if value not in (None, "") else "—"
    local = timezone.localtime(moment)
    utc = moment.astimezone(UTC)
    shown = format_local(local, _WHEN_FORMATS.get(style, _WHEN_FORMATS["datetime"]))
    zone = local.tzname() or ""
    if style in ("datetime", "seconds"):
        shown = f"{shown} {zone}".strip()
    title = f"{format_local(local, 'WHEN_DATETIME_FORMAT')} {zone} · {format_local(utc, 'WHEN_DATETIME_FORMAT')} UTC"
    return format_html('<time datetime="{}" title="{}">{}</time>', utc.strftime("%Y-%m-%dT%H:%M:%SZ"), title, shown)
