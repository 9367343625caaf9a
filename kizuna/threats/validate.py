"""Is this dict a valid STIX 2.1 object? One clear reason per failure, cheap enough to run on every imported object.

What is checked: the ``type`` (every type the specification defines, plus custom types that start with ``x-`` or are
declared by an extension-definition in the object's own ``extensions``: those are kept and served back unchanged), the
``id`` (``<type>--<RFC 4122 UUID>``), ``spec_version`` ("2.1"; optional on cyber observables), the timestamps (RFC 3339
in UTC with ``Z``; ``modified`` not before ``created``), the properties the specification requires for each type (the
lists follow the OASIS ``stix2`` library's ``stix2/v21`` classes, plus ``valid_from`` on indicators, which the library
defaults but the specification requires), the types of a few properties every consumer relies on, and indicator
patterns.

Patterns: the grammar check of ``stix2patterns`` costs about 0.2 ms per pattern, more than storing the object. The
common simple patterns (one bracket holding ``=`` comparisons of an IP address, domain name, URL, e-mail address or
file hash joined by AND/OR) are recognised by :func:`simple_pattern`, a strict hand-written parser that only ever
ACCEPTS: whatever it does not recognise goes to ``stix2patterns``. ``tests/threats/test_validate_properties.py``
shows with hypothesis that it never accepts a pattern the full validator rejects. It also returns the observable
values of the pattern, which the store indexes for search by value.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from kizuna.stix.timestamps import TIMESTAMP_RE

SDO_TYPES = frozenset({
    "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident", "indicator",
    "infrastructure", "intrusion-set", "location", "malware", "malware-analysis", "note", "observed-data", "opinion",
    "report", "threat-actor", "tool", "vulnerability",
})
SRO_TYPES = frozenset({"relationship", "sighting"})
SCO_TYPES = frozenset({
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file", "ipv4-addr",
    "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url", "user-account",
    "windows-registry-key", "x509-certificate",
})
META_TYPES = frozenset({"marking-definition", "extension-definition", "language-content"})
SPEC_TYPES = SDO_TYPES | SRO_TYPES | SCO_TYPES | META_TYPES

# Required beyond the common properties (type, id, spec_version, created, modified), from stix2/v21.
REQUIRED: dict[str, tuple[str, ...]] = {
    "attack-pattern": ("name",),
    "campaign": ("name",),
    "course-of-action": ("name",),
    "grouping": ("context", "object_refs"),
    "identity": ("name",),
    "incident": ("name",),
    "indicator": ("pattern", "pattern_type", "valid_from"),
    "infrastructure": ("name",),
    "intrusion-set": ("name",),
    "malware": ("is_family",),
    "malware-analysis": ("product",),
    "note": ("content", "object_refs"),
    "observed-data": ("first_observed", "last_observed", "number_observed"),
    "opinion": ("opinion", "object_refs"),
    "report": ("name", "published", "object_refs"),
    "threat-actor": ("name",),
    "tool": ("name",),
    "vulnerability": ("name",),
    "relationship": ("relationship_type", "source_ref", "target_ref"),
    "sighting": ("sighting_of_ref",),
    "autonomous-system": ("number",),
    "directory": ("path",),
    "domain-name": ("value",),
    "email-addr": ("value",),
    "email-message": ("is_multipart",),
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
    "mac-addr": ("value",),
    "mutex": ("name",),
    "network-traffic": ("protocols",),
    "software": ("name",),
    "url": ("value",),
    "extension-definition": ("created_by_ref", "name", "schema", "version", "extension_types"),
    "language-content": ("object_ref", "contents"),
}
# Timestamp properties checked wherever they appear (besides created and modified).
TIMESTAMPS = ("valid_from", "valid_until", "first_seen", "last_seen", "published", "first_observed", "last_observed")
# Reference properties that must hold one identifier.
REFS = ("created_by_ref", "source_ref", "target_ref", "sighting_of_ref", "object_ref")
MAX_TYPE, MAX_ID = 64, 128  # widths of the store's type and stix_id columns
EXTENSION_TYPES = {"new-sdo": "sdo", "new-sco": "sco", "new-sro": "sro"}

_TYPE_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,248})[a-z0-9]")
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
_ID_RE = re.compile(r"([a-z0-9][a-z0-9-]*[a-z0-9])--" + _UUID)


def kind_of(obj: dict[str, Any]) -> str | None:
    """"sdo", "sro", "sco" or "meta" for a type the object may have; None when the type is neither defined by the
    specification, nor ``x-`` custom, nor declared by an extension-definition in the object's own extensions."""
    t = obj.get("type")
    if not isinstance(t, str):
        return None
    if t in SDO_TYPES:
        return "sdo"
    if t in SRO_TYPES:
        return "sro"
    if t in SCO_TYPES:
        return "sco"
    if t in META_TYPES:
        return "meta"
    extensions = obj.get("extensions")
    if isinstance(extensions, dict):
        for key, ext in extensions.items():
            if isinstance(key, str) and key.startswith("extension-definition--") and isinstance(ext, dict):
                declared = EXTENSION_TYPES.get(ext.get("extension_type"))  # type: ignore[arg-type]
                if declared:
                    return declared
    if t.startswith("x-"):
        # Old-style custom objects (ATT&CK, DISARM): SDO-like when they carry created/modified, else observable-like.
        return "sdo" if "created" in obj else "sco"
    return None


def timestamp_key(value: str) -> str:
    """A key that sorts STIX timestamps in time order whatever their fractional precision (``...27Z`` and
    ``...27.000Z`` are the same instant, and ``...27.5Z`` is later than ``...27Z``, which string order gets wrong)."""
    m = TIMESTAMP_RE.fullmatch(value)
    if m is None:
        return value
    return f"{value[:19]}.{(m.group(7) or '').ljust(9, '0')}Z"


_VALID_TIMESTAMPS: set[str] = set()  # bulk data repeats timestamps; a valid one is not checked twice


def check_timestamp(value: Any) -> str | None:
    """None when the value is an RFC 3339 UTC timestamp with ``Z``, else the reason."""
    if value.__class__ is str and value in _VALID_TIMESTAMPS:
        return None
    if not isinstance(value, str):
        return "must be a timestamp string"
    m = TIMESTAMP_RE.fullmatch(value)
    if m is None:
        return f"{value!r} is not an RFC 3339 timestamp in UTC (e.g. 2026-01-31T12:00:00.000Z)"
    try:
        datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), min(int(m[6]), 59))
    except ValueError:
        return f"{value!r} is not a valid date and time"
    if len(_VALID_TIMESTAMPS) > 50_000:
        _VALID_TIMESTAMPS.clear()
    _VALID_TIMESTAMPS.add(value)
    return None


def check_id(value: Any, of_type: str | None = None) -> str | None:
    if not isinstance(value, str):
        return "must be a STIX identifier string"
    m = _ID_RE.fullmatch(value)
    if m is None:
        return f"{value[:140]!r} is not a STIX identifier (<type>--<RFC 4122 UUID>)"
    if of_type is not None and m.group(1) != of_type:
        return f"{value!r} does not start with the object's type {of_type!r}"
    return None


_UUID_RE = re.compile(_UUID)
# Properties the general validator checks on an indicator that the fast path below leaves to it.
_INDICATOR_SLOW = frozenset({
    "first_seen", "last_seen", "published", "first_observed", "last_observed", "source_ref", "target_ref",
    "sighting_of_ref", "object_ref", "object_refs", "granular_markings", "extensions",
})


def _valid_indicator(obj: dict[str, Any]) -> bool:
    """True when ``obj`` is an indicator the general validator would accept, checked with fewer steps (the bulk of
    any feed). Only ever ACCEPTS: anything unusual or wrong answers False and the general validator, which words the
    reason, decides. Properties the general validator does not look at are not looked at here either."""
    if not _INDICATOR_SLOW.isdisjoint(obj):
        return False
    stix_id = obj.get("id")
    if (stix_id.__class__ is not str or len(stix_id) != 47 or not stix_id.startswith("indicator--")
            or _UUID_RE.fullmatch(stix_id, 11) is None or obj.get("spec_version") != "2.1"):
        return False
    created, modified, valid_from = obj.get("created"), obj.get("modified"), obj.get("valid_from")
    if (created is None or modified is None or valid_from is None or check_timestamp(created)
            or check_timestamp(modified) or check_timestamp(valid_from)):
        return False
    if created != modified and timestamp_key(modified) < timestamp_key(created):
        return False
    pattern, pattern_type = obj.get("pattern"), obj.get("pattern_type")
    if pattern.__class__ is not str or pattern_type.__class__ is not str:
        return False
    if "valid_until" in obj:
        until = obj["valid_until"]
        if check_timestamp(until) or timestamp_key(until) <= timestamp_key(valid_from):
            return False
    if "created_by_ref" in obj:
        ref = obj["created_by_ref"]
        if check_id(ref) or len(ref) > MAX_ID:
            return False
    for prop in ("labels", "object_marking_refs"):
        value = obj.get(prop)
        if value is not None and (value.__class__ is not list or not all(v.__class__ is str for v in value)):
            return False
    for ref in obj.get("object_marking_refs") or ():
        if not ref.startswith("marking-definition--") or check_id(ref):
            return False
    if "revoked" in obj and obj["revoked"].__class__ is not bool:
        return False
    if ("name" in obj and obj["name"].__class__ is not str) or (
            "description" in obj and obj["description"].__class__ is not str):
        return False
    refs = obj.get("external_references")
    if refs is not None and (refs.__class__ is not list or not all(r.__class__ is dict for r in refs)):
        return False
    return pattern_type != "stix" or simple_pattern(pattern) is not None


def validate_object(obj: Any) -> str | None:
    """None when ``obj`` is a valid STIX 2.1 object, else the first reason it is not (safe to show)."""
    if obj.__class__ is dict and obj.get("type") == "indicator" and _valid_indicator(obj):
        return None
    if not isinstance(obj, dict):
        return "not a JSON object"
    t = obj.get("type")
    if not isinstance(t, str) or not t:
        return "type: missing"
    if _TYPE_RE.fullmatch(t) is None:
        return f"type: {t[:80]!r} is not a STIX type name (3-250 characters a-z, 0-9, hyphen)"
    kind = kind_of(obj)
    if kind is None:
        return (f"type: {t!r} is not a STIX 2.1 type (custom types must start with x- or be declared by an "
                "extension-definition with extension_type new-sdo, new-sco or new-sro)")
    if len(t) > MAX_TYPE:
        return f"type: longer than {MAX_TYPE} characters (this store's limit)"
    reason = check_id(obj.get("id"), t)
    if reason:
        return f"id: {reason}" if "id" in obj else "id: missing"
    if len(obj["id"]) > MAX_ID:
        return f"id: longer than {MAX_ID} characters (this store's limit)"
    spec = obj.get("spec_version")
    if spec is None:
        if kind != "sco":
            return "spec_version: missing (must be \"2.1\")"
    elif spec != "2.1":
        return f"spec_version: {str(spec)[:20]!r} is not \"2.1\""
    if kind != "sco":
        if "created" not in obj:
            return "created: missing"
        if "modified" not in obj and t != "marking-definition":
            return "modified: missing"
    for prop in ("created", "modified"):
        if prop in obj:
            reason = check_timestamp(obj[prop])
            if reason:
                return f"{prop}: {reason}"
    if "created" in obj and "modified" in obj and timestamp_key(obj["modified"]) < timestamp_key(obj["created"]):
        return "modified: earlier than created"
    for prop in REQUIRED.get(t, ()):
        if obj.get(prop) is None:
            return f"{prop}: missing (required for {t})"
    for prop in TIMESTAMPS:
        if prop in obj:
            reason = check_timestamp(obj[prop])
            if reason:
                return f"{prop}: {reason}"
    for prop in REFS:
        if prop in obj:
            reason = check_id(obj[prop])
            if reason:
                return f"{prop}: {reason}"
            if len(obj[prop]) > MAX_ID:
                return f"{prop}: longer than {MAX_ID} characters (this store's limit)"
    reason = _check_common(obj)
    if reason:
        return reason
    reason = _check_specific(t, obj)
    if reason:
        return reason
    # Infinite and NaN numbers (1e999 in the input) are found when the object is written as JSON text
    # (store.to_text, allow_nan=False) rather than by a second walk over every object here.
    return None


def _check_common(obj: dict[str, Any]) -> str | None:
    for prop in ("object_marking_refs", "labels", "object_refs"):
        value = obj.get(prop)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            return f"{prop}: must be a list of strings"
    for ref in obj.get("object_marking_refs") or ():
        if not ref.startswith("marking-definition--") or check_id(ref):
            return f"object_marking_refs: {ref[:140]!r} is not a marking-definition identifier"
    granular = obj.get("granular_markings")
    if granular is not None:
        if not isinstance(granular, list) or not all(isinstance(g, dict) for g in granular):
            return "granular_markings: must be a list of objects"
        for g in granular:
            ref = g.get("marking_ref")
            if ref is not None and (not isinstance(ref, str) or check_id(ref)):
                return "granular_markings: marking_ref is not an identifier"
            if not isinstance(g.get("selectors"), list) or not g["selectors"]:
                return "granular_markings: selectors must be a non-empty list"
    extensions = obj.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        return "extensions: must be an object"
    for prop in ("revoked",):
        if prop in obj and not isinstance(obj[prop], bool):
            return f"{prop}: must be true or false"
    for prop in ("name", "description"):
        if prop in obj and not isinstance(obj[prop], str):
            return f"{prop}: must be a string"
    refs = obj.get("external_references")
    if refs is not None and (not isinstance(refs, list) or not all(isinstance(r, dict) for r in refs)):
        return "external_references: must be a list of objects"
    return None


def _check_specific(t: str, obj: dict[str, Any]) -> str | None:
    if t == "indicator":
        pattern, pattern_type = obj["pattern"], obj["pattern_type"]
        if not isinstance(pattern, str) or not isinstance(pattern_type, str):
            return "pattern: pattern and pattern_type must be strings"
        if pattern_type == "stix":
            reason = check_pattern(pattern)
            if reason:
                return f"pattern: {reason}"
        if "valid_until" in obj and timestamp_key(obj["valid_until"]) <= timestamp_key(obj["valid_from"]):
            return "valid_until: must be later than valid_from"
    elif t == "malware":
        if not isinstance(obj["is_family"], bool):
            return "is_family: must be true or false"
    elif t == "relationship":
        if not isinstance(obj["relationship_type"], str) or not obj["relationship_type"]:
            return "relationship_type: must be a non-empty string"
    elif t in ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "mac-addr"):
        if not isinstance(obj["value"], str) or not obj["value"]:
            return "value: must be a non-empty string"
    elif t == "file":
        hashes = obj.get("hashes")
        if hashes is not None and (not isinstance(hashes, dict) or not all(isinstance(v, str) for v in hashes.values())):
            return "hashes: must map a hash name to a string"
    elif t == "marking-definition":
        has_definition = "definition_type" in obj or "definition" in obj
        if has_definition and not (isinstance(obj.get("definition_type"), str) and isinstance(obj.get("definition"), dict)):
            return "definition: definition_type (a string) and definition (an object) go together"
        if not has_definition and not obj.get("extensions"):
            return "definition: a marking-definition needs definition_type and definition, or extensions"
    elif t == "extension-definition":
        types = obj["extension_types"]
        if not isinstance(types, list) or not types or not all(isinstance(x, str) for x in types):
            return "extension_types: must be a non-empty list of strings"
    elif t == "observed-data":
        if not isinstance(obj["number_observed"], int) or isinstance(obj["number_observed"], bool) \
                or not 1 <= obj["number_observed"] <= 999_999_999:
            return "number_observed: must be an integer from 1 to 999,999,999"
    return None


# ---- indicator patterns ---------------------------------------------------------------------------------------

# Object paths the fast path knows, and the kind under which their value is indexed.
_FAST_PATHS: dict[str, str] = {
    "ipv4-addr:value": "ipv4-addr",
    "ipv6-addr:value": "ipv6-addr",
    "domain-name:value": "domain-name",
    "url:value": "url",
    "email-addr:value": "email-addr",
    "file:hashes.'SHA-256'": "file:SHA-256",
    "file:hashes.'SHA-1'": "file:SHA-1",
    "file:hashes.MD5": "file:MD5",
    "file:hashes.'MD5'": "file:MD5",
    "file:hashes.md5": "file:MD5",
    "file:hashes.'SHA256'": "file:SHA-256",
    "file:hashes.SHA256": "file:SHA-256",
    "file:hashes.'SHA1'": "file:SHA-1",
    "file:hashes.SHA1": "file:SHA-1",
}
_HASH_LENGTH = {"file:MD5": 32, "file:SHA-1": 40, "file:SHA-256": 64}
_HEX = re.compile(r"[0-9a-fA-F]+")
# One comparison: a known path, "=", a quoted string whose only escapes are \' and \\. Printable ASCII only inside
# the quotes, so no lexer corner (unicode whitespace, control characters) can differ between us and the grammar.
_COMPARISON = re.compile(
    r"(ipv4-addr:value|ipv6-addr:value|domain-name:value|url:value|email-addr:value"
    r"|file:hashes\.(?:'SHA-256'|'SHA-1'|MD5|'MD5'|md5|'SHA256'|SHA256|'SHA1'|SHA1))"
    r" ?= ?'((?:[ -&(-\[\]-~]|\\['\\])*)'"
)
_JOIN = re.compile(r" (AND|OR) ")
_UNESCAPE = re.compile(r"\\(['\\])")


_last_simple: tuple[str, list[tuple[str, str]] | None] = ("", None)


def simple_pattern(pattern: str) -> list[tuple[str, str]] | None:
    """Memoised for the last pattern: validation and then indexing ask about the same pattern in turn."""
    global _last_simple
    last, result = _last_simple
    if pattern == last and last:
        return result
    result = _simple_pattern(pattern)
    _last_simple = (pattern, result)
    return result


def _simple_pattern(pattern: str) -> list[tuple[str, str]] | None:
    """The (kind, value) pairs of a simple pattern — one bracket of ``=`` comparisons of known observable paths
    joined by AND/OR — or None when the pattern is anything else (the caller then asks the full validator). Only
    patterns the full grammar accepts are recognised; the values returned are unescaped."""
    if len(pattern) > 4096 or not pattern.startswith("[") or not pattern.endswith("]"):
        return None
    body = pattern[1:-1]
    if body.startswith(" "):
        body = body[1:]
    if body.endswith(" "):
        body = body[:-1]
    values: list[tuple[str, str]] = []
    pos, end = 0, len(body)
    while True:
        m = _COMPARISON.match(body, pos)
        if m is None:
            return None
        kind = _FAST_PATHS[m.group(1)]
        value = m.group(2)
        if "\\" in value:
            value = _UNESCAPE.sub(r"\1", value)
        if kind in _HASH_LENGTH:
            if len(value) != _HASH_LENGTH[kind] or _HEX.fullmatch(value) is None:
                return None
            value = value.lower()
        values.append((kind, value))
        pos = m.end()
        if pos == end:
            return values
        j = _JOIN.match(body, pos)
        if j is None:
            return None
        pos = j.end()


def full_pattern_errors(pattern: str) -> list[str]:
    """The errors of the OASIS pattern validator (STIX 2.1 grammar), empty when the pattern is valid."""
    from stix2patterns.validator import run_validator

    try:
        return list(run_validator(pattern, stix_version="2.1"))
    except Exception as exc:
        return [f"FAIL: {type(exc).__name__}"]


def check_pattern(pattern: str) -> str | None:
    """None when the STIX pattern is valid; else the validator's first error (without its "FAIL: " prefix)."""
    if simple_pattern(pattern) is not None:
        return None
    errors = full_pattern_errors(pattern)
    if not errors:
        return None
    first = str(errors[0])
    return first.removeprefix("FAIL: ")[:300]
