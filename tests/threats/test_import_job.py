"""Background imports: ``start_import_job`` returns at once with an ImportJob that the UI and API poll; the job ends
with the summary (counts, first errors) and survives a reload because it is a row, not memory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kizuna.core.errors import ServiceError
from kizuna.threats.models import ImportJob, ImportStatus, StixObject
from kizuna.threats.services import join_import_job, start_import_job
from tests.conftest import make_label
from tests.threats.test_import_fixtures import bundle, indicator, malware

LABEL = make_label(releasable_to=["NATO", "IP4"])
pytestmark = pytest.mark.django_db(transaction=True)


def test_background_import_records_progress_and_summary(jpn_user: Any, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    bad = indicator(pattern="[oops")
    path.write_text(json.dumps(bundle([indicator(), malware(), bad])))
    job = start_import_job(jpn_user, path, "b.json", LABEL)
    assert job.pk and job.total_bytes == path.stat().st_size
    join_import_job(job.pk, timeout=60)
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == ImportStatus.DONE
    assert (job.accepted, job.unchanged, job.rejected) == (2, 0, 1)
    assert job.read_bytes == job.total_bytes
    assert job.rejected_by_reason == {"invalid STIX (pattern)": 1}
    assert job.errors[0]["index"] == 2 and job.errors[0]["id"] == bad["id"]
    assert job.finished_at is not None
    assert StixObject.objects.count() == 2


def test_background_import_of_broken_json_fails_with_the_reason(jpn_user: Any, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"type": "bundle", "objects": [{"type": "malware", ')
    job = start_import_job(jpn_user, path, "broken.json", LABEL)
    join_import_job(job.pk, timeout=60)
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == ImportStatus.FAILED
    assert "not valid JSON" in job.message


def test_a_png_uploaded_as_a_bundle_fails_saying_what_it_is_and_what_is_expected(jpn_user: Any, tmp_path: Path) -> None:
    path = tmp_path / "photo.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    job = start_import_job(jpn_user, path, "photo.json", LABEL)
    join_import_job(job.pk, timeout=60)
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == ImportStatus.FAILED
    assert job.message.startswith("the file is not JSON (it is a PNG image): expected a STIX 2.1 bundle"), job.message
    assert "lexical" not in job.message and "PNG\\" not in job.message


def test_a_single_object_uploaded_as_a_bundle_is_imported(jpn_user: Any, tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    one = malware()
    path.write_text(json.dumps(one))
    job = start_import_job(jpn_user, path, "one.json", LABEL)
    join_import_job(job.pk, timeout=60)
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == ImportStatus.DONE and job.accepted == 1
    assert StixObject.objects.filter(stix_id=one["id"]).exists()


def test_a_png_uploaded_as_a_misp_event_fails_saying_what_it_is(jpn_user: Any, tmp_path: Path) -> None:
    path = tmp_path / "photo.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    job = start_import_job(jpn_user, path, "photo.json", LABEL, fmt="misp")
    join_import_job(job.pk, timeout=60)
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == ImportStatus.FAILED
    assert job.message.startswith("the file is not a MISP event (it is a PNG image): expected a MISP event"), job.message


def test_refusals_are_immediate_not_a_failed_job(kor_user: Any, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle([malware()])))
    with pytest.raises(ServiceError):
        start_import_job(kor_user, path, "b.json", make_label(releasable_to=["JPN"]))
    with pytest.raises(ServiceError):
        start_import_job(kor_user, tmp_path / "missing.json", "missing.json", LABEL)
    assert not ImportJob.objects.exists()
