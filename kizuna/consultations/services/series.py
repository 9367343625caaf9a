"""Writes of a consultation series: create and change (its cadence is checked by ``recurrence.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from kizuna.consultations.models import Series
from kizuna.consultations.queries import may_organise
from kizuna.consultations.recurrence import local_dtstart, parse_rrule
from kizuna.consultations.services import sharing
from kizuna.consultations.services.common import (
    check_attendees,
    check_focus,
    check_nations,
    check_title,
    check_unknown,
    check_zone,
    refuse_received,
)
from kizuna.core import audit
from kizuna.core.access import intern_label, label_of, recheck_visible
from kizuna.core.errors import ServiceError
from kizuna.core.versions import snapshot
from kizuna.directory.authoring import require_contributor, resolve_label
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label


@dataclass
class SeriesInput:
    title: str
    label: Label
    time_zone: str
    rrule: str = ""
    first_date: date | None = None
    start_time: time | None = None
    duration_minutes: int = 60
    focus_areas: list[str] = field(default_factory=list)
    nations: list[str] = field(default_factory=list)
    chair: User | None = None


def _check_series(data: SeriesInput) -> dict[str, Any]:
    clean: dict[str, Any] = {
        "title": check_title(data.title),
        "time_zone": check_zone(data.time_zone),
        "focus_areas": check_focus(list(data.focus_areas)),
        "nations": check_nations(list(data.nations)),
        "duration_minutes": data.duration_minutes,
        "first_date": data.first_date,
        "start_time": data.start_time,
        "rrule": data.rrule.strip(),
        "chair": data.chair,
    }
    if not isinstance(data.duration_minutes, int) or not 1 <= data.duration_minutes <= 24 * 60:
        raise ServiceError(gettext("the duration must be between 1 and 1440 minutes"), "duration_minutes")
    if clean["rrule"]:
        if data.first_date is None or data.start_time is None:
            raise ServiceError(gettext("a cadence needs the first date and the start time"), "first_date")
        parse_rrule(clean["rrule"], local_dtstart(data.first_date, data.start_time, data.time_zone))
        if clean["rrule"].upper().startswith("RRULE:"):
            clean["rrule"] = clean["rrule"][6:]
    if data.chair is not None and not data.chair.is_active:
        raise ServiceError(gettext("the chair's account is not active"), "chair")
    return clean


def series_data(series: Series) -> dict[str, Any]:
    return {
        "title": series.title,
        "focus_areas": list(series.focus_areas),
        "nations": list(series.nations),
        "chair": series.chair.username if series.chair else None,
        "rrule": series.rrule,
        "time_zone": series.time_zone,
        "first_date": series.first_date.isoformat() if series.first_date else None,
        "start_time": series.start_time.isoformat() if series.start_time else None,
        "duration_minutes": series.duration_minutes,
        "label": label_of(series.label).as_api(),
    }


def do_create_series(author: User, data: SeriesInput, address: str = "") -> Series:
    require_contributor(author)
    clean = _check_series(data)
    with transaction.atomic():
        label = resolve_label(author, data.label)
        if clean["chair"] is not None:
            check_attendees([clean["chair"]], label, author)
        record = intern_label(label)
        assert author.organisation is not None
        series = Series.objects.create(label=record, originator=author.organisation, created_by=author, **clean)
        recheck_visible(series, subject_for(author))
        snapshot(series, series_data(series), author, "created")
        sharing.do_publish(series)
        audit.record(author.username, "create", "series", [series.pk], record.pk, address)
    return series


def do_update_series(author: User, series: Series, address: str = "", **changes: Any) -> Series:
    """Change fields of a series the author can see (fetched through visible_to). Keywords: the fields of
    SeriesInput."""
    refuse_received(series)
    check_unknown(changes, frozenset(SeriesInput.__dataclass_fields__))
    if not may_organise(author, series):
        raise ServiceError(gettext("only the originating organisation, a coordinator of its nation or the chair may "
                                   "change this series"))
    current = label_of(series.label)
    merged = SeriesInput(
        title=changes.get("title", series.title),
        label=changes.get("label", current),
        time_zone=changes.get("time_zone", series.time_zone),
        rrule=changes.get("rrule", series.rrule),
        first_date=changes.get("first_date", series.first_date),
        start_time=changes.get("start_time", series.start_time),
        duration_minutes=changes.get("duration_minutes", series.duration_minutes),
        focus_areas=changes.get("focus_areas", list(series.focus_areas)),
        nations=changes.get("nations", list(series.nations)),
        chair=changes.get("chair", series.chair),
    )
    clean = _check_series(merged)
    with transaction.atomic():
        locked = Series.objects.select_for_update().get(pk=series.pk)
        label = resolve_label(author, merged.label) if merged.label != current else current
        if clean["chair"] is not None:
            check_attendees([clean["chair"]], label, author)
        record = intern_label(label)
        changed = ["label"] if record.pk != locked.label_id else []
        for name, value in clean.items():
            if getattr(locked, name) != value:
                setattr(locked, name, value)
                changed.append(name)
        if not changed:
            return locked
        locked.label = record
        locked.save()
        recheck_visible(locked, subject_for(author))
        snapshot(locked, series_data(locked), author, "changed " + ", ".join(changed))
        sharing.do_publish(locked)
        audit.record(author.username, "update", "series", [locked.pk], record.pk, address, {"changed": changed})
    return locked
