"""French: jeudi 10 décembre 2026 16:00 (day and month names lower case, from Django's French catalog)."""

WHEN_DATETIME_FORMAT = "l j F Y H:i"
WHEN_SECONDS_FORMAT = "l j F Y H:i:s"
WHEN_DATE_FORMAT = "l j F Y"
WHEN_MONTH_DAY_FORMAT = "j F"
DAY_DATETIME_FORMAT = "l j F Y H:i"
MEETING_DATETIME_FORMAT = "l j F Y, H:i"
DAY_DATE_FORMAT = "l j F Y"
SHORT_DAY_FORMAT = "D j N"
SHORT_DAY_TIME_FORMAT = "D j N H:i"
WEEKDAY_TIME_FORMAT = "l H:i"
MONTH_HEADING_FORMAT = "F Y"
LONG_DAY_DATE_FORMAT = "l j F Y"
LONG_DAY_DATETIME_FORMAT = "l j F Y, H:i"
LONG_DATE_FORMAT = "j F Y"
LONG_DATETIME_ZONE_FORMAT = "j F Y, H:i T"
DUE_DATE_FORMAT = "j F Y"
ISO_MONTH_FORMAT = "F Y"

# Django's abbreviated weekday ("D") is used as it is (kizuna.core.dates.format_local).
WEEKDAY_ABBREVIATION_LENGTH = 0

# Between a date and a time written apart (the minutes: "Tuesday 2 June 2026, 09:00–11:00").
DATE_TIME_SEPARATOR = ", "
# The first of the month is an ordinal: mardi 1er décembre 2026 (kizuna.core.dates.format_local).
FIRST_DAY_ORDINAL = "er"
