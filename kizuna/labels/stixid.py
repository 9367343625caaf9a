"""STIX ids derived from content: the same name, or the same label, gives the same id on every node. Here, below the
label store, so that a label row can carry its marking-definition id as an indexed column (``LabelRecord.marking``)
and a marking is found by id without reading every label."""

from __future__ import annotations

import hashlib
import uuid

from kizuna.labels.model import Label

_LABEL_NAMESPACE = uuid.UUID("0f1e4774-2c3b-4a5d-8e6f-6b697a756e61")


def deterministic_id(kind: str, name: str) -> str:
    """A STIX id that is the same for the same name on every node. Shaped as a version-4 UUID (random-looking bits
    from a hash) because the OASIS validator warns about other UUID versions."""
    digest = hashlib.sha256(f"{_LABEL_NAMESPACE}:{kind}:{name}".encode()).digest()
    return f"{kind}--{uuid.UUID(bytes=digest[:16], version=4)}"


def label_marking_id(label: Label) -> str:
    """Deterministic: the same label is always the same marking-definition, on every node."""
    return deterministic_id("marking-definition", label.key())
