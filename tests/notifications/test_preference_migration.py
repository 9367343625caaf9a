"""The move of the e-mail choice: each person's mode and digest time in consultations' ``CalendarSettings`` arrive in
the notifications app's ``Preference`` (notifications 0004, then consultations 0005 drops the columns), and go back
when the migrations are reversed (a weekly choice, unknown to the old column, going back as daily)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kizuna.notifications.models import EmailMode, Preference

BEFORE = [("consultations", "0004_list_by_recency"), ("notifications", "0003_preference")]
T1 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def _latest() -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_choices_are_kept_when_the_preference_moves(jpn_user: Any, kor_user: Any, make_user: Any) -> None:
    nobody = make_user("kiri", "NZL", "NZL-MFAT")
    try:
        old = _migrate(BEFORE)
        settings = old.get_model("consultations", "CalendarSettings")
        settings.objects.create(user_id=jpn_user.pk, email_mode="daily", last_digest_at=T1,
                                feed_digest="a" * 64)
        settings.objects.create(user_id=kor_user.pk, email_mode="off")
        _latest()
        assert set(Preference.objects.values_list("user_id", "email_mode", "last_digest_at")) == {
            (jpn_user.pk, EmailMode.DAILY, T1), (kor_user.pk, EmailMode.OFF, None)}
        assert not Preference.objects.filter(user=nobody).exists()  # no row: each notification e-mailed, as before
        Preference.objects.filter(user=kor_user).update(email_mode=EmailMode.WEEKLY)
        old = _migrate(BEFORE)
        back = old.get_model("consultations", "CalendarSettings")
        assert set(back.objects.values_list("user_id", "email_mode", "last_digest_at", "feed_digest")) == {
            (jpn_user.pk, "daily", T1, "a" * 64), (kor_user.pk, "daily", None, None)}
    finally:
        _latest()
