"""How the node-wide search (``kizuna.search``) indexes consultation records: one ``Searchable`` per type, given to
the registry by ``ConsultationsConfig.ready``. Agenda items are searchable once the meeting's agenda is published,
minutes and decisions once its minutes are (drafts are for their editors only); a meeting lists them as its
dependants, so publishing or unpublishing re-indexes them in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kizuna.core.registry import Searchable


def _meeting_url(pk: int, anchor: str = "") -> str:
    return reverse("consultations:meeting", args=[pk]) + (f"#{anchor}" if anchor else "")


def _series_area(series: Any) -> str:
    areas = series.focus_areas if series is not None else []
    return str(areas[0]) if areas else ""


def _meeting_parts(meeting: Any) -> Iterable[Any]:
    yield from meeting.agenda_items.all()
    yield from meeting.minutes_parts.all()
    yield from meeting.decisions.all()
    yield from meeting.actions.all()


def _first_line(text: str) -> str:
    line = text.strip().split("\n", 1)[0].lstrip("#*- ").strip()
    return line[:120] + ("…" if len(line) > 120 else "")


SERIES = Searchable(
    key="series", name=_("Consultation series"), fields=("title",),
    url=lambda s: reverse("consultations:series", args=[s.pk]), area=_series_area,
    select_related=("originator",))
MEETING = Searchable(
    key="meeting", name=_("Meeting"), fields=("title", "place"), url=lambda m: _meeting_url(m.pk),
    area=lambda m: _series_area(m.series), date_field="start", dependants=_meeting_parts,
    select_related=("originator", "series"))
AGENDA_ITEM = Searchable(
    key="agenda-item", name=_("Agenda item"), fields=("title", "presenter"),
    url=lambda a: _meeting_url(a.meeting_id, "agenda"), area=lambda a: _series_area(a.meeting.series),
    active=lambda a: a.meeting.agenda_published_at is not None,
    select_related=("originator", "meeting", "meeting__series"))
MINUTES = Searchable(
    key="minutes", name=_("Minutes"), fields=("text",), title=lambda p: p.meeting.title,
    url=lambda p: _meeting_url(p.meeting_id, f"minutes-{p.pk}"), area=lambda p: _series_area(p.meeting.series),
    active=lambda p: p.meeting.minutes_published_at is not None,
    select_related=("originator", "meeting", "meeting__series"))
DECISION = Searchable(
    key="decision", name=_("Decision"), fields=("text",), title=lambda d: _first_line(d.text) or d.meeting.title,
    url=lambda d: _meeting_url(d.meeting_id, "minutes"), area=lambda d: _series_area(d.meeting.series),
    active=lambda d: d.meeting.minutes_published_at is not None,
    select_related=("originator", "meeting", "meeting__series"))
ACTION = Searchable(
    key="action", name=_("Action"), fields=("title", "notes"),
    url=lambda a: _meeting_url(a.meeting_id, "actions") if a.meeting_id else reverse("consultations:my_actions"),
    area=lambda a: _series_area(a.series or (a.meeting.series if a.meeting_id else None)),
    select_related=("originator", "meeting", "meeting__series", "series"))

BY_MODEL = {"Series": SERIES, "Meeting": MEETING, "AgendaItem": AGENDA_ITEM, "MinutesPart": MINUTES,
            "Decision": DECISION, "ActionItem": ACTION}
