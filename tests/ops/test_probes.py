"""/healthz answers without the database; /readyz names what is not ready (database, migrations, data directory)
with a 503. Both are open without signing in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.db.utils import OperationalError
from django.test import Client

from kizuna.ops import checks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_migrations_ok() -> Iterator[None]:
    checks._migrations_ok = False
    yield
    checks._migrations_ok = False


def test_healthz_answers_anonymously_without_touching_the_database(client: Client,
                                                                  django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_readyz_is_ready_on_a_migrated_node(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ready"}


def test_readyz_is_503_when_the_database_does_not_answer(client: Client) -> None:
    broken = mock.MagicMock()
    broken.cursor.side_effect = OperationalError("connection refused to db.internal:5432 as kizuna")
    with mock.patch.object(checks, "connections", {"default": broken}):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["not_ready"] == {"database": "unreachable"}
    assert "db.internal" not in response.content.decode()  # the driver's message goes to the log, not the caller


def test_readyz_is_503_when_a_migration_is_unapplied(client: Client) -> None:
    with mock.patch.object(checks.MigrationExecutor, "migration_plan", return_value=[("m", False), ("n", False)]):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["not_ready"] == {"migrations": "2 unapplied"}


def test_readyz_is_503_when_the_data_directory_is_not_writable(client: Client, settings: Any, tmp_path: Any) -> None:
    settings.DATA_DIR = tmp_path / "missing" / "dir"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["not_ready"] == {"data_dir": "not writable"}


def test_the_probes_write_no_audit_entry(client: Client) -> None:
    from kizuna.core.models import AuditEntry

    before = AuditEntry.objects.count()
    client.get("/healthz")
    client.get("/readyz")
    client.get("/metrics")
    assert AuditEntry.objects.count() == before
