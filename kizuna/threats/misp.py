"""MISP import: a MISP event (MISP JSON core format, ``{"Event": {...}}``) converted to STIX 2.1 objects with the MISP
project's own converter (``misp_stix_converter.MISPtoSTIX21Parser``), then adjusted to Kizuna's store:

- TLP: MISP ``tlp:*`` tags become the standard TLP 2.0 marking-definitions (misp-stix still emits TLP 1.0 ids for
  white/green/amber/red; white becomes CLEAR). An object without a TLP tag of its own takes the event's; an observable
  (SCO) takes the strictest TLP of the observed-data that contain it; a relationship the strictest of its two ends.
  The importer then reads the TLP of each object into its label (``tlp_of_refs``).
- Galaxies: misp-stix turns galaxy clusters into threat-actor, malware, attack-pattern, intrusion-set, tool ...
  objects (with the cluster's uuid as STIX id) and links them to the event's report.
- Distribution: MISP's distribution level (0 organisation only, 1 this community, 2 connected communities, 3 all,
  4 sharing group, 5 inherit) is not a label Kizuna can enforce; the effective level of each record (the most
  restrictive along event → object → attribute) is noted as a ``misp:distribution="N"`` label on the STIX object made
  from it, and returned in ``MispConversion.distribution`` for the import summary. Kizuna's own label decides access.

The result goes through ``kizuna.threats.services.do_import_objects`` like any other STIX objects.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext

from kizuna.core.errors import ServiceError
from kizuna.labels import TLP
from kizuna.threats.markings import TLP2_IDS, TLP_BY_ID, tlp2_marking

DISTRIBUTION_NAMES: dict[int, str] = {
    0: "your organisation only",
    1: "this community only",
    2: "connected communities",
    3: "all communities",
    4: "sharing group",
    5: "inherit event",
}
# Most restrictive first: a sharing group names its members, so it is narrower than a whole community.
_DISTRIBUTION_ORDER = [0, 4, 1, 2, 3]
_TLP_ORDER = [TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED]
_TLP2_ID_SET = frozenset(TLP2_IDS.values())

SCO_TYPES = frozenset({
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file", "ipv4-addr",
    "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url", "user-account",
    "windows-registry-key", "x509-certificate",
})


class MispError(ServiceError, ValueError):
    """The input is not a MISP event that can be converted; the message is one readable line (a ServiceError, so an
    import job shows it as its failure message)."""


@dataclass
class MispConversion:
    """The STIX objects made from one MISP event, and what the import summary should say about the event."""

    objects: list[dict[str, Any]]
    event_uuid: str = ""
    event_info: str = ""
    distribution: int | None = None  # the event's own level
    event_tlp: TLP | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def distribution_text(self) -> str:
        if self.distribution is None:
            return "not given"
        return f"{self.distribution} ({DISTRIBUTION_NAMES.get(self.distribution, 'unknown')})"


def _strictest(values: list[TLP]) -> TLP | None:
    return max(values, key=_TLP_ORDER.index) if values else None


def _as_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number in DISTRIBUTION_NAMES else None


def _effective(*levels: int | None) -> int | None:
    """The most restrictive level along event → object → attribute; 5 (inherit) and missing levels are skipped."""
    real = [level for level in levels if level is not None and level != 5]
    return min(real, key=_DISTRIBUTION_ORDER.index) if real else None


def _event_of(data: Any) -> dict[str, Any]:
    expected = gettext("not a MISP event: expected a JSON object with an \"Event\" member")
    if not isinstance(data, dict):
        raise MispError(expected)
    event = data.get("Event", data if "info" in data else None)
    if not isinstance(event, dict):
        raise MispError(expected)
    if not isinstance(event.get("info"), str) or not event.get("info", "").strip():
        raise MispError(gettext("not a MISP event: the event has no \"info\" (its title)"))
    for key in ("Attribute", "Object", "Tag", "Galaxy"):
        if key in event and not isinstance(event[key], list):
            raise MispError(gettext("not a MISP event: %(member)s must be a list") % {"member": key})
    return event


def _normalise_tags(node: Any) -> None:
    """MISP tags are case-insensitive in practice (``TLP:AMBER``); misp-stix only maps lower-case ``tlp:`` tags."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Tag" and isinstance(value, list):
                for tag in value:
                    name = tag.get("name") if isinstance(tag, dict) else None
                    if isinstance(name, str) and name.lower().startswith("tlp:"):
                        tag["name"] = name.strip().lower().replace(" ", "")
            else:
                _normalise_tags(value)
    elif isinstance(node, list):
        for item in node:
            _normalise_tags(item)


def _distribution_by_uuid(event: dict[str, Any]) -> dict[str, int]:
    """The effective distribution level of every attribute and object, by its uuid."""
    event_level = _as_int(event.get("distribution"))
    result: dict[str, int] = {}

    def note(record: dict[str, Any], level: int | None) -> None:
        uuid = record.get("uuid")
        if isinstance(uuid, str) and level is not None:
            result[uuid.lower()] = level

    for attribute in event.get("Attribute") or []:
        if isinstance(attribute, dict):
            note(attribute, _effective(event_level, _as_int(attribute.get("distribution"))))
    for misp_object in event.get("Object") or []:
        if not isinstance(misp_object, dict):
            continue
        object_level = _effective(event_level, _as_int(misp_object.get("distribution")))
        note(misp_object, object_level)
        for attribute in misp_object.get("Attribute") or []:
            if isinstance(attribute, dict):
                note(attribute, _effective(object_level, _as_int(attribute.get("distribution"))))
    return result


def _tlp_refs(obj: dict[str, Any]) -> list[TLP]:
    return [TLP_BY_ID[ref] for ref in obj.get("object_marking_refs") or [] if ref in TLP_BY_ID]


def _set_tlp(obj: dict[str, Any], tlp: TLP | None) -> None:
    """Replace the object's TLP markings (1.0 or 2.0) by the one TLP 2.0 marking for ``tlp``; keep other markings."""
    others = [ref for ref in obj.get("object_marking_refs") or [] if ref not in TLP_BY_ID]
    refs = [*others, TLP2_IDS[tlp]] if tlp is not None else others
    if refs:
        obj["object_marking_refs"] = refs
    else:
        obj.pop("object_marking_refs", None)


def _run_converter(data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    from misp_stix_converter import MISPtoSTIX21Parser

    parser = MISPtoSTIX21Parser()
    try:
        parser.parse_json_content(data)
    except Exception as exc:  # the converter raises many kinds; the CLI needs one readable line
        raise MispError(gettext("misp-stix could not convert the event: %(error)s") % {
            "error": " ".join(str(exc).split())[:300]}) from None
    objects = [json.loads(obj.serialize()) if hasattr(obj, "serialize") else dict(obj) for obj in parser.stix_objects]
    warnings: list[str] = []
    for messages in (getattr(parser, "errors", None) or {}).values():
        warnings.extend(str(m) for m in messages)
    for messages in (getattr(parser, "warnings", None) or {}).values():
        warnings.extend(str(m) for m in messages)
    return objects, warnings


def convert_misp_event(data: Any) -> MispConversion:
    """Convert one MISP event to STIX 2.1 objects (see the module docstring). Raises ``MispError`` on bad input."""
    event = _event_of(data)
    wrapped = copy.deepcopy({"Event": event})
    _normalise_tags(wrapped)
    objects, warnings = _run_converter(wrapped)
    if not any(obj.get("type") == "report" for obj in objects):
        raise MispError(gettext("misp-stix produced no report for the event; it is not a MISP event it can read"))

    report = next(obj for obj in objects if obj.get("type") == "report")
    event_tlp = _strictest(_tlp_refs(report))
    distribution = _as_int(event.get("distribution"))
    levels = _distribution_by_uuid(event)

    # TLP marking-definitions are replaced by the standard TLP 2.0 ones below; other markings (PAP, statements) stay.
    result = [obj for obj in objects if not (obj.get("type") == "marking-definition" and obj.get("id") in TLP_BY_ID)]
    by_id = {obj["id"]: obj for obj in result if isinstance(obj.get("id"), str)}

    for obj in result:
        kind = obj.get("type")
        if kind in SCO_TYPES or kind in ("marking-definition", "relationship", "sighting"):
            continue
        _set_tlp(obj, _strictest(_tlp_refs(obj)) or event_tlp)
    # An observable takes the strictest TLP of the observed-data (or other objects) that contain it.
    container_tlps: dict[str, list[TLP]] = {}
    for obj in result:
        if obj.get("type") in SCO_TYPES or obj.get("type") == "report":
            continue
        for ref in obj.get("object_refs") or []:
            container_tlps.setdefault(ref, []).extend(_tlp_refs(obj))
    for obj in result:
        if obj.get("type") in SCO_TYPES:
            _set_tlp(obj, _strictest(_tlp_refs(obj) + container_tlps.get(obj["id"], [])) or event_tlp)
    for obj in result:
        if obj.get("type") in ("relationship", "sighting"):
            ends = [by_id.get(obj.get("source_ref") or obj.get("sighting_of_ref") or ""),
                    by_id.get(obj.get("target_ref") or "")]
            tlps = _tlp_refs(obj) + [t for end in ends if end is not None for t in _tlp_refs(end)]
            _set_tlp(obj, _strictest(tlps) or event_tlp)

    # The distribution is noted where STIX has room for it: the labels of SDOs and SROs (SCOs have none).
    for obj in result:
        kind = obj.get("type")
        if kind in SCO_TYPES or kind == "marking-definition" or not isinstance(obj.get("id"), str):
            continue
        level = distribution if kind == "report" else levels.get(obj["id"].split("--", 1)[-1].lower())
        if level is not None:
            obj["labels"] = [*(obj.get("labels") or []), f'misp:distribution="{level}"']

    used = sorted({TLP_BY_ID[ref] for obj in result for ref in obj.get("object_marking_refs") or [] if ref in TLP_BY_ID},
                  key=_TLP_ORDER.index)
    result.extend(tlp2_marking(tlp) for tlp in used)
    return MispConversion(
        objects=result, event_uuid=str(event.get("uuid") or ""), event_info=str(event.get("info") or ""),
        distribution=distribution, event_tlp=event_tlp, warnings=warnings,
    )


def misp_event_to_stix_objects(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The contract ``start_import_job(..., fmt="misp")`` calls: the STIX 2.1 objects for one MISP event."""
    return convert_misp_event(data).objects


def load_misp_json(raw: bytes | str) -> dict[str, Any]:
    """Parse the text of a MISP event file; bad JSON raises ``MispError`` with the position."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MispError(gettext("not JSON: %(error)s") % {"error": exc}) from None
    except RecursionError:  # Python's json gives up about 1,000 levels down (at once: no cost to speak of)
        raise MispError(gettext("not JSON this node reads: nested too deep")) from None
    _event_of(data)
    return data  # type: ignore[no-any-return]
