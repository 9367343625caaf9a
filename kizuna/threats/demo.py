"""The threat-exchange part of the demo scenario: cyber indicators and malware shared by partners (one IP reported by
two nations, to show "also reported by"), a ship-to-ship transfer and an AIS dark period at sea, a missile silo field
and a test launch, and a disinformation incident. Fictional names; documentation address ranges (RFC 5737) and
reserved domains only. Idempotent: each part is loaded only when its first object (fixed id, or title for form-made
objects) is not yet stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kizuna.directory.models import User
from kizuna.labels import Label
from kizuna.threats.disinfo import disarm
from kizuna.threats.disinfo.services import IncidentInput, do_create_incident
from kizuna.threats.geo import services as geo
from kizuna.threats.geo import stix as geo_stix
from kizuna.threats.markings import deterministic_id
from kizuna.threats.models import StixObject
from kizuna.threats.services import do_import_objects

STAMP = "2026-11-02T03:00:00.000Z"


def _id(kind: str, name: str) -> str:
    return deterministic_id(kind, f"demo:{name}")


def _label(releasable_to: list[str], communities: list[str], tlp: str = "GREEN",
           classification: str = "UNCLASSIFIED") -> Label:
    categories: dict[str, list[str]] = {"releasable_to": releasable_to}
    if communities:
        categories["communities"] = communities
    return Label.build("NATO", classification, categories, tlp)


def _common(kind: str, name: str) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": _id(kind, name), "created": STAMP, "modified": STAMP}


def _indicator(name: str, pattern: str, description: str) -> dict[str, Any]:
    return {**_common("indicator", name), "name": name, "description": description, "pattern": pattern,
            "pattern_type": "stix", "valid_from": STAMP, "indicator_types": ["malicious-activity"]}


def _rel(kind: str, source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    return {**_common("relationship", f"{source['id']} {kind} {target['id']}"), "relationship_type": kind,
            "source_ref": source["id"], "target_ref": target["id"]}


def _cyber_bundle_acsc() -> list[dict[str, Any]]:
    actor = {**_common("intrusion-set", "Coral Lantern"), "name": "Coral Lantern (demo)",
             "description": "Fictional intrusion set used in the Kizuna demo: spear-phishing of defence research "
                            "institutes across the Indo-Pacific.", "goals": ["espionage"]}
    loader = {**_common("malware", "KoiLoader"), "name": "KoiLoader (demo)", "is_family": True,
              "malware_types": ["remote-access-trojan"]}
    c2 = _indicator("KoiLoader C2 server", "[ipv4-addr:value = '203.0.113.45']",
                    "Command-and-control address observed by ACSC.")
    domain = _indicator("Phishing domain", "[domain-name:value = 'defence-portal.example']",
                        "Credential-harvesting site impersonating a defence ministry portal.")
    sample = _indicator("KoiLoader sample", "[file:hashes.'SHA-256' = "
                        "'9f2c4a1b7d3e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8']", "Loader dropped by the "
                        "phishing attachment.")
    return [actor, loader, c2, domain, sample, _rel("uses", actor, loader), _rel("indicates", c2, loader),
            _rel("indicates", domain, actor), _rel("indicates", sample, loader)]


def _cyber_jpn() -> list[dict[str, Any]]:
    # The same address as ACSC's C2 indicator: "also reported by" links them for whoever may see both.
    return [_indicator("Outbound beacon from a ministry workstation", "[ipv4-addr:value = '203.0.113.45']",
                       "NISC observed beaconing to this address from a government network; shared with Japan's "
                       "defence partners only.")]


def _cyber_kor() -> list[dict[str, Any]]:
    return [_indicator("Scanner of research-institute VPN gateways", "[ipv4-addr:value = '198.51.100.23']",
                       "KISA observed repeated scanning of VPN gateways of defence research institutes.")]


def _stored(name: str) -> bool:
    return StixObject.objects.filter(name=name).exists()


def load_threat_demo(users: dict[str, User]) -> int:
    """Returns the number of objects accepted (0 when everything was already there)."""
    accepted = 0
    if not disarm.is_loaded():  # the framework the disinformation incident is described with, names and links
        accepted += disarm.load(users["admin"], disarm.SHIPPED, disarm.SHIPPED_VERSION).accepted
    cyber = [("olivia", _cyber_bundle_acsc(), _label(["NATO", "IP4"], ["CYBER"])),
             ("kenji", _cyber_jpn(), _label(["JPN"], ["CYBER"], tlp="AMBER")),
             ("seoyeon", _cyber_kor(), _label(["NATO", "KOR"], ["CYBER"], tlp="AMBER"))]
    for username, objects, label in cyber:
        if not StixObject.objects.filter(stix_id=objects[0]["id"]).exists():  # a re-import would audit a no-op
            accepted += do_import_objects(users[username], objects, label, "demo").accepted

    title = "Ship-to-ship transfer with a vessel listed by the 1718 Committee (demo)"
    if not _stored(title):
        geo.do_create_maritime(users["hanako"], geo_stix.MaritimeInput(
            title=title, observation_type="ship-to-ship-transfer", observing_unit="JMSDF P-3C patrol aircraft",
            observed_start=datetime(2026, 10, 14, 13, 30, tzinfo=UTC), observed_end=None,
            latitude=31.2, longitude=124.5, position_text="about 250 km west of Shanghai, East China Sea",
            vessels=[geo_stix.Vessel(name="SKY HARMONY", flag="SL", flag_apparent=True,
                                     sanctions_designation="UN 1718 Committee", disguised_name="SKY HARM"),
                     geo_stix.Vessel(name="Unknown tanker")],
            observed="The two vessels were alongside with hoses connected, at night, lights dimmed.",
            assessment="Japan strongly suspects a ship-to-ship transfer prohibited by UN Security Council resolutions.",
            notified_to=["UN 1718 Committee", "flag state", "partners"]),
            _label(["NATO", "IP4"], ["MARITIME"], tlp="AMBER"))
        accepted += 1
    title = "AIS dark period of a fishing fleet in the Yellow Sea (demo)"
    if not _stored(title):
        geo.do_create_maritime(users["minjun"], geo_stix.MaritimeInput(
            title=title, observation_type="ais-dark-period", observing_unit="ROK Navy patrol vessel",
            observed_start=datetime(2026, 10, 20, 2, 0, tzinfo=UTC),
            observed_end=datetime(2026, 10, 20, 14, 0, tzinfo=UTC),
            latitude=36.5, longitude=123.9, position_text="about 120 km west of Taean",
            observed="Twelve vessels switched off AIS for twelve hours near the boundary.",
            assessment="Probably illegal fishing; further observation planned."),
            _label(["NATO", "KOR"], ["MARITIME"], tlp="AMBER"))
        accepted += 1
    site_name = "Missile silo field in the western desert (demo)"
    if not _stored(site_name):
        site = geo.do_create_site(users["sophie"], geo_stix.SiteInput(
            name=site_name, site_type="missile-silo-field", status="under-construction", latitude=40.2, longitude=96.8,
            country="CN", position_text="desert west of Yumen (open-source satellite imagery)",
            description="About 120 silos under construction, as reported in open sources."),
            _label(["NATO", "IP4"], [], tlp="GREEN"))
        geo.do_create_event(users["sophie"], geo_stix.EventInput(
            title="Test launch from the western silo field (demo)", event_type="missile-test",
            event_start=datetime(2026, 9, 25, 1, 0, tzinfo=UTC), event_end=None, site_ref=site,
            description="A launch was observed from the silo field.",
            assessment="NATO assesses with moderate confidence that this was a developmental test.", confidence=60),
            _label(["NATO", "IP4"], [], tlp="AMBER", classification="RESTRICTED"))
        accepted += 2
    name = "Fabricated story of a NATO base in Japan (demo)"
    if not _stored(name):
        do_create_incident(users["sophie"], IncidentInput(
            name=name, label=_label(["NATO", "IP4"], ["DISINFO"], tlp="GREEN"),
            description="A fabricated article claims NATO will open a military base in Japan; amplified by "
                        "inauthentic accounts in Japanese and Korean.",
            narratives=["NATO is militarising Asia"], platforms=["X", "Telegram"], languages=["ja", "ko"],
            target_audiences=["Japanese public", "Korean public"], tactics=["TA06"], techniques=[]))
        accepted += 1
    return accepted
