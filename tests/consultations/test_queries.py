"""The calendar range (overlap, labels, series, cancelled) and "my actions" (owners, states, order, keyset paging)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kizuna.consultations.models import ActionItem, ActionStatus, Meeting, MeetingStatus, Series
from kizuna.consultations.queries import (
    calendar_range,
    decode_action_cursor,
    encode_action_cursor,
    my_actions,
)
from kizuna.core.access import intern_label
from kizuna.core.errors import ServiceError
from kizuna.directory.models import Organisation
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label
from tests.conftest import make_label

IP4 = make_label(releasable_to=["IP4"])
JPN_ONLY = make_label(releasable_to=["JPN"])
RANGE_START = datetime(2026, 3, 1, tzinfo=UTC)
RANGE_END = datetime(2026, 4, 1, tzinfo=UTC)
TODAY = date(2026, 3, 15)


def _meeting(author: Any, title: str, start: datetime, hours: float = 2, label: Label = IP4,
             series: Series | None = None, status: str = MeetingStatus.SCHEDULED) -> Meeting:
    # Written directly (not through services) so these tests depend on the queries alone.
    return Meeting.objects.create(
        title=title, start=start, end=start + timedelta(hours=hours), time_zone="Europe/Brussels", series=series,
        status=status, uid=f"{uuid.uuid4()}@test", created_by=author, label=intern_label(label),
        originator=author.organisation)


def _action(author: Any, title: str, *, owner: Any = None, org: Organisation | None = None, due: date | None = None,
            status: str = ActionStatus.OPEN, label: Label = IP4, meeting: Meeting | None = None) -> ActionItem:
    return ActionItem.objects.create(
        title=title, owner_user=owner, owner_organisation=org, due=due, status=status, meeting=meeting,
        label=intern_label(label), originator=author.organisation)


def _titles(meetings: list[Meeting]) -> list[str]:
    return [m.title for m in meetings]


def test_calendar_range_holds_every_meeting_overlapping_the_range_by_start(jpn_user: Any) -> None:
    _meeting(jpn_user, "inside, later", datetime(2026, 3, 20, 9, tzinfo=UTC))
    _meeting(jpn_user, "inside", datetime(2026, 3, 10, 9, tzinfo=UTC))
    _meeting(jpn_user, "began before, ends inside", RANGE_START - timedelta(hours=1))
    _meeting(jpn_user, "spans the whole range", RANGE_START - timedelta(days=1), hours=24 * 13)
    _meeting(jpn_user, "ends exactly at the start", RANGE_START - timedelta(hours=2))
    _meeting(jpn_user, "starts exactly at the end", RANGE_END)
    _meeting(jpn_user, "long before", RANGE_START - timedelta(days=20))
    found = calendar_range(subject_for(jpn_user), RANGE_START, RANGE_END)
    assert _titles(found) == ["spans the whole range", "began before, ends inside", "inside", "inside, later"]
    # Series and label come with the rows (no query per meeting when a page shows them).
    assert found[0].label.display


def test_calendar_range_reaches_back_as_far_as_the_longest_meeting(jpn_user: Any) -> None:
    _meeting(jpn_user, "two weeks, ending inside", RANGE_START - timedelta(days=13, hours=23), hours=24 * 14)
    assert _titles(calendar_range(subject_for(jpn_user), RANGE_START, RANGE_END)) == ["two weeks, ending inside"]


def test_calendar_range_leaves_out_what_the_subject_may_not_see(jpn_user: Any, kor_user: Any) -> None:
    _meeting(jpn_user, "shared", datetime(2026, 3, 3, 9, tzinfo=UTC))
    _meeting(jpn_user, "Japan only", datetime(2026, 3, 4, 9, tzinfo=UTC), label=JPN_ONLY)
    assert _titles(calendar_range(subject_for(kor_user), RANGE_START, RANGE_END)) == ["shared"]
    assert _titles(calendar_range(subject_for(jpn_user), RANGE_START, RANGE_END)) == ["shared", "Japan only"]


def test_calendar_range_filters_by_series_and_can_leave_out_cancelled(jpn_user: Any) -> None:
    series = Series.objects.create(title="Cyber", time_zone="Europe/Brussels", created_by=jpn_user,
                                   label=intern_label(IP4), originator=jpn_user.organisation)
    _meeting(jpn_user, "round 1", datetime(2026, 3, 3, 9, tzinfo=UTC), series=series)
    _meeting(jpn_user, "round 2", datetime(2026, 3, 17, 9, tzinfo=UTC), series=series,
             status=MeetingStatus.CANCELLED)
    _meeting(jpn_user, "ad hoc", datetime(2026, 3, 5, 9, tzinfo=UTC))
    subject = subject_for(jpn_user)
    assert _titles(calendar_range(subject, RANGE_START, RANGE_END, series_id=series.pk)) == ["round 1", "round 2"]
    assert _titles(calendar_range(subject, RANGE_START, RANGE_END, include_cancelled=False)) == ["round 1", "ad hoc"]
    assert _titles(calendar_range(subject, RANGE_START, RANGE_END, series_id=series.pk,
                                  include_cancelled=False)) == ["round 1"]


def test_calendar_range_refuses_naive_times_and_an_empty_range_is_empty(jpn_user: Any) -> None:
    _meeting(jpn_user, "inside", datetime(2026, 3, 10, 9, tzinfo=UTC))
    with pytest.raises(ServiceError) as err:
        calendar_range(subject_for(jpn_user), datetime(2026, 3, 1), RANGE_END)  # naive: the point of the test
    assert err.value.field == "start"
    assert calendar_range(subject_for(jpn_user), RANGE_END, RANGE_START) == []


@pytest.fixture
def actions(jpn_user: Any, make_user: Any) -> dict[str, Any]:
    """Actions of hanako (JPN-MOD), of her organisation, of a colleague, of another organisation."""
    colleague = make_user("taro", "JPN", "JPN-MOD")
    other = make_user("ken", "JPN", "JPN-NISC")
    mod = Organisation.objects.get(code="JPN-MOD")
    nisc = Organisation.objects.get(code="JPN-NISC")
    meeting = _meeting(jpn_user, "Cyber", datetime(2026, 2, 2, 9, tzinfo=UTC))
    a = {
        "mine, due soon": _action(jpn_user, "mine, due soon", owner=jpn_user, due=date(2026, 3, 20), meeting=meeting),
        "mine, overdue": _action(jpn_user, "mine, overdue", owner=jpn_user, due=date(2026, 3, 1),
                                 status=ActionStatus.IN_PROGRESS),
        "mine, no date": _action(jpn_user, "mine, no date", owner=jpn_user),
        "mine, done": _action(jpn_user, "mine, done", owner=jpn_user, due=date(2026, 2, 1), status=ActionStatus.DONE),
        "mine, dropped": _action(jpn_user, "mine, dropped", owner=jpn_user, due=date(2026, 1, 1),
                                 status=ActionStatus.DROPPED),
        "ours, overdue": _action(jpn_user, "ours, overdue", org=mod, due=date(2026, 3, 10)),
        "ours, later": _action(jpn_user, "ours, later", org=mod, due=date(2026, 5, 1)),
        "ours, secret": _action(jpn_user, "ours, secret", org=mod, due=date(2026, 4, 1),
                                label=make_label(releasable_to=["JPN"], communities=["SPACE"],
                                                 classification="RESTRICTED", tlp="RED", recipients=["user:taro"])),
        "colleague's": _action(jpn_user, "colleague's", owner=colleague, due=date(2026, 3, 2)),
        "other org's": _action(jpn_user, "other org's", org=nisc, due=date(2026, 3, 2)),
    }
    return {"user": jpn_user, "colleague": colleague, "other": other, "actions": a}


def _names(page: Any) -> list[str]:
    return [a.title for a in page.items]


def test_my_actions_are_the_users_and_their_organisations_by_due_date_undated_last(actions: dict[str, Any]) -> None:
    page = my_actions(actions["user"], today=TODAY)
    assert _names(page) == ["mine, overdue", "ours, overdue", "mine, due soon", "ours, later", "mine, no date"]
    assert page.next_cursor is None
    # Owner and meeting come with the rows.
    assert page.items[2].meeting is not None and page.items[2].meeting.title == "Cyber"


def test_org_owned_actions_reach_every_member_who_may_see_them(actions: dict[str, Any]) -> None:
    assert _names(my_actions(actions["colleague"], today=TODAY)) == [
        "colleague's", "ours, overdue", "ours, secret", "ours, later"]
    # hanako belongs to the organisation too, but the TLP:RED action's label does not name her: not shown.
    assert "ours, secret" not in _names(my_actions(actions["user"], state="all", today=TODAY))
    assert _names(my_actions(actions["other"], today=TODAY)) == ["other org's"]


def test_my_actions_states(actions: dict[str, Any]) -> None:
    user = actions["user"]
    assert _names(my_actions(user, state="overdue", today=TODAY)) == ["mine, overdue", "ours, overdue"]
    assert _names(my_actions(user, state="overdue", today=date(2026, 3, 5))) == ["mine, overdue"]
    assert _names(my_actions(user, state="done", today=TODAY)) == ["mine, dropped", "mine, done"]
    assert _names(my_actions(user, state="all", today=TODAY)) == [
        "mine, dropped", "mine, done", "mine, overdue", "ours, overdue", "mine, due soon", "ours, later",
        "mine, no date"]


def test_my_actions_refuses_unknown_state_bad_limit_and_bad_cursor(actions: dict[str, Any]) -> None:
    user = actions["user"]
    for kwargs, field in (({"state": "late"}, "state"), ({"limit": 0}, "limit"), ({"limit": 1000}, "limit"),
                          ({"cursor": "not a cursor"}, "cursor"), ({"cursor": "bm9waXBl"}, "cursor"),
                          ({"cursor": encode_action_cursor(date(2026, 1, 1), 1)[:-3]}, "cursor")):
        with pytest.raises(ServiceError) as err:
            my_actions(user, **kwargs)
        assert err.value.field == field


def test_cursor_round_trips_dated_and_undated_positions() -> None:
    assert decode_action_cursor(encode_action_cursor(date(2026, 3, 1), 42)) == (date(2026, 3, 1), 42)
    assert decode_action_cursor(encode_action_cursor(None, 7)) == (None, 7)


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_paging_by_cursor_returns_every_action_once_in_order(jpn_user: Any, limit: int) -> None:
    mod = Organisation.objects.get(code="JPN-MOD")
    dues = [date(2026, 3, 1), None, date(2026, 3, 1), date(2026, 2, 1), None, date(2026, 3, 1), date(2026, 4, 1)]
    made = []
    for i in range(17):
        owner = {"owner": jpn_user} if i % 3 else {"org": mod}
        made.append(_action(jpn_user, f"a{i}", due=dues[i % len(dues)], **owner,
                            status=[ActionStatus.OPEN, ActionStatus.DONE][i % 2]))
    expected = [a.pk for a in sorted(made, key=lambda a: (a.due is None, a.due or date.min, a.pk))]
    seen: list[int] = []
    cursor = None
    for _ in range(100):
        page = my_actions(jpn_user, state="all", cursor=cursor, limit=limit)
        assert len(page.items) <= limit
        seen.extend(a.pk for a in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected
    assert len(set(seen)) == len(seen)
    # A cursor ends the walk without an empty last page when the rows divide evenly.
    assert my_actions(jpn_user, state="all", limit=17).next_cursor is None


def test_queries_cost_the_same_number_of_statements_whatever_the_rows(jpn_user: Any) -> None:
    subject = subject_for(jpn_user)
    mod = Organisation.objects.get(code="JPN-MOD")

    def counted(fn: Any) -> int:
        with CaptureQueriesContext(connection) as captured:
            fn()
        return len(captured.captured_queries)

    def both() -> tuple[int, int]:
        return (counted(lambda: calendar_range(subject, RANGE_START, RANGE_END)),
                counted(lambda: my_actions(jpn_user, state="all", subject=subject)))

    meeting = _meeting(jpn_user, "first", datetime(2026, 3, 2, 9, tzinfo=UTC))
    _action(jpn_user, "first", owner=jpn_user, due=date(2026, 3, 9), meeting=meeting)
    few = both()
    for i in range(12):
        m = _meeting(jpn_user, f"m{i}", datetime(2026, 3, 3 + i, 9, tzinfo=UTC))
        _action(jpn_user, f"a{i}", owner=jpn_user, due=date(2026, 3, 9) if i % 2 else None, meeting=m)
        _action(jpn_user, f"o{i}", org=mod, due=date(2026, 4, 1 + i), meeting=m)
    assert both() == few


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan; PostgreSQL plans by its statistics")
def test_sqlite_answers_from_the_start_and_owner_indexes(jpn_user: Any) -> None:
    subject = subject_for(jpn_user)
    _meeting(jpn_user, "m", datetime(2026, 3, 2, 9, tzinfo=UTC))
    _action(jpn_user, "a", owner=jpn_user, due=date(2026, 3, 9))
    _action(jpn_user, "o", org=Organisation.objects.get(code="JPN-MOD"), due=date(2026, 3, 9))
    with CaptureQueriesContext(connection) as captured:
        calendar_range(subject, RANGE_START, RANGE_END)
        my_actions(jpn_user, subject=subject)
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            if "consultations_" in query["sql"]:
                cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
                plans.append(" ".join(str(row[-1]) for row in cursor.fetchall()))
    assert "meeting_start" in plans[0]
    assert any("action_owner_due" in p for p in plans) and any("action_org_due" in p for p in plans)
    assert not any("MULTI-INDEX OR" in p for p in plans)
