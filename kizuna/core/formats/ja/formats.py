"""Japanese: year, month, day, then the weekday in brackets — 2026年12月10日(木) 16:00 (``D`` is 木 in Django's
Japanese catalog)."""

WHEN_DATETIME_FORMAT = "Y年n月j日(D) H:i"
WHEN_SECONDS_FORMAT = "Y年n月j日(D) H:i:s"
WHEN_DATE_FORMAT = "Y年n月j日(D)"
WHEN_MONTH_DAY_FORMAT = "n月j日"
DAY_DATETIME_FORMAT = "Y年n月j日(D) H:i"
MEETING_DATETIME_FORMAT = "Y年n月j日(D) H:i"
DAY_DATE_FORMAT = "Y年n月j日(D)"
SHORT_DAY_FORMAT = "n月j日(D)"
SHORT_DAY_TIME_FORMAT = "n月j日(D) H:i"
WEEKDAY_TIME_FORMAT = "D曜 H:i"
MONTH_HEADING_FORMAT = "Y年n月"
LONG_DAY_DATE_FORMAT = "Y年n月j日(D)"
LONG_DAY_DATETIME_FORMAT = "Y年n月j日(D) H:i"
LONG_DATE_FORMAT = "Y年n月j日"
LONG_DATETIME_ZONE_FORMAT = "Y年n月j日 H:i T"
DUE_DATE_FORMAT = "Y年n月j日"
ISO_MONTH_FORMAT = "Y年n月"

# Django's abbreviated weekday ("D") is used as it is (kizuna.core.dates.format_local).
WEEKDAY_ABBREVIATION_LENGTH = 0

# Between a date and a time written apart (the minutes): a space, no comma.
DATE_TIME_SEPARATOR = " "
# No ordinal for the first of the month (French has one: 1er).
FIRST_DAY_ORDINAL = ""
