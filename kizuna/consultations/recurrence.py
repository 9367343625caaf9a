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
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext, pgettext_lazy

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
#
# Every part of an RRULE the series form accepts (any FREQ, INTERVAL, BYDAY with or without ordinals, BYSETPOS,
# BYMONTHDAY, BYMONTH, BYYEARDAY, BYWEEKNO, BYHOUR/BYMINUTE/BYSECOND, WKST, COUNT, UNTIL) is put into words. Each
# sentence shape is one message, so a translator orders it as the language wants: "the second Thursday of every third
# month" is 「3か月ごとの第2木曜日」 in Japanese.

_DAYS = {"MO": gettext_lazy("Monday"), "TU": gettext_lazy("Tuesday"), "WE": gettext_lazy("Wednesday"),
         "TH": gettext_lazy("Thursday"), "FR": gettext_lazy("Friday"), "SA": gettext_lazy("Saturday"),
         "SU": gettext_lazy("Sunday")}
_WEEK = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
_ORDINALS = {1: gettext_lazy("first"), 2: gettext_lazy("second"), 3: gettext_lazy("third"), 4: gettext_lazy("fourth"),
             5: gettext_lazy("fifth"), -1: gettext_lazy("last"), -2: gettext_lazy("second to last")}
# "every third month": the interval as an ordinal word, in its own context ("3" in Japanese: 「3か月ごと」).
_NTH = {3: pgettext_lazy("every nth", "third"), 4: pgettext_lazy("every nth", "fourth"),
        5: pgettext_lazy("every nth", "fifth"), 6: pgettext_lazy("every nth", "sixth"),
        7: pgettext_lazy("every nth", "seventh"), 8: pgettext_lazy("every nth", "eighth"),
        9: pgettext_lazy("every nth", "ninth"), 10: pgettext_lazy("every nth", "tenth"),
        11: pgettext_lazy("every nth", "eleventh"), 12: pgettext_lazy("every nth", "twelfth")}


def _comma() -> str:
    return pgettext("list separator", ", ")


def _and(items: list[str]) -> str:
    """"a, b and c" (「a、b、c」 in Japanese)."""
    if len(items) < 2:
        return "".join(items)
    return gettext("%(items)s and %(last)s") % {"items": _comma().join(items[:-1]), "last": items[-1]}


def _period(freq: str, interval: int) -> str | None:
    """What the rule repeats over: "every month", "every other month", "every third month", "every 14 months"."""
    # "every day" and "every 2 days" are separate messages: a language with one plural form (Japanese) says
    # "毎日", not "1日ごと", for an interval of one.
    if interval == 1:
        return {"DAILY": gettext("every day"), "WEEKLY": gettext("every week"), "MONTHLY": gettext("every month"),
                "YEARLY": gettext("every year"), "HOURLY": gettext("every hour"),
                "MINUTELY": gettext("every minute"), "SECONDLY": gettext("every second")}.get(freq)
    if interval == 2 and freq in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        return {"DAILY": gettext("every other day"), "WEEKLY": gettext("every other week"),
                "MONTHLY": gettext("every other month"), "YEARLY": gettext("every other year")}[freq]
    if interval in _NTH and freq in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        nth = {"nth": _NTH[interval]}
        return {"DAILY": gettext("every %(nth)s day") % nth, "WEEKLY": gettext("every %(nth)s week") % nth,
                "MONTHLY": gettext("every %(nth)s month") % nth, "YEARLY": gettext("every %(nth)s year") % nth}[freq]
    n = {"n": interval}
    if freq == "DAILY":
        return ngettext("every %(n)d day", "every %(n)d days", interval) % n
    if freq == "WEEKLY":
        return ngettext("every %(n)d week", "every %(n)d weeks", interval) % n
    if freq == "MONTHLY":
        return ngettext("every %(n)d month", "every %(n)d months", interval) % n
    if freq == "YEARLY":
        return ngettext("every %(n)d year", "every %(n)d years", interval) % n
    if freq == "HOURLY":
        return ngettext("every %(n)d hour", "every %(n)d hours", interval) % n
    if freq == "MINUTELY":
        return ngettext("every %(n)d minute", "every %(n)d minutes", interval) % n
    if freq == "SECONDLY":
        return ngettext("every %(n)d second", "every %(n)d seconds", interval) % n
    return None


def _ordinal(n: int) -> str:
    """"first", "last", "third to last", "21st": a position counted from the start or, when negative, the end."""
    if n in _ORDINALS:
        return str(_ORDINALS[n])
    if n < 0:
        return gettext("%(ordinal)s to last") % {"ordinal": _ordinal(-n)}
    # English suffixes pick the message; other languages translate all four alike (「第%(n)d」).
    if n % 10 == 1 and n % 100 != 11:
        return pgettext("ordinal number", "%(n)dst") % {"n": n}
    if n % 10 == 2 and n % 100 != 12:
        return pgettext("ordinal number", "%(n)dnd") % {"n": n}
    if n % 10 == 3 and n % 100 != 13:
        return pgettext("ordinal number", "%(n)drd") % {"n": n}
    return pgettext("ordinal number", "%(n)dth") % {"n": n}


def _ints(value: str) -> list[int] | None:
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        return None


def _weekdays(days: list[str]) -> str:
    """Plain weekdays as a noun: "Thursday", "weekday" (Monday to Friday), "Monday or Friday"."""
    if set(days) == set(_WEEK[:5]) and len(days) == 5:
        return gettext("weekday")
    if set(days) == {"SA", "SU"}:
        return gettext("weekend day")
    ordered = sorted(set(days), key=_WEEK.index)
    names = [str(_DAYS[d]) for d in ordered]
    if len(names) < 2:
        return "".join(names)
    return gettext("%(items)s or %(last)s") % {"items": _comma().join(names[:-1]), "last": names[-1]}


def _byday(value: str) -> tuple[list[str], list[tuple[int, str]]] | None:
    """BYDAY as (plain weekdays, [(ordinal, weekday)]); None when a value is not one RFC 5545 allows."""
    plain: list[str] = []
    numbered: list[tuple[int, str]] = []
    for item in value.split(","):
        item = item.strip()
        day, number = item[-2:], item[:-2]
        if day not in _DAYS:
            return None
        if not number:
            plain.append(day)
            continue
        try:
            numbered.append((int(number), day))
        except ValueError:
            return None
    return plain, numbered


def _the(ordinals: list[int], noun: str) -> str:
    """"the second Thursday", "the first and third Thursday", "the last weekday"."""
    return gettext("the %(ordinal)s %(day)s") % {"ordinal": _and([_ordinal(n) for n in ordinals]), "day": noun}


def _monthdays(days: list[int]) -> str:
    """"day 15", "days 1 and 15", "the last day", "the third day from the end" (of a month, or of a year)."""
    ahead = sorted(d for d in days if d > 0)
    behind = sorted((d for d in days if d < 0), reverse=True)
    phrases: list[str] = []
    if ahead:
        listed = _and([str(d) for d in ahead])
        phrases.append(ngettext("day %(days)s", "days %(days)s", len(ahead)) % {"days": listed})
    for d in behind:
        phrases.append(gettext("the last day") if d == -1 else
                       gettext("the %(ordinal)s day from the end") % {"ordinal": _ordinal(-d)})
    return _and(phrases)


def _times(parts: dict[str, str], start: time | None) -> list[str] | None:
    """BYHOUR x BYMINUTE (x BYSECOND) as wall-clock times, the series' start time filling what is not given."""
    hours = _ints(parts.pop("BYHOUR", "")) or ([start.hour] if start else None)
    minutes = _ints(parts.pop("BYMINUTE", "")) or ([start.minute] if start else [0])
    seconds = _ints(parts.pop("BYSECOND", ""))
    if hours is None:
        return None
    if seconds:
        return [f"{h:02d}:{m:02d}:{s:02d}" for h in sorted(hours) for m in sorted(minutes) for s in sorted(seconds)]
    return [f"{h:02d}:{m:02d}" for h in sorted(hours) for m in sorted(minutes)]


def cadence_words(series: Series) -> str:
    """The series' RRULE in plain words, e.g. "The second Thursday of every third month, at 16:00 (Asia/Tokyo),
    120 minutes" or "Every week, on Tuesday, at 09:00 (Europe/Brussels), 60 minutes". A part that is not a value RFC
    5545 allows is listed as written (the RRULE itself is shown beside the words)."""
    if not series.rrule:
        return gettext("No fixed cadence")
    parts: dict[str, str] = {}
    for piece in series.rrule.upper().removeprefix("RRULE:").split(";"):
        key, _sep, value = piece.partition("=")
        if key.strip():
            parts[key.strip()] = value.strip()
    rest: list[str] = []
    try:
        interval = int(parts.pop("INTERVAL", "1") or "1")
    except ValueError:
        interval = 1
    freq = parts.pop("FREQ", "")
    period = _period(freq, interval) or freq

    # Which days of each period: a position (BYSETPOS over BYDAY, or an ordinal BYDAY), month days, year days.
    which: list[str] = []
    on_days = ""  # plain weekdays that restrict rather than pick: "every week, on Tuesday"
    byday_text = parts.pop("BYDAY", "")
    byday = _byday(byday_text) if byday_text else ([], [])
    if byday is None:
        rest.append(f"BYDAY={byday_text}")
        byday = ([], [])
    plain, numbered = byday
    setpos = _ints(parts.get("BYSETPOS", "")) or []
    monthdays = _ints(parts.pop("BYMONTHDAY", "")) if "BYMONTHDAY" in parts else []
    yeardays = _ints(parts.pop("BYYEARDAY", "")) if "BYYEARDAY" in parts else []
    if setpos and plain and not numbered and not monthdays and not yeardays:
        parts.pop("BYSETPOS")
        which.append(_the(setpos, _weekdays(plain)))
        plain = []
    for n, day in sorted(numbered, key=lambda x: (_WEEK.index(x[1]), x[0])):
        which.append(_the([n], str(_DAYS[day])))
    if monthdays:
        which.append(_monthdays(monthdays))
    if yeardays:
        which.append(_monthdays(yeardays))
    if plain:
        days = gettext("weekdays") if len(set(plain)) == 5 and set(plain) == set(_WEEK[:5]) else \
            _and([str(_DAYS[d]) for d in sorted(set(plain), key=_WEEK.index)])
        on_days = gettext("on %(days)s") % {"days": days}
    if "BYSETPOS" in parts:  # a position among month days, year days or several rules at once
        positions = _ints(parts.pop("BYSETPOS")) or []
        which_text = _and([_ordinal(n) for n in positions])
        setpos_words = gettext("only the %(ordinal)s of these in each period") % {"ordinal": which_text}
    else:
        setpos_words = ""

    months: list[str] = []
    if "BYMONTH" in parts:
        value = parts.pop("BYMONTH")
        numbers = _ints(value)
        if numbers and all(1 <= m <= 12 for m in numbers):
            months = [str(MONTHS[m]) for m in sorted(numbers)]
        else:
            rest.append(f"BYMONTH={value}")

    words: list[str] = []
    if which and freq == "YEARLY" and months and not yeardays:
        # "the second Thursday of March, every year"
        words.append(gettext("%(days)s of %(period)s") % {"days": _and(which), "period": _and(months)})
        words.append(period)
        months = []
    elif which:
        words.append(gettext("%(days)s of %(period)s") % {"days": _and(which), "period": period})
    else:
        words.append(period)
    if on_days:
        words.append(on_days)
    if setpos_words:
        words.append(setpos_words)
    if months:
        words.append(gettext("in %(months)s") % {"months": _and(months)})
    if "BYWEEKNO" in parts:
        weeks = parts.pop("BYWEEKNO")
        numbers = _ints(weeks)
        if numbers:
            words.append(gettext("in week %(weeks)s of the year") % {"weeks": _and([str(w) for w in numbers])})
        else:
            rest.append(f"BYWEEKNO={weeks}")
    times = _times(parts, series.start_time)
    if times and freq in ("HOURLY", "MINUTELY", "SECONDLY"):
        words.append(gettext("from %(time)s (%(zone)s)") % {"time": _and(times), "zone": series.time_zone})
    elif times:
        words.append(gettext("at %(time)s (%(zone)s)") % {"time": _and(times), "zone": series.time_zone})
    words.append(ngettext("%(n)d minute", "%(n)d minutes", series.duration_minutes) % {"n": series.duration_minutes})
    if "COUNT" in parts:
        value = parts.pop("COUNT")
        if value.isdigit():
            words.append(ngettext("%(n)d time in all", "%(n)d times in all", int(value)) % {"n": int(value)})
        else:
            rest.append(f"COUNT={value}")
    if "UNTIL" in parts:
        value = parts.pop("UNTIL")
        try:
            shown = date_format(date(int(value[:4]), int(value[4:6]), int(value[6:8])), "DATE_FORMAT")
        except ValueError:
            shown = value
        words.append(gettext("until %(date)s") % {"date": shown})
    if "WKST" in parts:
        value = parts.pop("WKST")
        if value in _DAYS:
            if value != "MO":  # Monday is RFC 5545's default: not worth a word
                words.append(gettext("weeks starting on %(day)s") % {"day": _DAYS[value]})
        else:
            rest.append(f"WKST={value}")
    rest.extend(f"{k}={v}" for k, v in parts.items())
    if rest:
        words.append(gettext("and %(rules)s") % {"rules": ";".join(rest)})
    text = _comma().join(words)
    return text[:1].upper() + text[1:]
