"""Helpers (no tests) for the import tests: valid STIX 2.1 objects built by hand, bundles as bytes, and a look at
what the store holds (raw rows, not through the read side, which other tests cover)."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

from kizuna.threats.models import ObservableValue, StixObject

T0 = "2026-02-01T00:00:00.000Z"
T1 = "2026-02-02T00:00:00.000Z"
T2 = "2026-02-03T00:00:00.000Z"


def new_id(stix_type: str) -> str:
    return f"{stix_type}--{uuid.uuid4()}"


def indicator(value: str = "198.51.100.7", *, stix_id: str | None = None, modified: str = T0,
              **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1", "id": stix_id or new_id("indicator"), "created": T0,
        "modified": modified, "name": f"Bad address {value}", "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix", "valid_from": T0,
    }
    obj.update(extra)
    return obj


def malware(name: str = "Sakura", **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"type": "malware", "spec_version": "2.1", "id": new_id("malware"), "created": T0,
                           "modified": T0, "name": name, "is_family": True}
    obj.update(extra)
    return obj


def relationship(source: str, target: str, **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"type": "relationship", "spec_version": "2.1", "id": new_id("relationship"),
                           "created": T0, "modified": T0, "relationship_type": "indicates", "source_ref": source,
                           "target_ref": target}
    obj.update(extra)
    return obj


def bundle(objects: list[Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": new_id("bundle"), "objects": objects}


def as_stream(data: Any) -> io.BytesIO:
    return io.BytesIO(data if isinstance(data, bytes) else json.dumps(data).encode("utf-8"))


def rows(stix_id: str) -> list[StixObject]:
    return list(StixObject.objects.filter(stix_id=stix_id).order_by("modified"))


def current(stix_id: str) -> StixObject:
    return StixObject.objects.get(stix_id=stix_id, is_current=True)


def values_of(stix_id: str) -> set[tuple[str, str]]:
    """The observable values indexed for an object, without the ip-range keys derived from its IP values (those are
    checked by tests/threats/test_search.py)."""
    return set(ObservableValue.objects.filter(obj__stix_id=stix_id).exclude(kind="ip-range")
               .values_list("kind", "value"))
