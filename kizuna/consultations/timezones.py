"""Time logic of consultations: the capital time zone of each participating nation, the side-by-side table of a
meeting's local times, and the scheduling assistant that ranks slots by how far outside working hours (and public
holidays) they fall, for whom and by how much, and spreads its suggestions over the days.

Pure functions over datetimes (no database access except reading a meeting's fields), so that they are cheap to test
and to call from views, the API and feeds alike.

Zone choices worth knowing:
- Canberra (AUS) has no zone of its own: the Australian Capital Territory keeps New South Wales' rules, and tzdata's
  ``Australia/Canberra`` is only a backward-compatible link to ``Australia/Sydney``. We use ``Australia/Sydney``.
- Ottawa (CAN) keeps Ontario's rules: ``America/Toronto``. Washington (USA): ``America/New_York``.
- Tokyo and Seoul keep no summer time; Europe and New Zealand change on different dates, in opposite seasons.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

if TYPE_CHECKING:
    from kizuna.consultations.models import Meeting


@dataclass(frozen=True)
class Capital:
    nation: str  # ISO 3166-1 alpha-3
    city: str
    zone: str  # IANA key
    country: str  # ISO 3166-1 alpha-2, for the holidays library
    subdiv: str | None = None  # the capital's subdivision, so that its own public holidays count (e.g. Canberra Day)

    @property
    def town(self) -> str:
        """The city without a qualifier: NATO HQ's "Brussels (NATO HQ)" is in "Brussels", as Belgium's capital is."""
        return self.city.split(" (", 1)[0]


# NATO's 32 members and the four Indo-Pacific partners (IP4). "NATO" itself stands for its headquarters in Brussels.
CAPITALS: dict[str, Capital] = {c.nation: c for c in [
    Capital("ALB", "Tirana", "Europe/Tirane", "AL"),
    Capital("BEL", "Brussels", "Europe/Brussels", "BE"),
    Capital("BGR", "Sofia", "Europe/Sofia", "BG"),
    Capital("CAN", "Ottawa", "America/Toronto", "CA", "ON"),
    Capital("HRV", "Zagreb", "Europe/Zagreb", "HR"),
    Capital("CZE", "Prague", "Europe/Prague", "CZ"),
    Capital("DNK", "Copenhagen", "Europe/Copenhagen", "DK"),
    Capital("EST", "Tallinn", "Europe/Tallinn", "EE"),
    Capital("FIN", "Helsinki", "Europe/Helsinki", "FI"),
    Capital("FRA", "Paris", "Europe/Paris", "FR"),
    Capital("DEU", "Berlin", "Europe/Berlin", "DE", "BE"),
    Capital("GRC", "Athens", "Europe/Athens", "GR"),
    Capital("HUN", "Budapest", "Europe/Budapest", "HU"),
    Capital("ISL", "Reykjavík", "Atlantic/Reykjavik", "IS"),
    Capital("ITA", "Rome", "Europe/Rome", "IT"),
    Capital("LVA", "Riga", "Europe/Riga", "LV"),
    Capital("LTU", "Vilnius", "Europe/Vilnius", "LT"),
    Capital("LUX", "Luxembourg", "Europe/Luxembourg", "LU"),
    Capital("MNE", "Podgorica", "Europe/Podgorica", "ME"),
    Capital("NLD", "Amsterdam", "Europe/Amsterdam", "NL"),
    Capital("MKD", "Skopje", "Europe/Skopje", "MK"),
    Capital("NOR", "Oslo", "Europe/Oslo", "NO"),
    Capital("POL", "Warsaw", "Europe/Warsaw", "PL"),
    Capital("PRT", "Lisbon", "Europe/Lisbon", "PT"),
    Capital("ROU", "Bucharest", "Europe/Bucharest", "RO"),
    Capital("SVK", "Bratislava", "Europe/Bratislava", "SK"),
    Capital("SVN", "Ljubljana", "Europe/Ljubljana", "SI"),
    Capital("ESP", "Madrid", "Europe/Madrid", "ES", "MD"),
    Capital("SWE", "Stockholm", "Europe/Stockholm", "SE"),
    Capital("TUR", "Ankara", "Europe/Istanbul", "TR"),
    Capital("GBR", "London", "Europe/London", "GB", "ENG"),
    Capital("USA", "Washington", "America/New_York", "US", "DC"),
    Capital("AUS", "Canberra", "Australia/Sydney", "AU", "ACT"),
    Capital("JPN", "Tokyo", "Asia/Tokyo", "JP"),
    Capital("NZL", "Wellington", "Pacific/Auckland", "NZ", "WGN"),
    Capital("KOR", "Seoul", "Asia/Seoul", "KR"),
    Capital("NATO", "Brussels (NATO HQ)", "Europe/Brussels", "BE"),
]}


# The capitals' names in the reader's language (issue 14: the local-time tables were English on Japanese pages).
# ``city`` stays English: the API and feeds keep it; pages show ``city_name(city)``. The context keeps a
# translator from confusing a city with a nation of the same name (Luxembourg).
CITY_NAMES: dict[str, Promise] = {
    "Tirana": pgettext_lazy("capital city", "Tirana"),
    "Brussels": pgettext_lazy("capital city", "Brussels"),
    "Sofia": pgettext_lazy("capital city", "Sofia"),
    "Ottawa": pgettext_lazy("capital city", "Ottawa"),
    "Zagreb": pgettext_lazy("capital city", "Zagreb"),
    "Prague": pgettext_lazy("capital city", "Prague"),
    "Copenhagen": pgettext_lazy("capital city", "Copenhagen"),
    "Tallinn": pgettext_lazy("capital city", "Tallinn"),
    "Helsinki": pgettext_lazy("capital city", "Helsinki"),
    "Paris": pgettext_lazy("capital city", "Paris"),
    "Berlin": pgettext_lazy("capital city", "Berlin"),
    "Athens": pgettext_lazy("capital city", "Athens"),
    "Budapest": pgettext_lazy("capital city", "Budapest"),
    "Reykjavík": pgettext_lazy("capital city", "Reykjavík"),
    "Rome": pgettext_lazy("capital city", "Rome"),
    "Riga": pgettext_lazy("capital city", "Riga"),
    "Vilnius": pgettext_lazy("capital city", "Vilnius"),
    "Luxembourg": pgettext_lazy("capital city", "Luxembourg"),
    "Podgorica": pgettext_lazy("capital city", "Podgorica"),
    "Amsterdam": pgettext_lazy("capital city", "Amsterdam"),
    "Skopje": pgettext_lazy("capital city", "Skopje"),
    "Oslo": pgettext_lazy("capital city", "Oslo"),
    "Warsaw": pgettext_lazy("capital city", "Warsaw"),
    "Lisbon": pgettext_lazy("capital city", "Lisbon"),
    "Bucharest": pgettext_lazy("capital city", "Bucharest"),
    "Bratislava": pgettext_lazy("capital city", "Bratislava"),
    "Ljubljana": pgettext_lazy("capital city", "Ljubljana"),
    "Madrid": pgettext_lazy("capital city", "Madrid"),
    "Stockholm": pgettext_lazy("capital city", "Stockholm"),
    "Ankara": pgettext_lazy("capital city", "Ankara"),
    "London": pgettext_lazy("capital city", "London"),
    "Washington": pgettext_lazy("capital city", "Washington"),
    "Canberra": pgettext_lazy("capital city", "Canberra"),
    "Tokyo": pgettext_lazy("capital city", "Tokyo"),
    "Wellington": pgettext_lazy("capital city", "Wellington"),
    "Seoul": pgettext_lazy("capital city", "Seoul"),
    "Brussels (NATO HQ)": pgettext_lazy("capital city", "Brussels (NATO HQ)"),
}


def city_name(city: str) -> str:
    """A capital's name (``Capital.city`` or ``.town``) in the active language; an unknown name as it is."""
    name = CITY_NAMES.get(city)
    return str(name) if name is not None else city


class UnknownNation(ValueError):
    """A nation with no capital in the table."""


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_known_zone(key: str) -> bool:
    """An IANA key of the installed tz database (not a path, not a POSIX TZ string)."""
    if not isinstance(key, str) or key not in _known_zones():
        return False
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def capital(nation: str) -> Capital:
    try:
        return CAPITALS[nation]
    except KeyError:
        raise UnknownNation(f"no capital time zone is known for {nation!r}") from None


def zone_of(nation: str) -> ZoneInfo:
    return ZoneInfo(capital(nation).zone)


# --- the side-by-side table ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LocalTime:
    nation: str  # the first nation of the row
    city: str
    zone: str
    start: datetime  # aware, in ``zone``
    end: datetime
    utc_offset: str  # "+09:00" at the start
    day_differs: bool  # the local start falls on another calendar day than the meeting's home start
    day: str  # e.g. "Tue 3 Mar" when day_differs, else ""
    nations: tuple[str, ...] = ()  # every nation whose capital is this place (BEL and NATO share Brussels)


def _offset(dt: datetime) -> str:
    delta = dt.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def local_times_for(start: datetime, end: datetime, home_zone: str, nations: Iterable[str],
                    by_place: bool = False) -> list[LocalTime]:
    """Rows for each nation (in the order given, duplicates dropped): its capital's local start and end, and the day
    where it differs from the home day. ``start``/``end`` must be aware. With ``by_place`` the nations whose capitals
    are one place (Belgium and NATO HQ, both in Brussels) share one row, so a table does not list a city twice; the
    row's ``nations`` names them all and its ``city`` is the place."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    home_day = start.astimezone(ZoneInfo(home_zone)).date()
    rows: list[LocalTime] = []
    seen: set[str] = set()
    places: dict[tuple[str, str], int] = {}  # (zone, town) -> index of its row
    for nation in nations:
        if nation in seen:
            continue
        seen.add(nation)
        cap = capital(nation)
        place = (cap.zone, cap.town)
        if by_place and place in places:
            index = places[place]
            rows[index] = replace(rows[index], nations=(*rows[index].nations, nation), city=cap.town)
            continue
        places[place] = len(rows)
        tz = ZoneInfo(cap.zone)
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        differs = local_start.date() != home_day
        rows.append(LocalTime(
            nation=nation,
            city=cap.city,
            zone=cap.zone,
            start=local_start,
            end=local_end,
            utc_offset=_offset(local_start),
            day_differs=differs,
            day=f"{local_start:%a} {local_start.day} {local_start:%b}" if differs else "",
            nations=(nation,),
        ))
    return rows


def local_times(meeting: Meeting, nations: Iterable[str] | None = None, by_place: bool = False) -> list[LocalTime]:
    """The meeting's local times in each participating nation's capital; by default the nations of its series.
    The caller has fetched the meeting through ``visible_to``."""
    if nations is None:
        nations = list(meeting.series.nations) if meeting.series_id and meeting.series else []
    return local_times_for(meeting.start, meeting.end, meeting.time_zone, nations, by_place=by_place)


# --- the scheduling assistant --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkingHours:
    start: time = time(8, 0)
    end: time = time(18, 0)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0


DEFAULT_HOURS = WorkingHours()


@dataclass(frozen=True)
class Participant:
    """Who is being scheduled: a nation's delegation, or a person counted under their nation's capital."""

    name: str
    nation: str


# A day off (weekend, public holiday) weighs as much as being ten hours outside a working day, plus how far outside
# that day's hours the slot falls: a Saturday 03:00 is worse than a Saturday 11:00, and both worse than 07:00 on a
# weekday (one hour early).
DAY_OFF_MINUTES = 600


@dataclass(frozen=True)
class Outside:
    participant: str
    nation: str
    reason: str  # "weekend", "public holiday: …", "before 08:00" / "after 18:00" (local), "spans midnight"
    local_start: datetime
    minutes: int = 0  # how far outside: from the slot's far edge to the working day (plus DAY_OFF_MINUTES on a day off)


@dataclass
class Slot:
    start: datetime  # UTC
    end: datetime  # UTC
    inside: list[str] = field(default_factory=list)
    outside: list[Outside] = field(default_factory=list)

    @property
    def score(self) -> int:
        return len(self.inside)

    @property
    def cost(self) -> int:
        """Minutes outside working hours, summed over the participants (shown beside the slot)."""
        return sum(o.minutes for o in self.outside)

    @property
    def burden(self) -> int:
        """The ranking's first key: each participant's minutes outside, squared, summed. Squares because an hour
        deeper into the night costs more than the hour before it: 04:30 in Brussels (3 h 30 early for one) ranks
        below 06:00 in Brussels and 19:30 in Wellington (2 h and 1 h 30 for two), though both sum to 210 minutes."""
        return sum(o.minutes * o.minutes for o in self.outside)


def _participants(items: Sequence[Any]) -> list[Participant]:
    result: list[Participant] = []
    for item in items:
        if isinstance(item, Participant):
            result.append(item)
        elif isinstance(item, str):
            result.append(Participant(item, item))
        else:  # a User: counted under their nation's capital
            nation = getattr(item, "nation_id", None)
            if not nation:
                raise UnknownNation(f"{getattr(item, 'username', item)!s} has no nation")
            result.append(Participant(f"{item.username} ({nation})", str(nation)))
    for p in result:
        capital(p.nation)  # refuse unknown nations before any work
    return result


@lru_cache(maxsize=256)
def _holidays(country: str, subdiv: str | None, years: tuple[int, ...]) -> dict[date, str]:
    try:
        found = holidays.country_holidays(country, subdiv=subdiv, years=years)
    except NotImplementedError:  # a country the library does not cover: no holidays rather than no answer
        return {}
    return {day: str(name) for day, name in found.items()}


def _verdict(local_start: datetime, local_end: datetime, hours: WorkingHours, days_off: dict[date, str]) -> str | None:
    """None when the slot lies inside the working day; else why not."""
    day = local_start.date()
    if local_start.weekday() not in hours.weekdays:
        return "weekend"
    if day in days_off:
        return f"public holiday: {days_off[day]}"
    if local_start.time() < hours.start:
        return f"before {hours.start:%H:%M}"
    end_day = local_end.date()
    # A slot ending exactly at midnight ends on the next day; that is still past any working day's end.
    if end_day != day or local_end.time() > hours.end or local_start.time() >= hours.end:
        return f"after {hours.end:%H:%M}" if end_day == day else "spans midnight"
    return None


def _minutes_outside(local_start: datetime, duration: timedelta, hours: WorkingHours, day_off: bool) -> int:
    """How far a slot falls outside one capital's working day, in minutes: from the working day's start back to the
    slot's start, plus from the day's end on to the slot's end (wall-clock, on the slot's local start day), plus
    DAY_OFF_MINUTES on a weekend or holiday. 01:00–02:30 is 420 (seven hours early); 20:00–21:30 is 210."""
    start = local_start.hour * 60 + local_start.minute
    end = start + int(duration.total_seconds() // 60)
    work_start = hours.start.hour * 60 + hours.start.minute
    work_end = hours.end.hour * 60 + hours.end.minute
    distance = max(0, work_start - start) + max(0, end - work_end)
    return distance + (DAY_OFF_MINUTES if day_off else 0)


def spread_over_days(slots: Sequence[Slot], zone: ZoneInfo, per_day: int) -> list[Slot]:
    """``slots`` (ranked) reordered so that each day's best come first: in rank order, a slot is taken unless its day
    (in ``zone``) already has ``per_day`` slots taken or it overlaps one taken that day; the slots passed over follow,
    still in rank order. Nothing is dropped, so paging on reaches every slot."""
    taken: list[Slot] = []
    later: list[Slot] = []
    by_day: dict[date, list[Slot]] = {}
    for slot in slots:
        day = slot.start.astimezone(zone).date()
        same_day = by_day.setdefault(day, [])
        if len(same_day) >= per_day or any(slot.start < s.end and s.start < slot.end for s in same_day):
            later.append(slot)
        else:
            same_day.append(slot)
            taken.append(slot)
    return taken + later


def propose_slots(
    participants: Sequence[Any],
    duration: timedelta,
    first_day: date,
    last_day: date,
    step: timedelta = timedelta(minutes=30),
    hours: dict[str, WorkingHours] | None = None,
    limit: int | None = None,
    per_day: int | None = 2,
    day_zone: str = "UTC",
) -> list[Slot]:
    """Rank every slot of ``duration`` starting each ``step`` from 00:00 UTC of ``first_day`` to the end of
    ``last_day`` (UTC; both included) by how far outside working hours it falls, for whom and by how much: the
    smallest ``Slot.burden`` (each participant's minutes outside, squared, summed; a slot inside everyone's hours
    weighs 0), then the fewest minutes outside in all, then the most participants inside, then earliest. So 08:00 in
    Brussels, 16:00 in Tokyo and 20:00 in Wellington (3 h 30 late there, 1 h 30 in Canberra) beats 01:00 in Brussels
    (seven hours early), though the second has more participants inside. Then the suggestions are spread over the
    days (``spread_over_days``: at most ``per_day`` non-overlapping slots a day, days read in ``day_zone``, come
    first; ``None`` keeps the plain rank). Each slot lists who would be outside, why and by how many minutes.
    ``participants`` are nation codes, Users (counted under their nation's capital) or ``Participant``; ``hours``
    overrides the 08:00–18:00 weekday default per nation."""
    if duration <= timedelta(0) or duration > timedelta(hours=24):
        raise ValueError("the duration must be more than 0 and at most 24 hours")
    if step < timedelta(minutes=5):
        raise ValueError("the step must be at least 5 minutes")
    if last_day < first_day:
        raise ValueError("the range ends before it starts")
    if (last_day - first_day).days > 92:
        raise ValueError("the range is limited to 93 days")
    people = _participants(participants)
    if not people:
        raise ValueError("at least one participant is needed")
    hours = hours or {}
    range_start = datetime.combine(first_day, time(0), tzinfo=UTC)
    range_end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=UTC)
    years = tuple(range(first_day.year - 1, last_day.year + 2))  # local dates may fall in a neighbouring year

    # Work per nation, not per person: people of one nation share the verdict.
    nations = sorted({p.nation for p in people})
    zones = {n: ZoneInfo(capital(n).zone) for n in nations}
    days_off = {n: _holidays(capital(n).country, capital(n).subdiv, years) for n in nations}
    members: dict[str, list[Participant]] = {n: [] for n in nations}
    for p in people:
        members[p.nation].append(p)

    slots: list[Slot] = []
    start = range_start
    while start + duration <= range_end:
        end = start + duration
        slot = Slot(start=start, end=end)
        for nation in nations:
            tz = zones[nation]
            local_start, local_end = start.astimezone(tz), end.astimezone(tz)
            own_hours = hours.get(nation, DEFAULT_HOURS)
            reason = _verdict(local_start, local_end, own_hours, days_off[nation])
            if reason is None:
                slot.inside.extend(p.name for p in members[nation])
            else:
                day_off = reason == "weekend" or reason.startswith("public holiday")
                minutes = _minutes_outside(local_start, duration, own_hours, day_off)
                slot.outside.extend(Outside(p.name, nation, reason, local_start, minutes) for p in members[nation])
        slots.append(slot)
        start += step
    slots.sort(key=lambda s: (s.burden, s.cost, -s.score, s.start))
    if per_day is not None:
        slots = spread_over_days(slots, ZoneInfo(day_zone), per_day)
    return slots[:limit] if limit is not None else slots
