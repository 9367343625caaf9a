"""Interned labels and the one enforcement point: `visible_to` and its per-subject cache stay correct when labels
appear, when subjects change, and across rolled-back transactions."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.http import Http404
from django.test import override_settings

from kizuna.core.access import clear_caches, get_visible_or_404, intern_label, label_of, visible_label_ids
from kizuna.core.models import LabelRecord, label_id_for
from kizuna.directory.models import Nation, NationGroup
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label, LabelError
from kizuna.reports.models import Report
from tests.conftest import make_label


class Rollback(Exception):
    """Raised inside a transaction to roll it back on purpose."""


def _report(author: Any, label: Label, title: str = "r") -> Report:
    return Report.objects.create(
        title=title, label=intern_label(label), originator=author.organisation, author=author
    )


def _visible_titles(user: Any) -> set[str]:
    return set(Report.objects.visible_to(subject_for(user)).values_list("title", flat=True))


# --- interning ------------------------------------------------------------------------------------------------------


def test_interning_the_same_label_twice_gives_one_row(db: Any) -> None:
    first = intern_label(make_label(releasable_to=["JPN"]))
    second = intern_label(make_label(releasable_to=["JPN"]))
    assert first.pk == second.pk
    assert LabelRecord.objects.count() == 1


def test_label_id_is_content_addressed(db: Any) -> None:
    a = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["NATO", "IP4"], "communities": ["CYBER"]})
    b = Label.build("NATO", "UNCLASSIFIED", {"communities": ["CYBER"], "releasable_to": ["IP4", "NATO", "IP4"]})
    record = intern_label(a)
    assert record.pk == label_id_for(a) == label_id_for(b) == intern_label(b).pk
    assert record.pk != label_id_for(make_label(releasable_to=["NATO"]))
    assert 0 < record.pk < 2**63  # fits a signed BIGINT on every database


def test_interned_row_holds_key_and_display(db: Any) -> None:
    label = Label.from_api(
        {"policy": "NATO", "classification": "UNCLASSIFIED", "categories": {"releasable_to": ["NATO", "IP4"],
         "communities": ["CYBER"]}, "tlp": "AMBER", "recipients": []}
    )
    record = intern_label(label)
    record.refresh_from_db()
    assert record.display == "NATO UNCLASSIFIED REL TO NATO, IP4 // CYBER // TLP:AMBER"
    assert record.to_label() == label
    assert label_of(record) == label
    assert (record.policy, record.classification) == ("NATO", "UNCLASSIFIED")


def test_label_id_survives_a_rollback_unchanged(db: Any) -> None:
    label = make_label(releasable_to=["KOR"])
    with pytest.raises(Rollback), transaction.atomic():
        before = intern_label(label).pk
        raise Rollback
    assert not LabelRecord.objects.filter(pk=before).exists()
    assert intern_label(label).pk == before


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (Label.build("EU", "UNCLASSIFIED"), "unknown policy"),
        (Label.build("NATO", "SECRET"), "not defined by policy NATO"),
        (Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["XXX"]}), "not allowed"),
        (Label.build("NATO", "UNCLASSIFIED", {}, "RED"), "TLP:RED needs at least one named recipient"),
    ],
)
def test_interning_refuses_invalid_labels_and_stores_nothing(db: Any, label: Label, message: str) -> None:
    with pytest.raises(LabelError, match=message):
        intern_label(label)
    assert LabelRecord.objects.count() == 0


@override_settings(KIZUNA_MAX_CLASSIFICATION={"NATO": "UNCLASSIFIED"})
def test_node_refuses_labels_above_its_maximum_classification(db: Any) -> None:
    with pytest.raises(LabelError, match="this node may not hold NATO RESTRICTED information"):
        intern_label(make_label(classification="RESTRICTED"))
    assert intern_label(make_label(classification="UNCLASSIFIED")).pk


@override_settings(KIZUNA_MAX_CLASSIFICATION={})
def test_node_without_a_maximum_for_a_policy_refuses_its_labels(db: Any) -> None:
    with pytest.raises(LabelError, match="may not hold"):
        intern_label(make_label())


# --- visible_to and its cache ---------------------------------------------------------------------------------------


def test_korean_user_cannot_see_report_rel_to_japan(jpn_user: Any, kor_user: Any) -> None:
    _report(jpn_user, make_label(releasable_to=["JPN"]), "jpn")
    _report(jpn_user, make_label(releasable_to=["IP4"]), "ip4")
    assert _visible_titles(jpn_user) == {"jpn", "ip4"}
    assert _visible_titles(kor_user) == {"ip4"}


def test_no_labels_means_an_empty_queryset(jpn_user: Any) -> None:
    assert visible_label_ids(subject_for(jpn_user)) == frozenset()
    assert list(Report.objects.visible_to(subject_for(jpn_user))) == []


def test_cache_sees_labels_interned_after_the_first_decision(jpn_user: Any, kor_user: Any) -> None:
    _report(jpn_user, make_label(releasable_to=["JPN"]), "old")
    assert _visible_titles(kor_user) == set()  # cached: KOR sees nothing
    _report(jpn_user, make_label(releasable_to=["KOR", "JPN"]), "new")
    assert _visible_titles(kor_user) == {"new"}
    assert _visible_titles(jpn_user) == {"old", "new"}


def test_cache_follows_a_clearance_change(jpn_user: Any) -> None:
    _report(jpn_user, make_label(releasable_to=["JPN"], classification="RESTRICTED"), "restricted")
    assert _visible_titles(jpn_user) == {"restricted"}
    jpn_user.clearances = {"NATO": "UNCLASSIFIED"}
    jpn_user.save()
    assert _visible_titles(jpn_user) == set()
    jpn_user.clearances = {}
    jpn_user.save()
    assert _visible_titles(jpn_user) == set()
    jpn_user.clearances = {"NATO": "RESTRICTED"}
    jpn_user.save()
    assert _visible_titles(jpn_user) == {"restricted"}


def test_cache_follows_a_community_change(jpn_user: Any) -> None:
    _report(jpn_user, make_label(releasable_to=["JPN"], communities=["CYBER", "SPACE"]), "cyber-space")
    assert _visible_titles(jpn_user) == {"cyber-space"}
    jpn_user.communities = ["CYBER"]
    jpn_user.save()
    assert _visible_titles(jpn_user) == set()
    jpn_user.communities = ["SPACE", "CYBER", "EDT"]
    jpn_user.save()
    assert _visible_titles(jpn_user) == {"cyber-space"}


def test_cache_follows_nation_group_membership(jpn_user: Any, kor_user: Any) -> None:
    _report(jpn_user, make_label(releasable_to=["IP4"]), "ip4")
    assert _visible_titles(kor_user) == {"ip4"}
    NationGroup.objects.get(code="IP4").members.remove("KOR")
    assert _visible_titles(kor_user) == set()
    assert _visible_titles(jpn_user) == {"ip4"}
    NationGroup.objects.get(code="IP4").members.add(Nation.objects.get(code="KOR"))
    assert _visible_titles(kor_user) == {"ip4"}


def test_cache_follows_a_change_of_nationality(jpn_user: Any) -> None:
    _report(jpn_user, make_label(releasable_to=["JPN"]), "jpn")
    assert _visible_titles(jpn_user) == {"jpn"}
    jpn_user.nation_id = "USA"
    jpn_user.save()
    assert _visible_titles(jpn_user) == set()


def test_inactive_user_sees_nothing(jpn_user: Any) -> None:
    _report(jpn_user, make_label(releasable_to=["JPN"]), "jpn")
    jpn_user.is_active = False
    jpn_user.save()
    assert _visible_titles(jpn_user) == set()


def test_cache_stays_correct_across_a_rolled_back_transaction(jpn_user: Any, kor_user: Any) -> None:
    _report(jpn_user, make_label(releasable_to=["JPN"]), "kept")
    kor_label = make_label(releasable_to=["KOR", "JPN"])
    with pytest.raises(Rollback), transaction.atomic():
        _report(jpn_user, kor_label, "rolled back")
        assert _visible_titles(kor_user) == {"rolled back"}  # the decision is cached inside the transaction
        raise Rollback
    assert not LabelRecord.objects.filter(pk=label_id_for(kor_label)).exists()
    assert _visible_titles(kor_user) == set()
    assert visible_label_ids(subject_for(kor_user)) == frozenset()
    # The same label interned again later gets the same id, and the cached decision about it is still right.
    _report(jpn_user, kor_label, "again")
    assert _visible_titles(kor_user) == {"again"}
    assert _visible_titles(jpn_user) == {"kept", "again"}


def test_cache_after_a_rollback_does_not_leak_a_label_to_the_wrong_subject(jpn_user: Any, kor_user: Any) -> None:
    jpn_only = make_label(releasable_to=["JPN"])
    with pytest.raises(Rollback), transaction.atomic():
        _report(jpn_user, jpn_only, "x")
        assert _visible_titles(kor_user) == set()
        raise Rollback
    _report(jpn_user, jpn_only, "y")
    assert _visible_titles(kor_user) == set()
    assert _visible_titles(jpn_user) == {"y"}


def test_tlp_red_report_visible_only_to_recipients(jpn_user: Any, make_user: Any) -> None:
    colleague = make_user("taro", "JPN", "JPN-MOD")
    outsider = make_user("ken", "JPN", "JPN-NISC")
    _report(jpn_user, make_label(releasable_to=["JPN"], tlp="RED", recipients=["org:JPN-MOD"]), "red")
    assert _visible_titles(colleague) == {"red"}
    assert _visible_titles(outsider) == set()


# --- get_visible_or_404 ---------------------------------------------------------------------------------------------


def test_missing_and_invisible_records_are_the_same_404(jpn_user: Any, kor_user: Any) -> None:
    report = _report(jpn_user, make_label(releasable_to=["JPN"]), "jpn")
    assert get_visible_or_404(Report.objects.all(), subject_for(jpn_user), pk=report.pk) == report
    with pytest.raises(Http404) as invisible:
        get_visible_or_404(Report.objects.all(), subject_for(kor_user), pk=report.pk)
    with pytest.raises(Http404) as missing:
        get_visible_or_404(Report.objects.all(), subject_for(kor_user), pk=report.pk + 1000)
    assert str(invisible.value) == str(missing.value) == "not found"


def test_malformed_id_is_a_404_not_an_error(jpn_user: Any) -> None:
    with pytest.raises(Http404):
        get_visible_or_404(Report.objects.all(), subject_for(jpn_user), pk="not-a-number")


# --- rows that cannot be trusted ------------------------------------------------------------------------------------


def test_label_row_edited_in_the_database_is_visible_to_no_one(jpn_user: Any, kor_user: Any) -> None:
    """Widening a label by editing its row breaks content addressing, so the row is denied instead of trusted."""
    _report(jpn_user, make_label(releasable_to=["JPN"]), "jpn")
    _report(jpn_user, make_label(releasable_to=["IP4"]), "ip4")
    jpn_only = LabelRecord.objects.get(pk=label_id_for(make_label(releasable_to=["JPN"])))
    jpn_only.key = make_label(releasable_to=["JPN", "KOR"]).key()
    jpn_only.save()
    clear_caches()  # a process that did not intern the label itself: it must read the row, and must not trust it
    assert _visible_titles(kor_user) == {"ip4"}
    assert _visible_titles(jpn_user) == {"ip4"}


def test_unreadable_label_row_denies_without_breaking_other_reads(jpn_user: Any) -> None:
    _report(jpn_user, make_label(releasable_to=["JPN"]), "jpn")
    for pk, key in ((1, "{not json"), (2, '{"policy": "NATO", "classification": "UNCLASSIFIED", "colour": "red"}')):
        LabelRecord.objects.create(id=pk, key=key, policy="NATO", classification="UNCLASSIFIED", display="?")
        Report.objects.create(title=f"bad{pk}", label_id=pk, originator=jpn_user.organisation, author=jpn_user)
    assert _visible_titles(jpn_user) == {"jpn"}
    assert _visible_titles(jpn_user) == {"jpn"}  # and again, from the cache
