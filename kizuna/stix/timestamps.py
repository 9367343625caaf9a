"""STIX 2.1 timestamps: the one formatter and the one parser every module uses.

STIX 2.1, section 3.2 (timestamp): "The timestamp MUST be represented in the UTC timezone and MUST use the "Z"
designation to indicate this"; the fraction of a second is optional and of any length; ``created`` and ``modified``
MUST be precise to at least the millisecond. So:

- ``format_timestamp`` writes UTC with a trailing Z and exactly three fraction digits (``2026-01-31T09:30:00.120Z``);
  TAXII ``date_added`` and paging cursors use ``precision="microsecond"`` (six digits) so that two objects added within
  one millisecond stay apart. Digits beyond the precision are cut, never rounded: a formatted time is never later than
  the instant it stands for.
- ``parse_timestamp`` accepts exactly the spec's form and nothing else. A value without a zone (``...T09:30:00``) or
  with an offset (``+09:00``, even ``+00:00``) is refused with a ``TimestampError`` that says why, rather than guessed:
  a zoneless value read as UTC would be off by hours for a partner in Tokyo, silently. Digits beyond the microsecond
  (Python's limit) are cut. A leap second (``:60``), which the spec's pattern allows, is no Python datetime: refused.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Precision = Literal["millisecond", "microsecond"]

# Section 3.2: YYYY-MM-DDTHH:MM:SS[.s+]Z. Fractions are capped at nine digits (nanoseconds) to bound the input.
TIMESTAMP_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z")
_ZONED_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<zone>[+-]\d{2}:?\d{2}|z)?")

EXAMPLE = "2026-01-31T00:00:00.000Z"


class TimestampError(ValueError):
    """A value that is not a STIX 2.1 timestamp; the message says what is wrong with it."""


def format_timestamp(moment: datetime, precision: Precision = "millisecond") -> str:
    """``moment`` (aware) as a STIX timestamp in UTC with a trailing Z, cut to milliseconds or microseconds."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TimestampError("a STIX timestamp needs an aware datetime; this one has no time zone")
    u = moment.astimezone(UTC)
    # Not strftime: its %Y drops the leading zeros of years before 1000 on glibc, which no parser then reads.
    fraction = f"{u.microsecond // 1000:03d}" if precision == "millisecond" else f"{u.microsecond:06d}"
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{fraction}Z"


def parse_timestamp(value: str) -> datetime:
    """A STIX timestamp as an aware datetime in UTC. Raises TimestampError for anything else (see the module)."""
    if not isinstance(value, str):
        raise TimestampError(f"a STIX timestamp is a string such as {EXAMPLE}")
    m = TIMESTAMP_RE.fullmatch(value)
    if m is None:
        zoned = _ZONED_RE.fullmatch(value)
        if zoned is not None and zoned.group("zone") is None:
            raise TimestampError(f"{value!r} has no time zone: STIX timestamps are UTC with a trailing Z, "
                                 f"such as {EXAMPLE}")
        if zoned is not None:
            raise TimestampError(f"{value!r} is not in UTC with a trailing Z: STIX timestamps are UTC with a "
                                 f"trailing Z, such as {EXAMPLE}")
        raise TimestampError(f"{value!r} is not a STIX timestamp such as {EXAMPLE}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    micro = int((m.group(7) or "").ljust(6, "0")[:6])
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError as exc:
        raise TimestampError(f"{value!r} is not a valid date and time: {exc}") from None


def parse_timestamp_or_none(value: Any) -> datetime | None:
    """``parse_timestamp``, for received data where a bad or missing value is simply absent."""
    try:
        return parse_timestamp(value)
    except TimestampError:
        return None



def strictly_later(moment: str, previous: str | None) -> str:
    """The ``modified`` of a new version: ``moment``, unless it is not later than the ``previous`` version's (two
    writes within one millisecond, or a clock set back), then ``previous`` plus one millisecond. Each version of an
    object must be strictly later than the one before it, or receivers keep the older one. Compared as instants,
    whatever the fraction's length (``...27.5Z`` is later than ``...27.123Z``)."""
    earlier = parse_timestamp_or_none(previous)
    if earlier is None:
        return moment
    now = parse_timestamp_or_none(moment)
    if now is not None and now > earlier:
        return moment
    return format_timestamp(earlier + timedelta(milliseconds=1))
