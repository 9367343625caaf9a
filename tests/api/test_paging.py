"""The list endpoint's keyset pages: following ``next_cursor`` reaches every visible report exactly once, in order,
and never an invisible one; and the cost of a page in queries does not grow with its size."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kizuna.reports.models import Attachment, Report


def _walk(api: Any, query: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        url = f"reports?{query}" + (f"&cursor={cursor}" if cursor else "")
        response = api.get(url)
        assert response.status_code == 200
        page = response.json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("pagination did not end")


def test_next_cursor_reaches_every_visible_report_exactly_once(
    jpn_user: Any, kor_user: Any, api_for: Any, report_of: Any
) -> None:
    visible: list[Report] = []
    for i in range(6):
        visible.append(report_of(jpn_user, f"jpn only {i}", releasable_to=["JPN"]))
        visible.append(report_of(jpn_user, f"ip4 cyber {i}", releasable_to=["IP4"], communities=["CYBER"]))
        visible.append(report_of(kor_user, f"korean ip4 {i}", releasable_to=["IP4"]))
        visible.append(report_of(jpn_user, f"red {i}", releasable_to=["JPN"], tlp="RED"))
    hidden = [report_of(kor_user, f"korea only {i}", releasable_to=["KOR"]) for i in range(8)]
    withdrawn = report_of(jpn_user, "withdrawn", releasable_to=["JPN"])
    Report.objects.filter(pk=withdrawn.pk).update(status="withdrawn")
    # Ties on created_at across labels: the cursor must still split them without loss or repetition.
    same_time = dt.datetime(2025, 1, 1, 9, 0, tzinfo=dt.UTC)
    Report.objects.filter(pk__in=[r.pk for r in visible[:9] + hidden[:3]]).update(created_at=same_time)

    items = _walk(api_for(jpn_user), "limit=5")
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), "a report appeared on two pages"
    assert set(ids) == {r.pk for r in visible}
    keys = [(item["created_at"], item["id"]) for item in items]
    assert keys == sorted(keys, reverse=True)


def test_pages_of_one_reach_the_same_reports_as_one_big_page(jpn_user: Any, api_for: Any, report_of: Any) -> None:
    for i in range(7):
        report_of(jpn_user, f"r{i}", releasable_to=["JPN"] if i % 2 else ["IP4"])
    api = api_for(jpn_user)
    assert [i["id"] for i in _walk(api, "limit=1")] == [i["id"] for i in _walk(api, "limit=200")]


def test_filters_hold_across_pages(jpn_user: Any, api_for: Any, report_of: Any) -> None:
    wanted = {report_of(jpn_user, f"typhoon {i}").pk for i in range(5)}
    for i in range(5):
        report_of(jpn_user, f"other {i}")
    assert {i["id"] for i in _walk(api_for(jpn_user), "q=typhoon&limit=2")} == wanted


def _list_queries(api: Any, limit: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(f"reports?limit={limit}")
    assert response.status_code == 200
    assert len(response.json()["items"]) == limit
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_page_size(
    jpn_user: Any, kor_user: Any, api_for: Any, report_of: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        author = jpn_user if i % 3 else kor_user
        report = report_of(author, f"r{i}", releasable_to=["IP4"] if i % 2 else ["NATO", "IP4"], communities=["CYBER"])
        for n in range(2):
            Attachment.objects.create(
                report=report, filename=f"f{n}.txt", content_type="text/plain", size=1, sha256="0" * 64,
                stored_name=f"s-{report.pk}-{n}", uploaded_by=author,
            )
    api = api_for(jpn_user)
    api.get("reports?limit=1")  # warm the label decision cache and the token's last-used stamp
    small = _list_queries(api, 2)
    large = _list_queries(api, 30)
    assert large == small
    with django_assert_max_num_queries(small):
        page = api.get("reports?limit=25").json()
    assert all(len(item["attachments"]) == 2 for item in page["items"])
