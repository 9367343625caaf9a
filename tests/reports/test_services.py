"""Report writes obey the label rules: create, relabel, edit rights, versions, attachments."""

from __future__ import annotations

import io
from typing import Any

import pytest

from kizuna.core.errors import ServiceError
from kizuna.core.models import AuditEntry, Version
from kizuna.directory.subjects import subject_for
from kizuna.reports.models import Attachment, Report
from kizuna.reports.services import (
    ReportInput,
    do_add_attachment,
    do_create_report,
    do_update_report,
    do_withdraw_report,
)
from tests.conftest import make_label


def _create(user: Any, **label_kwargs: Any) -> Report:
    return do_create_report(user, ReportInput(title="Port visit", label=make_label(**label_kwargs)))


def test_korean_user_cannot_see_report_rel_to_japan(jpn_user: Any, kor_user: Any) -> None:
    report = _create(jpn_user, releasable_to=["JPN"])
    assert Report.objects.visible_to(subject_for(jpn_user)).filter(pk=report.pk).exists()
    assert not Report.objects.visible_to(subject_for(kor_user)).filter(pk=report.pk).exists()


def test_group_value_ip4_releases_to_every_partner(jpn_user: Any, kor_user: Any, make_user: Any) -> None:
    report = _create(jpn_user, releasable_to=["IP4"])
    usa = make_user("john", "USA", "USA-DOD")
    assert Report.objects.visible_to(subject_for(kor_user)).filter(pk=report.pk).exists()
    assert not Report.objects.visible_to(subject_for(usa)).filter(pk=report.pk).exists()


def test_user_cannot_create_report_they_could_not_see(jpn_user: Any) -> None:
    with pytest.raises(ServiceError, match="could not see"):
        _create(jpn_user, releasable_to=["KOR"])
    assert Report.objects.count() == 0
    assert not AuditEntry.objects.filter(action="create").exists()


def test_restricted_item_refused_without_clearance(make_user: Any) -> None:
    low = make_user("low", "JPN", "JPN-MOD", clearance="UNCLASSIFIED")
    with pytest.raises(ServiceError, match="could not see"):
        _create(low, releasable_to=["JPN"], classification="RESTRICTED")


def test_tlp_red_names_the_originating_organisation(jpn_user: Any, make_user: Any) -> None:
    colleague = make_user("taro", "JPN", "JPN-MOD")
    other_org = make_user("ken", "JPN", "JPN-NISC")
    report = _create(jpn_user, releasable_to=["JPN"], tlp="RED", recipients=["user:hanako"])
    assert Report.objects.visible_to(subject_for(colleague)).filter(pk=report.pk).exists()
    assert not Report.objects.visible_to(subject_for(other_org)).filter(pk=report.pk).exists()


def test_relabel_by_other_nation_is_refused_and_versions_are_kept(jpn_user: Any, kor_user: Any) -> None:
    report = _create(jpn_user, releasable_to=["IP4"])
    with pytest.raises(ServiceError, match="originating organisation"):
        do_update_report(kor_user, report, label=make_label(releasable_to=["KOR"]))
    updated = do_update_report(jpn_user, report, label=make_label(releasable_to=["JPN"]), title="Port visit (rev)")
    assert updated.version == 2
    assert Version.objects.filter(object_id=report.pk).count() == 2
    assert not Report.objects.visible_to(subject_for(kor_user)).filter(pk=report.pk).exists()


def test_withdrawn_report_cannot_be_edited(jpn_user: Any) -> None:
    report = do_withdraw_report(jpn_user, _create(jpn_user, releasable_to=["JPN"]))
    with pytest.raises(ServiceError, match="withdrawn"):
        do_update_report(jpn_user, report, title="x")


def test_attachment_of_wrong_type_leaves_no_file(jpn_user: Any, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    report = _create(jpn_user, releasable_to=["JPN"])
    with pytest.raises(ServiceError, match="does not look like"):
        do_add_attachment(jpn_user, report, "evil.pdf", io.BytesIO(b"MZ\x90\x00 not a pdf"))
    assert list(tmp_path.iterdir()) == []
    assert Attachment.objects.count() == 0
    ok = do_add_attachment(jpn_user, report, "note.pdf", io.BytesIO(b"%PDF-1.7 hello"))
    assert ok.size == 14 and len(list(tmp_path.iterdir())) == 1


def test_attachment_over_size_limit_is_refused(jpn_user: Any, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.KIZUNA_ATTACHMENT_MAX_BYTES = 1024
    report = _create(jpn_user, releasable_to=["JPN"])
    with pytest.raises(ServiceError, match="larger than"):
        do_add_attachment(jpn_user, report, "big.txt", io.BytesIO(b"a" * 5000))
    assert list(tmp_path.iterdir()) == []


def test_node_refuses_items_above_its_maximum_classification(jpn_user: Any, settings: Any) -> None:
    settings.KIZUNA_MAX_CLASSIFICATION = {"NATO": "UNCLASSIFIED"}
    with pytest.raises(ServiceError, match="may not hold NATO RESTRICTED"):
        _create(jpn_user, releasable_to=["JPN"], classification="RESTRICTED")
    assert Report.objects.count() == 0


def test_coordinator_of_same_nation_may_relabel_but_other_org_contributor_may_not(jpn_user: Any, make_user: Any) -> None:
    report = _create(jpn_user, releasable_to=["IP4"])
    contributor = make_user("ken", "JPN", "JPN-NISC")
    coordinator = make_user("yuki", "JPN", "JPN-NISC", role="coordinator")
    with pytest.raises(ServiceError, match="originating organisation"):
        do_update_report(contributor, report, label=make_label(releasable_to=["JPN"]))
    updated = do_update_report(coordinator, report, label=make_label(releasable_to=["JPN"]))
    assert updated.version == 2
