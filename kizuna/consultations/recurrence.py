"""The cadence of a series: its RFC 5545 RRULE, read, evaluated and put into words.

A series' RRULE is evaluated in the wall-clock time of its home zone, as RFC 5545 does for a DTSTART with TZID, so a
weekly 09:00 Brussels dialogue moves in UTC when Brussels changes clocks. A wall-clock time that does not exist
(skipped by a spring change) is read with the offset before the gap and an ambiguous one as its first occurrence
(RFC 5545 3.3.5; zoneinfo's fold=0 does both). Pure: nothing here reads or writes the database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr
from django.utils.dates import MONTHS
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext

from kizuna.consultations.models import Series
from kizuna.core.errors import ServiceError

MAX_OCCURRENCES = 2000  # per call: an unbounded rule (no COUNT, no UNTIL) is cut here


def parse_rrule(text: str, dtstart: datetime) -> rrule:
    """The RRULE as a dateutil rule starting at ``dtstart`` (aware, in the home zone); ServiceError (field "rrule")
    unless it is exactly one RFC 5545 RRULE value. DTSTART, RDATE and EXDATE belong to the series, not to this text."""
    value = text.strip()
    if value.upper().startswith("RRULE:"):
        value = value[6:]
    if not value or "\n" in value or ":" in value or "FREQ=" not in value.upper():
        raise ServiceError(gettext("the cadence must be one RFC 5545 RRULE such as FREQ=WEEKLY;BYDAY=TU"), "rrule")
    try:
        rule = rrulestr(value, dtstart=dtstart, forceset=False)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ServiceError(gettext("invalid RRULE: %(error)s") % {"error": str(exc) or type(exc).__name__}, "rrule") from None
    if not isinstance(rule, rrule):
        raise ServiceError(gettext("the cadence must be one RFC 5545 RRULE such as FREQ=WEEKLY;BYDAY=TU"), "rrule")
    return rule


def local_dtstart(first_date: date, start_time: time, zone: str) -> datetime:
    return datetime.combine(first_date, start_time.replace(tzinfo=None), tzinfo=ZoneInfo(zone))


def occurrences(series: Series, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The series' occurrences starting in [start, end), as (start, end) pairs in UTC, computed in the wall-clock
    time of the series' home zone. At most MAX_OCCURRENCES."""
    if not series.rrule or series.first_date is None or series.start_time is None:
        return []
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    rule = parse_rrule(series.rrule, local_dtstart(series.first_date, series.start_time, series.time_zone))
    length = timedelta(minutes=series.duration_minutes)
    result: list[tuple[datetime, datetime]] = []
    # Aware bounds in UTC against aware local occurrences: dateutil compares instants, not wall-clock times.
    for occurrence in rule.xafter(start.astimezone(UTC), inc=True):
        if occurrence >= end or len(result) >= MAX_OCCURRENCES:
            break
        # The start is wall-clock in the home zone; the length is real time, so a change of clocks inside a
        # meeting does not stretch or shrink it.
        utc_start = occurrence.astimezone(UTC)
        utc_end = utc_start + length
        result.append((utc_start, utc_end))
    return result


# --- cadence in words ----------------------------------------------------------------------------------------------

_DAYS = {"MO": gettext_lazy("Monday"), "TU": gettext_lazy("Tuesday"), "WE": gettext_lazy("Wednesday"),
         "TH": gettext_lazy("Thursday"), "FR": gettext_lazy("Friday"), "SA": gettext_lazy("Saturday"),
         "SU": gettext_lazy("Sunday")}
_ORDINALS = {1: gettext_lazy("first"), 2: gettext_lazy("second"), 3: gettext_lazy("third"), 4: gettext_lazy("fourth"),
             5: gettext_lazy("fifth"), -1: gettext_lazy("last"), -2: gettext_lazy("second to last")}


def _every(freq: str, interval: int) -> str | None:
    # "every day" and "every 2 days" are separate messages: a language with one plural form (Japanese) says
    # "毎日", not "1日ごと", for an interval of one.
    if interval == 1:
        single = {"DAILY": gettext("every day"), "WEEKLY": gettext("every week"),
                  "MONTHLY": gettext("every month"), "YEARLY": gettext("every year")}
        return single.get(freq)
    if freq == "DAILY":
        return ngettext("every %(n)d day", "every %(n)d days", interval) % {"n": interval}
    if freq == "WEEKLY":
        return ngettext("every %(n)d week", "every %(n)d weeks", interval) % {"n": interval}
    if freq == "MONTHLY":
        return ngettext("every %(n)d month", "every %(n)d months", interval) % {"n": interval}
    if freq == "YEARLY":
        return ngettext("every %(n)d year", "every %(n)d years", interval) % {"n": interval}
    return None


def _byday(value: str) -> str | None:
    names: list[str] = []
    for item in value.split(","):
        item = item.strip()
        day, number = item[-2:], item[:-2]
        if day not in _DAYS:
            return None
        if not number:
            names.append(str(_DAYS[day]))
            continue
        try:
            ordinal = _ORDINALS[int(number)]
        except (ValueError, KeyError):
            return None
        names.append(gettext("the %(ordinal)s %(day)s") % {"ordinal": ordinal, "day": _DAYS[day]})
    return gettext("on %(days)s") % {"days": pgettext("list separator", ", ").join(names)}


def cadence_words(series: Series) -> str:
    """The series' RRULE in plain words, e.g. "every 2 weeks, on Tuesday, at 09:00 (Europe/Brussels), 60 minutes".
    Parts this does not put into words are listed as they are written; the RRULE itself is shown beside it."""
    if not series.rrule:
        return gettext("No fixed cadence")
    parts: dict[str, str] = {}
    for piece in series.rrule.upper().removeprefix("RRULE:").split(";"):
        key, _sep, value = piece.partition("=")
        if key.strip():
            parts[key.strip()] = value.strip()
    try:
        interval = int(parts.pop("INTERVAL", "1") or "1")
    except ValueError:
        interval = 1
    every = _every(parts.pop("FREQ", ""), interval)
    words = [every] if every else []
    rest: list[str] = []
    if "BYDAY" in parts:
        value = parts.pop("BYDAY")
        days = _byday(value)
        if days:
            words.append(days)
        else:
            rest.append(f"BYDAY={value}")
    if "BYMONTHDAY" in parts:
        words.append(gettext("on day %(days)s of the month") % {"days": parts.pop("BYMONTHDAY")})
    if "BYMONTH" in parts:
        value = parts.pop("BYMONTH")
        try:
            months = [str(MONTHS[int(m)]) for m in value.split(",")]
        except (ValueError, KeyError):
            rest.append(f"BYMONTH={value}")
        else:
            words.append(gettext("in %(months)s") % {"months": pgettext("list separator", ", ").join(months)})
    if series.start_time is not None:
        words.append(gettext("at %(time)s (%(zone)s)") % {"time": series.start_time.strftime("%H:%M"),
                                                         "zone": series.time_zone})
    words.append(ngettext("%(n)d minute", "%(n)d minutes", series.duration_minutes) % {"n": series.duration_minutes})
    if "COUNT" in parts:
        value = parts.pop("COUNT")
        if value.isdigit():
            words.append(ngettext("%(n)d time in all", "%(n)d times in all", int(value)) % {"n": int(value)})
        else:
            rest.append(f"COUNT={value}")
    if "UNTIL" in parts:
        value = parts.pop("UNTIL")
        shown = f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) >= 8 and value[:8].isdigit() else value
        words.append(gettext("until %(date)s") % {"date": shown})
    rest.extend(f"{k}={v}" for k, v in parts.items())
    if rest:
        words.append(gettext("and %(rules)s") % {"rules": ";".join(rest)})
    text = pgettext("list separator", ", ").join(words)
    return text[:1].upper() + text[1:]
