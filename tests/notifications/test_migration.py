"""The data migration: the rows of the two old notification tables (consultations' and the threat watch's) arrive in
the one table with their record, key, times and e-mail state, and go back when the migration is reversed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kizuna.consultations import notify
from kizuna.consultations.models import ActionItem, NotificationKind
from kizuna.consultations.services import do_create_action
from kizuna.notifications.models import Notification
from kizuna.threats.watch import services as watch
from tests.conftest import make_label
from tests.notifications.test_inbox import _meeting
from tests.threats.test_views import REL_BOTH, put

BEFORE = [("consultations", "0002_cycle"), ("threats_watch", "0001_initial"), ("notifications", "0001_initial")]
AFTER = [("consultations", "0003_delete_notification"), ("threats_watch", "0002_delete_notification"),
         ("notifications", "0002_copy_old_notifications")]
T1 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate to ``targets``; the apps (historical models) of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def _latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _rows() -> set[tuple[Any, ...]]:
    rows = Notification.objects.values_list("user_id", "module", "kind", "ref", "key", "detail", "created_at",
                                            "read_at", "emailed_at")
    return {(*row[:5], tuple(sorted(row[5].items())), *row[6:]) for row in rows}


@pytest.mark.django_db(transaction=True)
def test_rows_of_both_old_tables_are_copied_and_copied_back(jpn_user: Any, kor_user: Any) -> None:
    meeting = _meeting(kor_user, ["JPN", "KOR"])
    action = do_create_action(kor_user, "Share the lessons", make_label(releasable_to=["JPN", "KOR"]),
                              meeting=meeting, owner_user=jpn_user)
    obj = put(kor_user, "indicator", make_label(**REL_BOTH), name="x")
    other = put(kor_user, "indicator", make_label(**REL_BOTH), name="y")
    filter_ = watch.do_save_watch_filter(jpn_user, watch.WatchInput(name="w", types=["indicator"]))
    Notification.objects.all().delete()  # only the rows made below
    Notification.objects.bulk_create([
        Notification(user=jpn_user, module="consultations", kind=NotificationKind.INVITATION,
                     ref=notify.ref_of(meeting), key=f"invitation:{meeting.pk}", created_at=T1, read_at=T2,
                     emailed_at=T2),
        Notification(user=jpn_user, module="consultations", kind=NotificationKind.ACTION_ASSIGNED,
                     ref=notify.ref_of(action), key=f"action_assigned:{action.pk}:user:{jpn_user.pk}", created_at=T2),
        Notification(user=jpn_user, module="threats", kind=watch.WATCH_MATCH, ref=obj.stix_id,
                     key=watch.watch_key(obj.stix_id), detail={"watch_filter": filter_.pk}, created_at=T1),
        Notification(user=kor_user, module="threats", kind=watch.WATCH_MATCH, ref=other.stix_id,
                     key=watch.watch_key(other.stix_id), created_at=T2, read_at=T2),
    ])
    expected = _rows()
    try:
        old = _migrate(BEFORE)  # backwards: into the old tables
        consultation = old.get_model("consultations", "Notification")
        watched = old.get_model("threats_watch", "Notification")
        assert not old.get_model("notifications", "Notification").objects.exists()
        assert set(consultation.objects.values_list("user_id", "kind", "meeting_id", "action_id", "created_at",
                                                    "read_at", "emailed_at")) == {
            (jpn_user.pk, "invitation", meeting.pk, None, T1, T2, T2),
            (jpn_user.pk, "action_assigned", meeting.pk, action.pk, T2, None, None)}
        assert set(watched.objects.values_list("user_id", "stix_id", "watch_filter_id", "created_at", "read_at")) == {
            (jpn_user.pk, obj.stix_id, filter_.pk, T1, None), (kor_user.pk, other.stix_id, None, T2, T2)}
        # A row of the old watch table whose filter was deleted, and an old meeting notice of another user.
        watched.objects.create(user_id=kor_user.pk, stix_id=obj.stix_id, watch_filter_id=None)
        consultation.objects.create(user_id=kor_user.pk, kind="meeting_changed", meeting_id=meeting.pk,
                                    key=f"meeting_changed:{meeting.pk}:1")
        _migrate(AFTER)  # forwards: copied into the one table
        _latest()
    finally:
        _latest()
    rows = _rows()
    assert expected < rows and len(rows) == 6
    assert Notification.objects.filter(user=kor_user, module="threats", ref=obj.stix_id, detail={},
                                       key=watch.watch_key(obj.stix_id)).exists()
    assert Notification.objects.filter(user=kor_user, module="consultations", ref=f"meeting:{meeting.pk}",
                                       kind="meeting_changed", key=f"meeting_changed:{meeting.pk}:1").exists()
    assert ActionItem.objects.filter(pk=action.pk).exists()
    # The record's id is copied beside its ref: what the resolver looks the record up by.
    assert set(Notification.objects.values_list("ref", "record_id")) == {
        (f"meeting:{meeting.pk}", meeting.pk), (f"action:{action.pk}", action.pk),
        (obj.stix_id, None), (other.stix_id, None)}
