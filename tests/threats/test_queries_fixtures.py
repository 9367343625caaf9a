"""Helpers (no tests) for the read-side tests: STIX rows inserted directly, with interned labels and hand-made JSON
that is valid STIX 2.1, so the queries and the exporter can be tested without going through the importer."""

from __future__ import annotations

import json
import uuid
from typing import Any

from kizuna.core.access import intern_label
from kizuna.directory.models import Organisation
from kizuna.directory.services import ensure_organisation
from kizuna.labels import Label
from kizuna.threats.models import ObservableValue, StixObject
from kizuna.threats.prepare import search_text
from kizuna.threats.store import SEARCH_INDEX

T0 = "2026-02-01T00:00:00.000Z"

# One valid example body per kind of object the store holds (SDO, SRO, SCO, meta objects, custom/extension types).
_BODIES: dict[str, dict[str, Any]] = {
    "indicator": {"name": "Bad address", "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
                  "valid_from": T0, "indicator_types": ["malicious-activity"]},
    "malware": {"name": "Sakura loader", "is_family": True},
    "threat-actor": {"name": "Kuroshio", "threat_actor_types": ["nation-state"]},
    "intrusion-set": {"name": "Set 1"},
    "attack-pattern": {"name": "Spearphishing"},
    "vulnerability": {"name": "CVE-2026-0001"},
    "campaign": {"name": "Typhoon"},
    "identity": {"name": "JPN CERT", "identity_class": "organization"},
    "incident": {"name": "Port disruption"},
    "location": {"name": "Yokosuka", "latitude": 35.28, "longitude": 139.67},
    "report": {"name": "Weekly", "published": T0, "report_type": ["threat-report"],
               "object_refs": ["malware--00000000-0000-4000-8000-000000000001"]},
    "note": {"content": "seen at the port", "object_refs": ["malware--00000000-0000-4000-8000-000000000001"]},
    "observed-data": {"first_observed": T0, "last_observed": T0, "number_observed": 1,
                      "object_refs": ["ipv4-addr--00000000-0000-4000-8000-000000000002"]},
    "grouping": {"context": "suspicious-activity", "object_refs": ["malware--00000000-0000-4000-8000-000000000001"]},
    "course-of-action": {"name": "Block"},
    "infrastructure": {"name": "C2 server"},
    "tool": {"name": "nmap"},
}
_SCO_VALUES = {"ipv4-addr": "198.51.100.7", "url": "https://example.org/x", "email-addr": "someone@example.org"}
SCO_TYPES = ["ipv4-addr", "domain-name", "url", "email-addr", "file"]


def org(code: str) -> Organisation:
    """The organisation ``code`` (NAT-NAME), created under its nation when the test has not made a user of it."""
    return ensure_organisation(code, nation=code.split("-")[0])


def stix_json(stix_type: str, stix_id: str, modified: str = T0, **extra: Any) -> dict[str, Any]:
    """A valid STIX 2.1 object of ``stix_type`` (relationships and sightings need their refs in ``extra``)."""
    if stix_type in SCO_TYPES:
        body: dict[str, Any] = {"type": stix_type, "spec_version": "2.1", "id": stix_id}
        if stix_type == "file":
            body["hashes"] = {"SHA-256": "a" * 64}
        else:
            body["value"] = extra.pop("value", _SCO_VALUES.get(stix_type, "example.org"))
        body.update(extra)
        return body
    body = {"type": stix_type, "spec_version": "2.1", "id": stix_id, "created": T0, "modified": modified}
    if stix_type == "relationship":
        body["relationship_type"] = extra.pop("relationship_type", "uses")
    elif stix_type == "sighting":
        pass
    else:
        body.update(_BODIES.get(stix_type, {"name": stix_type}))
    body.update(extra)
    return body


def put(
    stix_type: str,
    label: Label,
    originator: str = "JPN-MOD",
    *,
    stix_id: str | None = None,
    modified: str = T0,
    is_current: bool = True,
    revoked: bool = False,
    values: list[tuple[str, str]] | None = None,
    body: dict[str, Any] | None = None,
    **extra: Any,
) -> StixObject:
    """Store one object version directly (as the importer would), under ``label``, from ``originator``."""
    stix_id = stix_id or f"{stix_type}--{uuid.uuid4()}"
    data = body if body is not None else stix_json(stix_type, stix_id, modified, **extra)
    source = data.get("source_ref") or data.get("sighting_of_ref") or ""
    target = data.get("target_ref") or ""
    obj = StixObject.objects.create(
        stix_id=stix_id,
        type=stix_type,
        created=data.get("created", ""),
        modified=data.get("modified", modified),
        is_current=is_current,
        revoked=revoked,
        source_ref=source,
        target_ref=target,
        name=str(data.get("name") or data.get("value") or "")[:300],
        data=json.dumps(data),
        label=intern_label(label),
        originator=org(originator),
    )
    for kind, value in values or []:
        ObservableValue.objects.create(obj=obj, kind=kind, value=value)
    if is_current:
        index_text(obj, data, values or [])
    return obj


def index_text(obj: StixObject, data: dict[str, Any], values: list[tuple[str, str]]) -> None:
    """The threat search's text of a row written directly, as the store writes it for a current version."""
    text = search_text(data, obj.name, list(values))
    if text:
        SEARCH_INDEX.insert([(obj.pk, text)])


def relate(source: StixObject | str, target: StixObject | str, label: Label, originator: str = "JPN-MOD",
           **kw: Any) -> StixObject:
    s = source if isinstance(source, str) else source.stix_id
    t = target if isinstance(target, str) else target.stix_id
    return put("relationship", label, originator, source_ref=s, target_ref=t, **kw)


def sight(of: StixObject | str, label: Label, originator: str = "JPN-MOD", **kw: Any) -> StixObject:
    ref = of if isinstance(of, str) else of.stix_id
    return put("sighting", label, originator, sighting_of_ref=ref, **kw)
