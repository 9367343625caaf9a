"""A series' cadence in words, in English and Japanese, for every kind of rule the series form accepts: no part of
an RRULE is left as raw text (issue 13, point 9: "and BYSETPOS=2", 「その他の規則：BYSETPOS=2」)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from django.utils import translation

from kizuna.consultations.models import Series
from kizuna.consultations.recurrence import cadence_words, parse_rrule

TOKYO_16 = ", at 16:00 (Asia/Tokyo), 120 minutes"

ENGLISH = [
    ("FREQ=MONTHLY;INTERVAL=3;BYDAY=TH;BYSETPOS=2", "The second Thursday of every third month" + TOKYO_16),
    ("FREQ=WEEKLY", "Every week" + TOKYO_16),
    ("FREQ=WEEKLY;INTERVAL=2", "Every other week" + TOKYO_16),
    ("FREQ=MONTHLY;INTERVAL=3", "Every third month" + TOKYO_16),
    ("FREQ=WEEKLY;BYDAY=TU", "Every week, on Tuesday" + TOKYO_16),
    ("FREQ=MONTHLY;BYDAY=1WE", "The first Wednesday of every month" + TOKYO_16),
    ("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15", "Day 15 of every third month" + TOKYO_16),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;COUNT=10", "Every other week, on Thursday" + TOKYO_16 + ", 10 times in all"),
    ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "The last weekday of every month" + TOKYO_16),
    ("FREQ=MONTHLY;BYDAY=TH;BYSETPOS=1,3", "The first and third Thursday of every month" + TOKYO_16),
    ("FREQ=YEARLY;BYMONTH=3;BYDAY=2TH", "The second Thursday of March, every year" + TOKYO_16),
    ("FREQ=MONTHLY;BYMONTHDAY=-1", "The last day of every month" + TOKYO_16),
    ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "Every day, on weekdays" + TOKYO_16),
    ("FREQ=WEEKLY;INTERVAL=4;BYDAY=TU", "Every fourth week, on Tuesday" + TOKYO_16),
    ("FREQ=MONTHLY;INTERVAL=14;BYDAY=-3FR", "The third to last Friday of every 14 months" + TOKYO_16),
    ("FREQ=YEARLY;BYYEARDAY=100", "Day 100 of every year" + TOKYO_16),
    ("FREQ=DAILY;BYHOUR=9,15", "Every day, at 09:00 and 15:00 (Asia/Tokyo), 120 minutes"),
    ("FREQ=MONTHLY;BYMONTHDAY=1,15;BYSETPOS=-1",
     "Days 1 and 15 of every month, only the last of these in each period" + TOKYO_16),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;WKST=SU", "Every other week, on Monday" + TOKYO_16 + ", weeks starting on Sunday"),
    ("FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", "Every year, on Monday, in week 20 of the year" + TOKYO_16),
    ("FREQ=MONTHLY;BYMONTH=1,7;BYDAY=MO,WE", "Every month, on Monday and Wednesday, in January and July" + TOKYO_16),
    ("FREQ=DAILY;UNTIL=20261231T000000Z", "Every day" + TOKYO_16 + ", until Dec. 31, 2026"),
    ("FREQ=HOURLY;INTERVAL=6", "Every 6 hours, from 16:00 (Asia/Tokyo), 120 minutes"),
]


def _series(rule: str) -> Series:
    return Series(rrule=rule, time_zone="Asia/Tokyo", start_time=time(16, 0), duration_minutes=120,
                  first_date=date(2026, 1, 8))


@pytest.mark.parametrize(("rule", "words"), ENGLISH)
def test_every_rule_the_form_accepts_is_said_in_english_words(rule: str, words: str) -> None:
    parse_rrule(rule, datetime(2026, 1, 8, 16, tzinfo=UTC))  # the series form (its service) accepts it
    with translation.override("en"):
        assert cadence_words(_series(rule)) == words


@pytest.mark.parametrize("rule", [rule for rule, _words in ENGLISH])
def test_no_rule_part_is_left_as_raw_text_in_japanese(rule: str) -> None:
    with translation.override("ja"):
        text = cadence_words(_series(rule))
    assert "=" not in text and "その他の規則" not in text
    assert not any(word in text for word in ("every", "Every", " of ", " and ", "weekday", "day ", "Day "))


def test_second_thursday_of_every_third_month_in_japanese() -> None:
    with translation.override("ja"):
        text = cadence_words(_series("FREQ=MONTHLY;INTERVAL=3;BYDAY=TH;BYSETPOS=2"))
    assert text.startswith("3か月ごとの第2木曜日")


def test_a_malformed_part_is_still_shown_as_written() -> None:
    with translation.override("en"):
        assert cadence_words(_series("FREQ=WEEKLY;BYDAY=XX")).endswith("and BYDAY=XX")
