"""A record received from a federation peer is dated by when its originator wrote it (its STIX ``created``), and its
search entry carries that date at once — not the local time it arrived, until a reindex. Through a real sync from a
medallion TAXII server, signed by a remote node: a report, and a consultation series."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kizuna.consultations.models import Series
from kizuna.consultations.stix import CONSULTATION_EXTENSION_ID, SERIES_TYPE
from kizuna.directory.subjects import subject_for
from kizuna.federation import sync
from kizuna.federation.models import Peer
from kizuna.reports.models import Report
from kizuna.search import find
from kizuna.search.index import rebuild
from kizuna.search.models import SearchEntry
from kizuna.threats.markings import label_marking, label_marking_id
from tests.federation.test_sync_medallion import RemoteNode, medallion, post, remote  # noqa: F401 - fixtures
from tests.reports.test_report_federation import remote_report
from tests.search.conftest import SHARED

pytestmark = pytest.mark.django_db

WRITTEN = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _own_data_dir(settings: Any, tmp_path: Path) -> Path:
    """Node keys are made on first use: each test keeps its own."""
    settings.DATA_DIR = tmp_path
    return tmp_path


def _entry_date(kind: str, record_id: int) -> datetime:
    date: datetime = SearchEntry.objects.get(kind=kind, record_id=record_id).date
    return date


def test_a_received_report_is_found_under_its_originators_date(
        medallion: str, remote: tuple[RemoteNode, Peer], make_user: Any) -> None:  # noqa: F811 - fixtures
    node, peer = remote
    obj = node.sign(remote_report(SHARED))
    post(medallion, [label_marking(SHARED), obj])
    [result] = sync.sync_peer(peer)
    assert result.ok, result.error
    report = Report.objects.get(stix_id=obj["id"])
    assert report.created_at == WRITTEN
    assert _entry_date("report", report.pk) == WRITTEN  # at once, without a reindex
    reader = make_user("sakura", "JPN", "JPN-MOD")
    found = find(subject_for(reader), "typhoon", year=2026, since=WRITTEN, until=datetime(2026, 3, 2, tzinfo=UTC),
                 threats=False)
    assert [h.record_id for h in found.hits] == [report.pk] and found.hits[0].date == WRITTEN
    rebuild(["report"])
    assert _entry_date("report", report.pk) == WRITTEN  # what a reindex gives: the same


def test_a_received_consultation_series_is_found_under_its_originators_date(
        medallion: str, remote: tuple[RemoteNode, Peer]) -> None:  # noqa: F811 - fixtures
    node, peer = remote
    obj = node.sign({
        "type": SERIES_TYPE, "spec_version": "2.1", "id": f"{SERIES_TYPE}--{uuid.uuid4()}",
        "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
        "name": "Trilateral maritime staff talks", "object_marking_refs": [label_marking_id(SHARED)],
        "extensions": {CONSULTATION_EXTENSION_ID: {"extension_type": "new-sdo"}},
    })
    post(medallion, [label_marking(SHARED), obj])
    [result] = sync.sync_peer(peer)
    assert result.ok, result.error
    series = Series.objects.get(stix_id=obj["id"])
    assert series.created_at == WRITTEN
    assert _entry_date("series", series.pk) == WRITTEN
