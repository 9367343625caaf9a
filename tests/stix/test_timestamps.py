"""The one STIX timestamp formatter and parser (kizuna.stix.timestamps), without a database: UTC with a trailing Z
both ways, milliseconds by default, microseconds for TAXII, and a clear refusal of anything else (STIX 2.1, 3.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.stix.timestamps import (
    TimestampError,
    format_timestamp,
    parse_timestamp,
    parse_timestamp_or_none,
    strictly_later,
)

NOW = datetime(2026, 3, 2, 22, 10, tzinfo=UTC)

aware = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                     timezones=st.sampled_from([UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))]))
fraction = st.text(alphabet="0123456789", min_size=0, max_size=9)
spelled = st.builds(
    lambda moment, digits: (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
                            f"{moment.minute:02d}:{moment.second:02d}" + (f".{digits}" if digits else "") + "Z"),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)), fraction,
)


def test_a_timestamp_is_utc_with_milliseconds_and_a_trailing_z() -> None:
    assert format_timestamp(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01T00:00:00.000Z"  # four-digit years
    tokyo = datetime(2026, 3, 3, 7, 10, 0, 123456, tzinfo=timezone(timedelta(hours=9)))
    assert format_timestamp(tokyo) == "2026-03-02T22:10:00.123Z"
    assert format_timestamp(NOW) == "2026-03-02T22:10:00.000Z"


def test_taxii_times_keep_microseconds() -> None:
    assert format_timestamp(NOW + timedelta(microseconds=7), "microsecond") == "2026-03-02T22:10:00.000007Z"


def test_digits_beyond_the_precision_are_cut_never_rounded() -> None:
    assert format_timestamp(NOW + timedelta(microseconds=999_999)) == "2026-03-02T22:10:00.999Z"
    assert parse_timestamp("2026-03-02T22:10:00.123456789Z") == NOW + timedelta(microseconds=123_456)


def test_a_naive_datetime_is_refused_rather_than_read_as_local_time() -> None:
    with pytest.raises(TimestampError, match="no time zone"):
        format_timestamp(datetime(2026, 3, 2, 22, 10))


@pytest.mark.parametrize("value", ["2026-03-02T22:10:00Z", "2026-03-02T22:10:00.0Z", "2026-03-02T22:10:00.000Z",
                                   "2026-03-02T22:10:00.000000000Z"])
def test_any_fraction_length_up_to_nanoseconds_is_read(value: str) -> None:
    assert parse_timestamp(value) == NOW


def test_a_partner_timestamp_without_zone_is_refused_not_guessed() -> None:
    with pytest.raises(TimestampError, match="has no time zone: STIX timestamps are UTC with a trailing Z"):
        parse_timestamp("2026-03-02T22:10:00")
    assert parse_timestamp_or_none("2026-03-02T22:10:00.000") is None


@pytest.mark.parametrize("value", ["2026-03-03T07:10:00+09:00", "2026-03-02T22:10:00.000+00:00",
                                   "2026-03-02T22:10:00-0500", "2026-03-02T22:10:00z"])
def test_an_offset_is_refused_even_a_zero_one(value: str) -> None:
    with pytest.raises(TimestampError, match="is not in UTC with a trailing Z"):
        parse_timestamp(value)


@pytest.mark.parametrize("value", ["yesterday", "", "2026-03-02", "2026-03-02 22:10:00Z", "2026-13-02T22:10:00Z",
                                   "2026-02-30T22:10:00Z", "2026-03-02T24:00:00Z", "2026-03-02T22:10:00.Z",
                                   "2026-03-02T22:10:00.1234567890Z", " 2026-03-02T22:10:00Z"])
def test_what_is_not_a_timestamp_is_refused(value: str) -> None:
    with pytest.raises(TimestampError):
        parse_timestamp(value)
    assert parse_timestamp_or_none(value) is None


def test_a_value_that_is_not_a_string_is_absent() -> None:
    assert parse_timestamp_or_none(None) is None
    assert parse_timestamp_or_none(1_700_000_000) is None


@given(aware)
def test_formatting_then_parsing_keeps_the_instant_to_the_millisecond(moment: datetime) -> None:
    parsed = parse_timestamp(format_timestamp(moment))
    assert parsed.tzinfo is UTC
    assert timedelta(0) <= moment - parsed < timedelta(milliseconds=1)
    assert parsed.microsecond % 1000 == 0
    assert parse_timestamp(format_timestamp(moment, "microsecond")) == moment


@given(spelled)
def test_format_of_parse_is_stable(value: str) -> None:
    once = format_timestamp(parse_timestamp(value))
    assert format_timestamp(parse_timestamp(once)) == once
    assert len(once) == len("2026-03-02T22:10:00.000Z") and once.endswith("Z")
    assert once[:19] == value[:19]  # the same second: only digits past the millisecond are cut


@given(spelled)
def test_the_microsecond_form_is_stable_too(value: str) -> None:
    once = format_timestamp(parse_timestamp(value), "microsecond")
    assert format_timestamp(parse_timestamp(once), "microsecond") == once


def test_a_new_version_is_strictly_later_than_the_previous_one() -> None:
    assert strictly_later("2026-01-31T09:30:00.002Z", "2026-01-31T09:30:00.001Z") == "2026-01-31T09:30:00.002Z"
    assert strictly_later("2026-01-31T09:30:00.001Z", None) == "2026-01-31T09:30:00.001Z"
    # Same millisecond, or a clock set back: one millisecond after the previous version.
    assert strictly_later("2026-01-31T09:30:00.001Z", "2026-01-31T09:30:00.001Z") == "2026-01-31T09:30:00.002Z"
    assert strictly_later("2026-01-31T09:00:00.000Z", "2026-01-31T09:30:00.001Z") == "2026-01-31T09:30:00.002Z"
    # Compared as instants, not as strings: ".5" is later than ".123".
    assert strictly_later("2026-01-31T09:30:00.123Z", "2026-01-31T09:30:00.5Z") == "2026-01-31T09:30:00.501Z"
