"""Kizuna's date and time formats per language (settings.FORMAT_MODULE_PATH): Django looks here before its own locale
formats, so ``date_format(value, "DAY_DATETIME_FORMAT")``, ``{{ value|date:"DAY_DATE_FORMAT" }}`` and
``kizuna.core.dates.local_format`` read the active language's pattern.

A pattern is a Django ``date`` format whose day and month names (``D``, ``l``, ``M``, ``F``) come from Django's own
translations, so no name is hard-coded here. Every language module defines every Kizuna name (``tests/core/
test_formats.py`` checks it): a name missing from one module would be printed as it is. The standard names Django
knows (DATE_FORMAT, YEAR_MONTH_FORMAT ...) are left to Django's locale modules except where one is given here.

Names, with the English pattern and what it is for:
- WHEN_DATETIME_FORMAT (``Y-m-d H:i``), WHEN_SECONDS_FORMAT, WHEN_DATE_FORMAT, WHEN_MONTH_DAY_FORMAT: the ``{% when %}``
  tag (a moment in the reader's zone; English keeps the ISO-like form of issue 13);
- DAY_DATETIME_FORMAT (``D j M Y H:i``), MEETING_DATETIME_FORMAT (``D j M Y, H:i``), DAY_DATE_FORMAT (``D j M Y``),
  SHORT_DAY_FORMAT (``D j M``), SHORT_DAY_TIME_FORMAT (``D j M H:i``), WEEKDAY_TIME_FORMAT (``D H:i``),
  MONTH_HEADING_FORMAT (``F Y``): consultation pages and calendars;
- LONG_DAY_DATE_FORMAT (``l j F Y``), LONG_DAY_DATETIME_FORMAT, LONG_DATE_FORMAT (``j F Y``),
  LONG_DATETIME_ZONE_FORMAT (``j F Y, H:i T``): minutes (PDF) and e-mails;
- DUE_DATE_FORMAT (``j M Y``): a calendar date with no time of day (an action's due date);
- ISO_MONTH_FORMAT (``Y-m``): a month heading on the strategic timeline;
- DATE_TIME_SEPARATOR (``, ``) between a date and a time written apart; WEEKDAY_ABBREVIATION_LENGTH (see
  kizuna.core.dates).
"""
