"""Korean: 2026년 12월 10일 (목) 16:00 (``D`` is 목 and ``l`` 목요일 in Django's Korean catalog)."""

WHEN_DATETIME_FORMAT = "Y년 n월 j일 (D) H:i"
WHEN_SECONDS_FORMAT = "Y년 n월 j일 (D) H:i:s"
WHEN_DATE_FORMAT = "Y년 n월 j일 (D)"
WHEN_MONTH_DAY_FORMAT = "n월 j일"
DAY_DATETIME_FORMAT = "Y년 n월 j일 (D) H:i"
MEETING_DATETIME_FORMAT = "Y년 n월 j일 (D) H:i"
DAY_DATE_FORMAT = "Y년 n월 j일 (D)"
SHORT_DAY_FORMAT = "n월 j일 (D)"
SHORT_DAY_TIME_FORMAT = "n월 j일 (D) H:i"
WEEKDAY_TIME_FORMAT = "l H:i"
MONTH_HEADING_FORMAT = "Y년 n월"
LONG_DAY_DATE_FORMAT = "Y년 n월 j일 l"
LONG_DAY_DATETIME_FORMAT = "Y년 n월 j일 l H:i"
LONG_DATE_FORMAT = "Y년 n월 j일"
LONG_DATETIME_ZONE_FORMAT = "Y년 n월 j일 H:i T"
DUE_DATE_FORMAT = "Y년 n월 j일"
ISO_MONTH_FORMAT = "Y년 n월"

# Django's Korean catalog gives the full name (목요일) for "Thu": the short weekday is its first syllable (목), taken
# by kizuna.core.dates.format_local from the translated name, so "(D)" reads "(목)".
WEEKDAY_ABBREVIATION_LENGTH = 1

# Between a date and a time written apart (the minutes): a space, no comma.
DATE_TIME_SEPARATOR = " "
# No ordinal for the first of the month (French has one: 1er).
FIRST_DAY_ORDINAL = ""
