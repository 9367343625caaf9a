"""The STIX 2.1 form of maritime observations and strategic developments, declared by extension-definitions of our
own, and the reading of it back for the pages.

Choices (see docs/threats.md, "Maritime and strategic developments"):
- A maritime incident or observation is a STIX ``incident`` with the *maritime observation* property-extension:
  every partner tool that knows ``incident`` shows it, and the extension carries what a maritime report says.
- A strategic site is a STIX ``location`` (latitude/longitude, country) with the *strategic site* property-extension
  (kind of site, status).
- A strategic event (test, exercise, launch ...) is a STIX ``incident`` with the *strategic event* property-extension
  (kind, dates, the site it happened at); its assessment's confidence is the standard ``confidence`` (0-100) and
  the wording of the STIX 2.1 "WEP" scale is kept beside it.
- A photo is an ``artifact`` SCO with the image as ``payload_bin`` (small images only), referenced from the
  extension's ``evidence_refs``; it carries the same label as the object it documents.

The extension-definitions' ids are fixed constants, created by the Kizuna identity, so every
node declares the same three objects.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kizuna.stix.definitions import extension_definition
from kizuna.stix.timestamps import format_timestamp

_SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # STIX 2.1, section 2.9

# Fixed ids (UUIDv4 form, as STIX wants for everything but SCOs), the same on every node.
MARITIME_EXTENSION_ID = "extension-definition--135dd37a-474e-47b7-975a-795b018d8741"
SITE_EXTENSION_ID = "extension-definition--b7759af9-78a8-4927-9f3f-67fc8648c438"
EVENT_EXTENSION_ID = "extension-definition--963b0a01-6d4b-4ffa-970d-d1bf4dde30a6"

MARITIME_TYPES = ("ship-to-ship-transfer", "ais-dark-period", "harassment", "piracy", "illegal-fishing", "other")
SITE_TYPES = ("missile-silo-field", "launch-site", "test-site", "nuclear-facility", "naval-base", "air-base",
              "shipyard", "other")
SITE_STATUSES = ("under-construction", "operational", "inactive", "unknown")
EVENT_TYPES = ("missile-test", "missile-launch", "space-launch", "nuclear-test", "exercise", "construction",
               "deployment", "other")


def extension_definitions() -> list[dict[str, Any]]:
    """The three extension-definitions of this package, always the same objects."""
    return [
        extension_definition(
            MARITIME_EXTENSION_ID, "Kizuna maritime observation",
            "On an incident: a maritime incident or observation - observing unit, observed time, position (latitude, "
            "longitude and words), vessels (name, IMO, MMSI, flag or apparent flag, sanctions designation, disguised "
            "name), type (ship-to-ship transfer, AIS dark period, harassment, piracy, illegal fishing), what was "
            "observed, evidence (artifact references), assessment and to whom it was notified.",
            "maritime-observation", ["property-extension"],
        ),
        extension_definition(
            SITE_EXTENSION_ID, "Kizuna strategic site",
            "On a location: a site of strategic interest (missile silo field, launch or test site, base, nuclear "
            "facility) with its kind, status, position in words and evidence.",
            "strategic-site", ["property-extension"],
        ),
        extension_definition(
            EVENT_EXTENSION_ID, "Kizuna strategic event",
            "On an incident: a strategic development (missile test or launch, exercise, construction, deployment) "
            "with its kind, start and end, the site it happened at (a location), evidence, and an assessment whose "
            "confidence is the incident's confidence property, with the STIX 2.1 WEP wording.",
            "strategic-event", ["property-extension"],
        ),
    ]


def _new_id(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


def _common(kind: str, now: datetime) -> dict[str, Any]:
    stamp = format_timestamp(now)
    return {"type": kind, "spec_version": "2.1", "id": _new_id(kind), "created": stamp, "modified": stamp}


def _prune(values: dict[str, Any]) -> dict[str, Any]:
    """Optional properties are left out rather than sent empty (STIX forbids empty lists and strings carry nothing)."""
    return {k: v for k, v in values.items() if v not in ("", None, [], {})}


# --- confidence -------------------------------------------------------------------------------------------------------

# STIX 2.1 Appendix A.4, the "WEP" (words of estimative probability) scale: (lowest value, wording).
WEP_SCALE: tuple[tuple[int, str], ...] = (
    (0, "Impossible"), (1, "Almost Certainly Not"), (20, "Probably Not"), (45, "Chances About Even"),
    (56, "Probable"), (80, "Almost Certain"), (100, "Certain"),
)


def wep_wording(confidence: int) -> str:
    wording = WEP_SCALE[0][1]
    for floor, words in WEP_SCALE:
        if confidence >= floor:
            wording = words
    return wording


# --- evidence ---------------------------------------------------------------------------------------------------------


def photo_artifact(content: bytes, mime_type: str) -> dict[str, Any]:
    """An artifact SCO carrying a small image; its id is deterministic over its contributing properties (the same
    photo is the same artifact, whoever sends it)."""
    sha256 = hashlib.sha256(content).hexdigest()
    payload = base64.b64encode(content).decode("ascii")
    contributing = json.dumps({"hashes": {"SHA-256": sha256}, "payload_bin": payload}, sort_keys=True,
                              separators=(",", ":"))
    return {
        "type": "artifact", "spec_version": "2.1", "id": f"artifact--{uuid.uuid5(_SCO_NAMESPACE, contributing)}",
        "mime_type": mime_type, "payload_bin": payload, "hashes": {"SHA-256": sha256},
    }


# --- maritime ---------------------------------------------------------------------------------------------------------


@dataclass
class Vessel:
    name: str = ""
    imo: str = ""
    mmsi: str = ""
    flag: str = ""
    flag_apparent: bool = False
    sanctions_designation: str = ""
    disguised_name: str = ""

    def as_stix(self) -> dict[str, Any]:
        values = _prune({
            "name": self.name, "imo": self.imo, "mmsi": self.mmsi, "flag": self.flag,
            "sanctions_designation": self.sanctions_designation, "disguised_name": self.disguised_name,
        })
        if self.flag and self.flag_apparent:
            values["flag_apparent"] = True
        return values

    @classmethod
    def from_stix(cls, data: dict[str, Any]) -> Vessel:
        def text(key: str) -> str:
            value = data.get(key)
            return value if isinstance(value, str) else ""

        return cls(name=text("name"), imo=text("imo"), mmsi=text("mmsi"), flag=text("flag"),
                   flag_apparent=data.get("flag_apparent") is True,
                   sanctions_designation=text("sanctions_designation"), disguised_name=text("disguised_name"))


@dataclass
class MaritimeInput:
    title: str
    observation_type: str
    observing_unit: str
    observed_start: datetime
    observed_end: datetime | None
    latitude: float
    longitude: float
    position_text: str = ""
    vessels: list[Vessel] = field(default_factory=list)
    observed: str = ""
    evidence: str = ""
    assessment: str = ""
    notified_to: list[str] = field(default_factory=list)


def maritime_incident(data: MaritimeInput, evidence_refs: list[str], now: datetime) -> dict[str, Any]:
    obj = _common("incident", now)
    obj["name"] = data.title
    if data.observed:
        obj["description"] = data.observed
    obj["extensions"] = {MARITIME_EXTENSION_ID: {"extension_type": "property-extension", **_prune({
        "observation_type": data.observation_type,
        "observing_unit": data.observing_unit,
        "observed_start": format_timestamp(data.observed_start),
        "observed_end": format_timestamp(data.observed_end) if data.observed_end else None,
        "latitude": data.latitude, "longitude": data.longitude,
        "position_text": data.position_text,
        "vessels": [v.as_stix() for v in data.vessels],
        "evidence": data.evidence,
        "evidence_refs": evidence_refs,
        "assessment": data.assessment,
        "notified_to": data.notified_to,
    })}}
    return obj


# --- strategic --------------------------------------------------------------------------------------------------------


@dataclass
class SiteInput:
    name: str
    site_type: str
    status: str
    latitude: float
    longitude: float
    country: str = ""  # ISO 3166-1 alpha-2, as STIX location wants it
    position_text: str = ""
    description: str = ""
    evidence: str = ""


def strategic_site(data: SiteInput, evidence_refs: list[str], now: datetime) -> dict[str, Any]:
    obj = _common("location", now)
    obj.update(_prune({"name": data.name, "description": data.description, "country": data.country}))
    obj["latitude"] = data.latitude
    obj["longitude"] = data.longitude
    obj["extensions"] = {SITE_EXTENSION_ID: {"extension_type": "property-extension", **_prune({
        "site_type": data.site_type, "status": data.status, "position_text": data.position_text,
        "evidence": data.evidence, "evidence_refs": evidence_refs,
    })}}
    return obj


@dataclass
class EventInput:
    title: str
    event_type: str
    event_start: datetime
    event_end: datetime | None
    site_ref: str = ""
    latitude: float | None = None
    longitude: float | None = None
    position_text: str = ""
    description: str = ""
    evidence: str = ""
    assessment: str = ""
    confidence: int | None = None


def strategic_event(data: EventInput, evidence_refs: list[str], now: datetime) -> dict[str, Any]:
    obj = _common("incident", now)
    obj["name"] = data.title
    if data.description:
        obj["description"] = data.description
    if data.confidence is not None:
        obj["confidence"] = data.confidence
    obj["extensions"] = {EVENT_EXTENSION_ID: {"extension_type": "property-extension", **_prune({
        "event_type": data.event_type,
        "event_start": format_timestamp(data.event_start),
        "event_end": format_timestamp(data.event_end) if data.event_end else None,
        "site_ref": data.site_ref,
        "latitude": data.latitude, "longitude": data.longitude,
        "position_text": data.position_text,
        "evidence": data.evidence, "evidence_refs": evidence_refs,
        "assessment": data.assessment,
        "confidence_wording": wep_wording(data.confidence) if data.confidence is not None else None,
    })}}
    return obj


def extension_of(obj: dict[str, Any], ext_id: str) -> dict[str, Any] | None:
    """The property-extension ``ext_id`` of a stored object, or None (also for a malformed one from a partner)."""
    extensions = obj.get("extensions")
    value = extensions.get(ext_id) if isinstance(extensions, dict) else None
    return value if isinstance(value, dict) else None


def coordinate(value: Any, low: float, high: float) -> float | None:
    """A latitude or longitude from a partner's object, or None when it is not a number in range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if low <= value <= high else None
