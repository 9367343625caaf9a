"""Loading DISARM from its STIX bundle, pinned to a version: the label for everyone, idempotent reloads, a different
version refused without --replace, lookups by external id, and the node working without DISARM loaded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kizuna.core.access import label_of
from kizuna.directory.subjects import subject_for
from kizuna.threats.disinfo import disarm
from kizuna.threats.disinfo.models import DisarmVersion
from kizuna.threats.models import StixObject
from tests.cli.helpers import kizuna, kizuna_refused

pytestmark = pytest.mark.django_db

IDENTITY = "identity--f1a0f560-2d9e-4c5d-bf47-7e96e805de82"
MARKING = "marking-definition--f79f25d2-8b96-4580-b169-eb7b613a7c31"
T = "2024-11-22T16:43:58.074918Z"


def _tactic(uid: str, external_id: str, name: str, shortname: str) -> dict[str, Any]:
    return {"type": "x-mitre-tactic", "spec_version": "2.1", "id": f"x-mitre-tactic--{uid}", "created_by_ref": IDENTITY,
            "created": T, "modified": T, "name": name, "x_mitre_shortname": shortname,
            "external_references": [{"source_name": "DISARM", "external_id": external_id}],
            "object_marking_refs": [MARKING]}


def _technique(uid: str, external_id: str, name: str, phase: str) -> dict[str, Any]:
    return {"type": "attack-pattern", "spec_version": "2.1", "id": f"attack-pattern--{uid}", "created_by_ref": IDENTITY,
            "created": T, "modified": T, "name": name,
            "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": phase}],
            "external_references": [{"source_name": "mitre-attack", "external_id": external_id,
                                     "url": f"https://example.org/{external_id}"}],
            "object_marking_refs": [MARKING], "x_mitre_is_subtechnique": "." in external_id}


def small_bundle(modified: str = T) -> dict[str, Any]:
    tactics = [
        _tactic("b03163eb-7e81-4fed-9819-641bf7c99507", "TA01", "Plan Strategy", "plan-strategy"),
        _tactic("1e005da9-56cc-4802-af90-b267d17a1ad1", "TA06", "Develop Content", "develop-content"),
        _tactic("19886784-0e07-474f-803c-30c443e65347", "TA12", "Assess Effectiveness", "assess-effectiveness"),
    ]
    techniques = [
        _technique("70717452-f7e3-4ce8-956f-39a4d34c5cfb", "T0002", "Facilitate State Propaganda", "plan-strategy"),
        _technique("21fc458a-ea4d-41bb-9442-aac7ddd24794", "T0015", "Create Hashtags and Search Artefacts",
                   "develop-content"),
        _technique("3bc92e69-67e4-405a-a6fb-a2d742395c45", "T0015.001", "Use Existing Hashtag", "develop-content"),
    ]
    for obj in techniques:
        obj["modified"] = modified
    return {"type": "bundle", "id": "bundle--4b8b0d29-e85e-4299-81d4-749033173d09", "objects": [
        {"type": "identity", "spec_version": "2.1", "id": IDENTITY, "created": T, "modified": T,
         "name": "DISARM Foundation", "identity_class": "organization"},
        {"type": "marking-definition", "spec_version": "2.1", "id": MARKING, "created_by_ref": IDENTITY, "created": T,
         "definition_type": "statement", "name": "DISARM Foundation",
         "definition": {"statement": "CC-BY-SA-4.0 DISARM Foundation"}},
        *tactics, *techniques,
        {"type": "relationship", "spec_version": "2.1", "id": "relationship--da6be2e9-258c-49e4-9f92-621ccd0d2a72",
         "created": T, "modified": T, "relationship_type": "subtechnique-of",
         "source_ref": techniques[2]["id"], "target_ref": techniques[1]["id"], "object_marking_refs": [MARKING]},
        {"type": "x-mitre-matrix", "spec_version": "2.1", "id": "x-mitre-matrix--0e0c1597-4b7d-43f1-b768-1c4a253c44df",
         "created": T, "modified": T, "name": "DISARM Framework", "tactic_refs": [t["id"] for t in tactics],
         "external_references": [{"source_name": "DISARM", "external_id": "DISARM"}]},
    ]}


@pytest.fixture
def admin(make_user: Any) -> Any:
    return make_user("nodeadmin", "JPN", "JPN-MOD", role="admin")


@pytest.fixture
def bundle_file(tmp_path: Path) -> Path:
    path = tmp_path / "DISARM.json"
    path.write_text(json.dumps(small_bundle()))
    return path


def test_load_stores_the_framework_for_everyone_and_pins_the_version(admin: Any, bundle_file: Path,
                                                                     kor_user: Any) -> None:
    result = disarm.load(admin, bundle_file, "1.6")
    assert (result.tactics, result.techniques, result.rejected) == (3, 3, 0)
    pinned = DisarmVersion.objects.get()
    assert pinned.version == "1.6" and pinned.bundle_id == "bundle--4b8b0d29-e85e-4299-81d4-749033173d09"
    stored = StixObject.objects.get(stix_id="attack-pattern--70717452-f7e3-4ce8-956f-39a4d34c5cfb")
    label = label_of(stored.label)
    assert label.tlp.value == "CLEAR" and sorted(label.category("releasable_to")) == ["IP4", "NATO"]
    assert stored.originator == admin.organisation
    # Another partner's analyst sees it.
    assert disarm.technique(subject_for(kor_user), "T0002") is not None


def test_lookups_give_tactics_with_phases_and_techniques_by_external_id(admin: Any, bundle_file: Path,
                                                                       jpn_user: Any) -> None:
    disarm.load(admin, bundle_file, "1.6")
    framework = disarm.framework(subject_for(jpn_user))
    assert framework is not None
    assert [(t.external_id, t.phase) for t in framework.tactics] == [("TA01", "P01"), ("TA06", "P02"), ("TA12", "P04")]
    sub = framework.technique("T0015.001")
    assert sub is not None and sub.parent_id == "T0015" and sub.tactic_ids == ("TA06",)
    assert [t.external_id for t in framework.techniques_of("TA06")] == ["T0015", "T0015.001"]
    assert disarm.tactic(subject_for(jpn_user), "TA01").name == "Plan Strategy"  # type: ignore[union-attr]
    assert disarm.technique(subject_for(jpn_user), "T9999") is None


def test_loading_the_same_file_again_changes_nothing(admin: Any, bundle_file: Path) -> None:
    disarm.load(admin, bundle_file, "1.6")
    count = StixObject.objects.count()
    again = disarm.load(admin, bundle_file, "1.6")
    assert again.accepted == 0 and again.unchanged == len(small_bundle()["objects"])
    assert StixObject.objects.count() == count
    assert DisarmVersion.objects.count() == 1


def test_a_different_version_is_refused_without_replace(admin: Any, bundle_file: Path, tmp_path: Path) -> None:
    disarm.load(admin, bundle_file, "1.6")
    newer = tmp_path / "DISARM-1.7.json"
    newer.write_text(json.dumps(small_bundle(modified="2025-06-01T00:00:00.000Z")))
    message, _run = kizuna_refused("disarm", "load", str(newer), "--version", "1.7", "--user", "nodeadmin")
    assert message == "DISARM 1.6 is loaded; loading 1.7 over it needs --replace"
    assert DisarmVersion.objects.get().version == "1.6"
    run = kizuna("disarm", "load", str(newer), "--version", "1.7", "--user", "nodeadmin", "--replace")
    assert "replaced DISARM 1.6" in run.out
    assert DisarmVersion.objects.get().version == "1.7"


def test_the_same_version_from_a_changed_file_is_refused(admin: Any, bundle_file: Path, tmp_path: Path) -> None:
    disarm.load(admin, bundle_file, "1.6")
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(small_bundle(modified="2025-06-01T00:00:00.000Z")))
    message, _run = kizuna_refused("disarm", "load", str(changed), "--version", "1.6", "--user", "nodeadmin")
    assert "was loaded from a different file" in message


def test_only_an_administrator_loads_disarm(jpn_user: Any, bundle_file: Path) -> None:
    message, _run = kizuna_refused("disarm", "load", str(bundle_file), "--version", "1.6", "--user", "hanako")
    assert message == "DISARM is loaded by a node administrator; hanako is not one"
    assert not DisarmVersion.objects.exists()


def test_a_file_that_is_not_a_disarm_bundle_is_one_line(admin: Any, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    message, _run = kizuna_refused("disarm", "load", str(broken), "--version", "1.6", "--user", "nodeadmin")
    assert message.startswith("broken.json is not JSON")
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": []}))
    message, _run = kizuna_refused("disarm", "load", str(empty), "--version", "1.6", "--user", "nodeadmin")
    assert message == "empty.json holds no DISARM tactics and techniques"


def test_without_disarm_the_lookups_answer_nothing(jpn_user: Any) -> None:
    assert not disarm.is_loaded()
    assert disarm.framework(subject_for(jpn_user)) is None
    assert disarm.tactics(subject_for(jpn_user)) == [] and disarm.technique(subject_for(jpn_user), "T0002") is None
    assert "not loaded" in kizuna("disarm", "show").out


def test_the_bundle_shipped_with_the_node_loads_whole_with_no_file_named(admin: Any, jpn_user: Any) -> None:
    """Issue 13: the published bundle ships with the package (with its licence), so a node on a closed network loads
    the framework with one command and no download."""
    assert disarm.SHIPPED.is_file() and (disarm.SHIPPED.parent / "LICENSE.md").is_file()
    run = kizuna("disarm", "load", "--user", "nodeadmin")
    assert "DISARM 1.6: 16 tactics, 391 techniques" in run.out
    assert "rejected 0" in run.out
    framework = disarm.framework(subject_for(jpn_user))
    assert framework is not None and [t.external_id for t in framework.tactics][:3] == ["TA01", "TA02", "TA13"]
    assert {t.phase for t in framework.tactics} == {"P01", "P02", "P03", "P04"}
    assert framework.technique("T0015.001") is not None
    assert "TA12" in kizuna("disarm", "show").out


def test_a_named_file_needs_its_version_and_the_shipped_one_is_1_6(admin: Any, bundle_file: Path) -> None:
    message, _run = kizuna_refused("disarm", "load", str(bundle_file), "--user", "nodeadmin")
    assert message == "give the framework version of the file with --version (for example 1.6)"
    message, _run = kizuna_refused("disarm", "load", "--version", "1.7", "--user", "nodeadmin")
    assert message.startswith("the shipped bundle is DISARM 1.6, not 1.7")
