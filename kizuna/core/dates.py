"""Dates and times in the active language: a named format of ``kizuna/core/formats`` (or a literal Django ``date``
pattern) applied to a value already in the zone it should be read in.

Every user-facing date in Python code goes through ``format_local`` (the ``{% when %}`` tag, consultation pages and
calendars, minutes, e-mails), so one place decides how 10 December 2026 reads: ``2026年12月10日(木) 16:00``,
``2026년 12월 10일 (목) 16:00``, ``jeudi 10 décembre 2026 16:00``, ``Thu 10 Dec 2026 16:00``. Templates may use
``{{ value|date:"DUE_DATE_FORMAT" }}`` for the names whose patterns need no more than Django's formatter.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import dateformat
from django.utils.dates import WEEKDAYS
from django.utils.formats import get_format


def _escaped(text: str) -> str:
    return "".join("\\" + character for character in text)


def _replace_unescaped(pattern: str, character: str, text: str) -> str:
    """Replace each unescaped ``character`` of a Django date pattern with ``text``, escaped (so taken literally)."""
    literal = _escaped(text)
    out: list[str] = []
    escaped = False
    for current in pattern:
        if escaped:
            out.append(current)
            escaped = False
        elif current == "\\":
            out.append(current)
            escaped = True
        elif current == character:
            out.append(literal)
        else:
            out.append(current)
    return "".join(out)


def pattern_for(name: str, value: date | None = None) -> str:
    """The active language's pattern for a format name (a literal pattern is returned as it is)."""
    pattern = str(get_format(name))
    if value is None:
        return pattern
    length = get_format("WEEKDAY_ABBREVIATION_LENGTH")
    if isinstance(length, int) and length > 0 and "D" in pattern:
        # Korean: Django's catalog translates "Thu" as 목요일 where a date wants 목 (its first syllable).
        pattern = _replace_unescaped(pattern, "D", str(WEEKDAYS[value.weekday()])[:length])
    ordinal = get_format("FIRST_DAY_ORDINAL")
    if value.day == 1 and isinstance(ordinal, str) and ordinal != "FIRST_DAY_ORDINAL" and ordinal and "j" in pattern:
        # French writes the first of the month as an ordinal: mardi 1er décembre 2026.
        pattern = _replace_unescaped(pattern, "j", "1" + ordinal)
    return pattern


def format_local(value: datetime | date, name: str) -> str:
    """``value`` formatted with the active language's ``name`` format, in the value's own zone (no conversion)."""
    return dateformat.format(value, pattern_for(name, value))
