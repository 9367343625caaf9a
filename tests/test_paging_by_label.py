"""Keyset paging over records of several labels returns exactly the visible rows, newest first, each once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kizuna.core.access import intern_label
from kizuna.directory.subjects import subject_for
from kizuna.reports.models import Report
from kizuna.reports.queries import ReportFilter, list_reports
from tests.conftest import make_label


def test_pages_over_many_labels_return_every_visible_row_once_newest_first(jpn_user: Any) -> None:
    visible = [intern_label(make_label(releasable_to=n)) for n in (["JPN"], ["IP4"], ["JPN", "KOR"])]
    hidden = intern_label(make_label(releasable_to=["KOR"]))
    base = datetime(2025, 1, 1, tzinfo=UTC)
    for i in range(40):
        record = [*visible, hidden][i % 4]
        report = Report.objects.create(title=f"r{i}", label=record, originator=jpn_user.organisation, author=jpn_user)
        # Equal timestamps in pairs: the id breaks the tie.
        Report.objects.filter(pk=report.pk).update(created_at=base + timedelta(minutes=i // 2))
    expected = list(
        Report.objects.filter(label__in=visible).order_by("-created_at", "-id").values_list("id", flat=True)
    )
    seen: list[int] = []
    cursor = None
    while True:
        page = list_reports(subject_for(jpn_user), ReportFilter(), cursor, limit=7)
        seen.extend(r.pk for r in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected
    assert len(seen) == 30
