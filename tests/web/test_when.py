"""One rule for moments on every page (issue 13, point 7): the reader's time zone with the zone named, UTC on hover,
the exact instant in <time datetime>; STIX timestamps (strings) and stored datetimes alike; calendar dates as they are."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.test import Client
from django.utils import timezone

from kizuna.web.templatetags.kizuna_web import when

MOMENT = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)  # already 5 December in Tokyo


def test_a_moment_is_shown_in_the_readers_zone_with_the_zone_and_utc_on_hover() -> None:
    with timezone.override(ZoneInfo("Asia/Tokyo")):
        html = when(MOMENT)
        date_only = when("2026-12-04T22:30:00.000Z", "date")
    assert html == ('<time datetime="2026-12-04T22:30:00Z" title="2026-12-05 07:30 JST · 2026-12-04 22:30 UTC">'
                    "2026-12-05 07:30 JST</time>")
    assert ">2026-12-05</time>" in date_only and 'title="2026-12-05 07:30 JST · 2026-12-04 22:30 UTC"' in date_only
    with timezone.override(ZoneInfo("Europe/Brussels")):
        assert ">2026-12-04 23:30 CET</time>" in when(MOMENT)


def test_calendar_dates_and_empty_values_have_no_zone() -> None:
    assert when(date(2026, 12, 10)) == '<time datetime="2026-12-10">2026-12-10</time>'
    assert when(None) == "—" and when("") == "—"
    assert when("not a time") == "not a time"


def test_the_threat_overview_shows_the_readers_day_for_a_stix_timestamp(jpn_user: Any) -> None:
    """The overview showed the UTC date of an object while reports showed the Tokyo date of the same load."""
    from tests.conftest import make_label
    from tests.threats.test_queries_fixtures import put

    jpn_user.timezone = "Asia/Tokyo"
    jpn_user.save()
    obj = put("indicator", make_label(releasable_to=["JPN"]))
    stamp = "2026-12-04T22:30:00.000Z"
    type(obj).objects.filter(pk=obj.pk).update(modified=stamp)
    client = Client()
    client.force_login(jpn_user)
    page = client.get("/threats/").content.decode()
    assert '<time datetime="2026-12-04T22:30:00Z"' in page and ">2026-12-05</time>" in page
