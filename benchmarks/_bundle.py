"""Generated STIX bundles of indicators for the import benchmarks and tests: simple patterns of four kinds (IPv4,
domain, URL, SHA-256), random ids, written as a stream so that a bundle of 200 MB never sits in memory."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

T0 = "2026-02-01T00:00:00.000Z"
BYTES_PER_INDICATOR = 459  # about, as written by write_bundle (45.9 MB per 100,000)


def indicator(i: int) -> dict[str, object]:
    kind = i % 4
    if kind == 0:
        pattern = f"[ipv4-addr:value = '{10 + i // 65536 % 200}.{i // 256 % 256}.{i % 256}.{i % 7}']"
    elif kind == 1:
        pattern = f"[domain-name:value = 'host{i}.example.org']"
    elif kind == 2:
        pattern = f"[url:value = 'https://bad{i}.example.net/path?q={i}']"
    else:
        pattern = f"[file:hashes.'SHA-256' = '{uuid.UUID(int=i).hex}{uuid.UUID(int=i * 7 + 1).hex}']"
    return {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}", "created": T0, "modified": T0,
        "name": f"Indicator {i}", "indicator_types": ["malicious-activity"], "pattern": pattern,
        "pattern_type": "stix", "pattern_version": "2.1", "valid_from": T0,
        "labels": ["benchmark"], "confidence": 70,
    }


def write_bundle(path: Path, n: int) -> int:
    """Write a bundle of ``n`` indicators to ``path``, one object at a time; its size in bytes."""
    with path.open("w") as f:
        f.write(f'{{"type": "bundle", "id": "bundle--{uuid.uuid4()}", "objects": [')
        for i in range(n):
            if i:
                f.write(", ")
            f.write(json.dumps(indicator(i)))
        f.write("]}")
    return path.stat().st_size
