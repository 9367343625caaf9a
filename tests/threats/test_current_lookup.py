"""The lookup of a version line's current version (``store.current_versions``: reports, practices and consultations
use it on every write of their STIX form) is answered from an index on stix_id, whatever the table statistics say
(issue 12, item 6: ``ORDER BY id LIMIT 1`` walked the primary key on PostgreSQL), and a large import refreshes the
statistics on PostgreSQL. The plans are read with EXPLAIN, not timed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kizuna.threats import importer, services
from kizuna.threats.store import STIX_TABLE, current_versions
from tests.conftest import make_label

pytestmark = pytest.mark.django_db

IP4 = make_label(releasable_to=["NATO", "IP4"])
T0 = "2026-02-01T00:00:00.000Z"


def _indicators(n: int) -> list[dict[str, Any]]:
    return [{"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}", "created": T0,
             "modified": T0, "name": f"n{i}", "pattern": f"[ipv4-addr:value = '10.{i // 65536}.{i // 256 % 256}.{i % 256}']",
             "pattern_type": "stix", "valid_from": T0} for i in range(n)]


def _plan(stix_id: str, originator_id: int) -> str:
    return current_versions(stix_id, originator_id).values_list("modified", flat=True)[:1].explain()


def test_the_current_version_of_a_line_is_found_through_an_index_on_stix_id(make_user: Any) -> None:
    user = make_user("hanako", "JPN", "JPN-MOD")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the statistics of an empty table, as after a bulk load
            cursor.execute(f"ANALYZE {STIX_TABLE}")
    objects = _indicators(6000)
    summary = services.do_import_objects(user, objects, default_label=IP4, source="plan")
    assert summary.accepted == 6000
    plan = _plan(objects[1234]["id"], user.organisation_id)
    if connection.vendor == "postgresql":
        assert "Index" in plan and ("stix_one_current" in plan or "stix_line_version_unique" in plan), plan
        assert "Seq Scan" not in plan and "pkey" not in plan, plan
    else:
        assert "USING INDEX stix_" in plan or "USING INDEX sqlite_autoindex" in plan, plan
    assert list(current_versions(objects[1234]["id"], user.organisation_id).values_list("stix_id", flat=True)) == [
        objects[1234]["id"]]


def test_a_large_import_refreshes_the_statistics_on_postgresql(make_user: Any, monkeypatch: Any) -> None:
    user = make_user("hanako", "JPN", "JPN-MOD")
    with CaptureQueriesContext(connection) as small:
        services.do_import_objects(user, _indicators(3), default_label=IP4, source="small")
    assert not [q for q in small.captured_queries if q["sql"].startswith("ANALYZE")]
    monkeypatch.setattr(importer, "ANALYZE_AFTER", 3)
    with CaptureQueriesContext(connection) as large:
        services.do_import_objects(user, _indicators(3), default_label=IP4, source="large")
    analyzed = [q["sql"] for q in large.captured_queries if q["sql"].startswith("ANALYZE")]
    if connection.vendor == "postgresql":
        assert analyzed == [f"ANALYZE {STIX_TABLE}, threats_observablevalue"]
    else:
        assert analyzed == []  # SQLite keeps no statistics unless asked, and its plans are written not to need them
