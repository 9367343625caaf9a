"""English: the formats the UI showed before issue 14 (ISO-like moments, "Thu 10 Dec 2026" on consultation pages)."""

WHEN_DATETIME_FORMAT = "Y-m-d H:i"
WHEN_SECONDS_FORMAT = "Y-m-d H:i:s"
WHEN_DATE_FORMAT = "Y-m-d"
WHEN_MONTH_DAY_FORMAT = "m-d"
DAY_DATETIME_FORMAT = "D j M Y H:i"
MEETING_DATETIME_FORMAT = "D j M Y, H:i"
DAY_DATE_FORMAT = "D j M Y"
SHORT_DAY_FORMAT = "D j M"
SHORT_DAY_TIME_FORMAT = "D j M H:i"
WEEKDAY_TIME_FORMAT = "D H:i"
MONTH_HEADING_FORMAT = "F Y"
LONG_DAY_DATE_FORMAT = "l j F Y"
LONG_DAY_DATETIME_FORMAT = "l j F Y, H:i"
LONG_DATE_FORMAT = "j F Y"
LONG_DATETIME_ZONE_FORMAT = "j F Y, H:i T"
# No-break spaces: a due date never wraps inside a narrow table cell.
DUE_DATE_FORMAT = "j M Y"
ISO_MONTH_FORMAT = "Y-m"

# Django's abbreviated weekday ("D") is used as it is (kizuna.core.dates.format_local).
WEEKDAY_ABBREVIATION_LENGTH = 0

# Between a date and a time written apart (the minutes: "Tuesday 2 June 2026, 09:00–11:00").
DATE_TIME_SEPARATOR = ", "
# No ordinal for the first of the month (French has one: 1er).
FIRST_DAY_ORDINAL = ""
