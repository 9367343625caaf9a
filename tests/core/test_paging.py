"""Keyset paging: every visible record exactly once, newest first, ties broken by id, cursors opaque and checked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from kizuna.core.access import intern_label
from kizuna.core.errors import ServiceError
from kizuna.core.paging import MAX_LIMIT, decode_cursor, encode_cursor, keyset_page
from kizuna.directory.subjects import subject_for
from kizuna.reports.models import Report
from tests.conftest import make_label


def _all_pages(qs: Any, limit: int) -> list[list[int]]:
    pages: list[list[int]] = []
    cursor: str | None = None
    while True:
        page = keyset_page(qs, cursor, limit)
        pages.append([r.pk for r in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


@pytest.fixture
def reports(jpn_user: Any) -> list[Report]:
    """Seven reports; three share one timestamp so the id must break the tie."""
    record = intern_label(make_label(releasable_to=["JPN"]))
    made = [
        Report.objects.create(title=f"r{i}", label=record, originator=jpn_user.organisation, author=jpn_user)
        for i in range(7)
    ]
    base = timezone.now() - timedelta(days=1)
    stamps = [base + timedelta(minutes=m) for m in (0, 1, 2, 2, 2, 3, 4)]
    for report, stamp in zip(made, stamps, strict=True):
        Report.objects.filter(pk=report.pk).update(created_at=stamp)
    return list(Report.objects.all())


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 50])
def test_pages_cover_every_record_once_newest_first(reports: list[Report], limit: int) -> None:
    pages = _all_pages(Report.objects.all(), limit)
    flat = [pk for page in pages for pk in page]
    expected = [r.pk for r in sorted(reports, key=lambda r: (r.created_at, r.pk), reverse=True)]
    assert flat == expected
    assert all(len(page) == limit for page in pages[:-1])
    assert pages[-1]  # never an empty last page with a dangling cursor


def test_paging_a_visible_to_queryset_shows_only_visible_records(reports: list[Report], jpn_user: Any, kor_user: Any) -> None:
    hidden_from_kor = {r.pk for r in reports}
    open_record = intern_label(make_label(releasable_to=["IP4"]))
    shared = Report.objects.create(title="shared", label=open_record, originator=jpn_user.organisation, author=jpn_user)
    kor_pages = _all_pages(Report.objects.visible_to(subject_for(kor_user)), 2)
    assert kor_pages == [[shared.pk]]
    jpn_flat = [pk for page in _all_pages(Report.objects.visible_to(subject_for(jpn_user)), 3) for pk in page]
    assert set(jpn_flat) == hidden_from_kor | {shared.pk}


def test_empty_queryset_gives_one_empty_page(db: Any) -> None:
    page = keyset_page(Report.objects.none(), None, 10)
    assert page.items == [] and page.next_cursor is None


def test_cursor_round_trips_and_reveals_no_count(reports: list[Report]) -> None:
    report = reports[0]
    cursor = encode_cursor(report.created_at, report.pk)
    assert decode_cursor(cursor) == (report.created_at, report.pk)
    assert "=" not in cursor


@pytest.mark.parametrize("cursor", ["garbage!", "bm90LWEtY3Vyc29y", "MjAyNi0wMS0wMXxub3Q"])
def test_bad_cursor_is_a_readable_error(db: Any, cursor: str) -> None:
    with pytest.raises(ServiceError, match="the page cursor is not valid"):
        keyset_page(Report.objects.all(), cursor, 10)


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1])
def test_limit_out_of_range_is_refused(db: Any, limit: int) -> None:
    with pytest.raises(ServiceError, match=f"limit must be between 1 and {MAX_LIMIT}") as excinfo:
        keyset_page(Report.objects.all(), None, limit)
    assert excinfo.value.field == "limit"
