"""MISP import: a hand-written MISP event (attributes ip-dst, domain, sha256, url; an object; galaxy clusters; tlp
tags) becomes the STIX 2.1 objects misp-stix makes, with TLP 2.0 markings, the distribution noted, and stored labels
that carry each object's TLP; bad input is one line and a non-zero exit."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kizuna.core.access import label_of
from kizuna.labels import TLP
from kizuna.threats.markings import TLP2_IDS, TLP_BY_ID
from kizuna.threats.misp import MispError, convert_misp_event, misp_event_to_stix_objects
from kizuna.threats.models import ImportStatus, StixObject
from kizuna.threats.services import do_import_objects, join_import_job, start_import_job
from tests.cli.helpers import kizuna, kizuna_refused
from tests.conftest import make_label

TS = "1772323200"  # 2026-03-01
EVENT_UUID = "5e3b1c2a-7d4f-4b8e-9a1c-2f3e4d5c6b7a"


def _attr(n: int, kind: str, value: str, category: str = "Network activity", **extra: Any) -> dict[str, Any]:
    return {"uuid": f"a1a1a1a1-0000-4000-8000-00000000000{n}", "type": kind, "category": category, "value": value,
            "to_ids": True, "timestamp": TS, "distribution": "5", **extra}


def misp_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "uuid": EVENT_UUID, "info": "Phishing campaign against a ministry", "date": "2026-03-01", "timestamp": TS,
        "publish_timestamp": TS, "published": True, "analysis": "2", "threat_level_id": "2", "distribution": "1",
        "Orgc": {"name": "JPCERT", "uuid": "11111111-2222-4333-8444-555555555555"},
        "Tag": [{"name": "tlp:amber"}],
        "Galaxy": [
            {"uuid": "7cdff317-a673-4474-84ec-4f1754947823", "name": "Threat Actor", "type": "threat-actor",
             "description": "Threat actors", "namespace": "misp",
             "GalaxyCluster": [{"uuid": "5b4ee3ea-eee3-4c8e-8323-85ae32658754", "type": "threat-actor",
                                "value": "APT28", "tag_name": 'misp-galaxy:threat-actor="APT28"',
                                "description": "A threat actor", "meta": {"synonyms": ["Fancy Bear"]}}]},
            {"uuid": "c4e851fa-775f-11e7-8163-b774922098cd", "name": "Attack Pattern", "type": "mitre-attack-pattern",
             "description": "ATT&CK", "namespace": "mitre-attack",
             "GalaxyCluster": [{"uuid": "20138b9d-1aac-4a26-8654-a36b6bbc8ba1", "type": "mitre-attack-pattern",
                                "value": "Spearphishing Attachment - T1566.001",
                                "tag_name": 'misp-galaxy:mitre-attack-pattern="Spearphishing Attachment - T1566.001"',
                                "description": "Spearphishing with an attachment",
                                "meta": {"external_id": ["T1566.001"], "kill_chain": ["mitre-attack:initial-access"]}}]},
        ],
        "Attribute": [
            _attr(1, "ip-dst", "203.0.113.7"),
            _attr(2, "domain", "evil.example", Tag=[{"name": "tlp:red"}]),
            _attr(3, "sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                  category="Payload delivery", distribution="0"),
            _attr(4, "url", "http://evil.example/login", to_ids=False, Tag=[{"name": "TLP:CLEAR"}]),
        ],
        "Object": [{
            "uuid": "b2b2b2b2-0000-4000-8000-000000000001", "name": "domain-ip", "meta-category": "network",
            "template_uuid": "43b3b146-77eb-4931-b4cc-b66c60f28734", "template_version": "9", "timestamp": TS,
            "distribution": "5",
            "Attribute": [
                {"uuid": "b2b2b2b2-0000-4000-8000-000000000002", "type": "domain", "object_relation": "domain",
                 "value": "c2.example", "to_ids": True, "category": "Network activity", "timestamp": TS},
                {"uuid": "b2b2b2b2-0000-4000-8000-000000000003", "type": "ip-dst", "object_relation": "ip",
                 "value": "198.51.100.9", "to_ids": True, "category": "Network activity", "timestamp": TS},
            ],
        }],
    }
    event.update(overrides)
    return {"Event": event}


def _by_id(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in objects}


def _tlp(obj: dict[str, Any]) -> list[TLP]:
    return [TLP_BY_ID[ref] for ref in obj.get("object_marking_refs", []) if ref in TLP_BY_ID]


def test_attributes_become_indicators_and_observables() -> None:
    objects = _by_id(misp_event_to_stix_objects(misp_event()))
    assert objects["indicator--a1a1a1a1-0000-4000-8000-000000000001"]["pattern"] == (
        "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.7']")
    assert objects["indicator--a1a1a1a1-0000-4000-8000-000000000002"]["pattern"] == "[domain-name:value = 'evil.example']"
    assert "file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'" in (
        objects["indicator--a1a1a1a1-0000-4000-8000-000000000003"]["pattern"])
    # to_ids false: an observation, not an indicator.
    assert "indicator--a1a1a1a1-0000-4000-8000-000000000004" not in objects
    assert objects["url--a1a1a1a1-0000-4000-8000-000000000004"]["value"] == "http://evil.example/login"
    # The MISP object (domain-ip) is one indicator over both its attributes.
    pattern = objects["indicator--b2b2b2b2-0000-4000-8000-000000000001"]["pattern"]
    assert "c2.example" in pattern and "198.51.100.9" in pattern
    report = objects[f"report--{EVENT_UUID}"]
    assert report["name"] == "Phishing campaign against a ministry"
    assert "indicator--a1a1a1a1-0000-4000-8000-000000000001" in report["object_refs"]


def test_galaxy_clusters_become_threat_actor_and_attack_pattern() -> None:
    objects = _by_id(misp_event_to_stix_objects(misp_event()))
    actor = objects["threat-actor--5b4ee3ea-eee3-4c8e-8323-85ae32658754"]
    assert actor["name"] == "APT28" and actor["aliases"] == ["Fancy Bear"]
    pattern = objects["attack-pattern--20138b9d-1aac-4a26-8654-a36b6bbc8ba1"]
    assert {"source_name": "mitre-attack", "external_id": "T1566.001"} in pattern["external_references"]
    assert "threat-actor--5b4ee3ea-eee3-4c8e-8323-85ae32658754" in objects[f"report--{EVENT_UUID}"]["object_refs"]


def test_tlp_tags_become_tlp2_markings_event_first_attribute_overrides() -> None:
    conversion = convert_misp_event(misp_event())
    objects = _by_id(conversion.objects)
    assert conversion.event_tlp is TLP.AMBER
    assert _tlp(objects[f"report--{EVENT_UUID}"]) == [TLP.AMBER]
    assert _tlp(objects["indicator--a1a1a1a1-0000-4000-8000-000000000001"]) == [TLP.AMBER]  # the event's
    assert _tlp(objects["indicator--a1a1a1a1-0000-4000-8000-000000000002"]) == [TLP.RED]  # its own tag
    # An observable takes the TLP of the observed-data that contains it; upper-case tags are read too.
    assert _tlp(objects["domain-name--a1a1a1a1-0000-4000-8000-000000000002"]) == [TLP.RED]
    assert _tlp(objects["url--a1a1a1a1-0000-4000-8000-000000000004"]) == [TLP.CLEAR]
    assert _tlp(objects["threat-actor--5b4ee3ea-eee3-4c8e-8323-85ae32658754"]) == [TLP.AMBER]
    # Only TLP 2.0 ids, and their standard marking-definitions travel with the objects.
    refs = {r for o in conversion.objects for r in o.get("object_marking_refs", [])}
    assert refs <= set(TLP2_IDS.values())
    markings = {o["id"] for o in conversion.objects if o["type"] == "marking-definition"}
    assert markings == {TLP2_IDS[TLP.AMBER], TLP2_IDS[TLP.RED], TLP2_IDS[TLP.CLEAR]}


@pytest.mark.parametrize(("tag", "tlp"), [("tlp:white", TLP.CLEAR), ("tlp:clear", TLP.CLEAR), ("tlp:green", TLP.GREEN),
                                          ("tlp:amber", TLP.AMBER), ("tlp:amber+strict", TLP.AMBER_STRICT),
                                          ("tlp:red", TLP.RED)])
def test_each_misp_tlp_tag_maps_to_its_tlp2_marking(tag: str, tlp: TLP) -> None:
    objects = _by_id(misp_event_to_stix_objects(misp_event(Tag=[{"name": tag}])))
    assert objects[f"report--{EVENT_UUID}"]["object_marking_refs"] == [TLP2_IDS[tlp]]


def test_distribution_is_noted_as_the_most_restrictive_along_the_chain() -> None:
    conversion = convert_misp_event(misp_event())
    objects = _by_id(conversion.objects)
    assert conversion.distribution_text == "1 (this community only)"
    assert 'misp:distribution="1"' in objects[f"report--{EVENT_UUID}"]["labels"]
    assert 'misp:distribution="1"' in objects["indicator--a1a1a1a1-0000-4000-8000-000000000001"]["labels"]  # inherit
    assert 'misp:distribution="0"' in objects["indicator--a1a1a1a1-0000-4000-8000-000000000003"]["labels"]


@pytest.mark.parametrize("data", [[], {"Attribute": []}, {"Event": "x"}, {"Event": {"info": ""}},
                                  {"Event": {"info": "x", "Attribute": {}}}])
def test_input_that_is_not_a_misp_event_is_refused(data: Any) -> None:
    with pytest.raises(MispError, match="not a MISP event"):
        misp_event_to_stix_objects(data)


def test_the_callers_event_is_left_unchanged() -> None:
    event = misp_event()
    before = copy.deepcopy(event)
    misp_event_to_stix_objects(event)
    assert event == before


# --- through the importer ------------------------------------------------------------------------------------------


@pytest.fixture
def event_file(tmp_path: Path) -> Path:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(misp_event()))
    return path


@pytest.mark.django_db
def test_import_stores_labels_with_each_objects_tlp(jpn_user: Any) -> None:
    summary = do_import_objects(jpn_user, misp_event_to_stix_objects(misp_event()), make_label(["JPN", "KOR"]), "MISP")
    assert summary.rejected == 0, summary.errors
    def stored(stix_id: str) -> Any:
        return label_of(StixObject.objects.get(stix_id=stix_id, is_current=True).label)
    amber = stored("indicator--a1a1a1a1-0000-4000-8000-000000000001")
    assert amber.tlp is TLP.AMBER and sorted(amber.category("releasable_to")) == ["JPN", "KOR"]
    red = stored("indicator--a1a1a1a1-0000-4000-8000-000000000002")
    assert red.tlp is TLP.RED and "org:JPN-MOD" in red.recipients
    assert stored("url--a1a1a1a1-0000-4000-8000-000000000004").tlp is TLP.CLEAR
    assert StixObject.objects.get(stix_id="threat-actor--5b4ee3ea-eee3-4c8e-8323-85ae32658754").originator == (
        jpn_user.organisation)


@pytest.mark.django_db
def test_cli_imports_and_prints_the_summary_and_again_changes_nothing(jpn_user: Any, event_file: Path) -> None:
    run = kizuna("misp", "import", str(event_file), "--user", "hanako", "--releasable-to", "NATO,IP4", "--tlp", "GREEN")
    assert "MISP distribution: 1 (this community only)" in run.out
    assert "default label: NATO UNCLASSIFIED REL TO NATO, IP4 // TLP:GREEN" in run.out
    assert "rejected 0" in run.out
    count = StixObject.objects.count()
    again = kizuna("misp", "import", str(event_file), "--user", "hanako", "--releasable-to", "NATO,IP4")
    assert "accepted 0" in again.out
    assert StixObject.objects.count() == count


@pytest.mark.django_db
def test_cli_bad_json_and_not_an_event_are_one_line(jpn_user: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"Event": ')
    message, _run = kizuna_refused("misp", "import", str(bad), "--user", "hanako")
    assert message.startswith("bad.json: not JSON") and "\n" not in message
    other = tmp_path / "bundle.json"
    other.write_text(json.dumps({"type": "bundle", "id": "bundle--x", "objects": []}))
    message, _run = kizuna_refused("misp", "import", str(other), "--user", "hanako")
    assert message == 'bundle.json: not a MISP event: expected a JSON object with an "Event" member'
    assert not StixObject.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_job_in_misp_format_uses_the_converter(jpn_user: Any, event_file: Path, tmp_path: Path) -> None:
    job = start_import_job(jpn_user, event_file, "event.json", make_label(["JPN"]), fmt="misp")
    join_import_job(job.pk, timeout=60)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.accepted > 10 and job.rejected == 0
    bad = tmp_path / "other.json"
    bad.write_text("[]")
    failed = start_import_job(jpn_user, bad, "other.json", make_label(["JPN"]), fmt="misp")
    join_import_job(failed.pk, timeout=60)
    failed.refresh_from_db()
    assert failed.status == ImportStatus.FAILED and "not a MISP event" in failed.message
