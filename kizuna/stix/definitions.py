"""Kizuna's own STIX identity, the identities of the directory's organisations, and the extension-definitions Kizuna
declares.

Every Kizuna extension-definition is created by the same fixed identity at the same fixed time (``EPOCH``), so it is
the same object, with the same id, on every node: a receiver stores it once, whoever sent it. Only the id, name,
description, schema slug and extension types differ from one to the next; ``extension_definition`` builds them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

KIZUNA_IDENTITY_ID = "identity--4b697a75-6e61-4000-8000-000000004774"
EPOCH = "2026-01-01T00:00:00.000Z"
_ORGANISATION_NAMESPACE = uuid.UUID("5a1e4774-6b69-7a75-6e61-000000000000")


def organisation_identity_id(code: str) -> str:
    """The STIX identity id that stands for the directory's organisation with this code: the same on every node."""
    return f"identity--{uuid.uuid5(_ORGANISATION_NAMESPACE, code)}"


def kizuna_identity() -> dict[str, Any]:
    """The identity that creates Kizuna's extension-definitions and label markings (a system, not a node)."""
    return {
        "type": "identity", "spec_version": "2.1", "id": KIZUNA_IDENTITY_ID, "created": EPOCH, "modified": EPOCH,
        "name": "Kizuna", "identity_class": "system",
    }


def extension_definition(ext_id: str, name: str, description: str, schema_slug: str,
                         extension_types: Sequence[str]) -> dict[str, Any]:
    """An extension-definition created by Kizuna's identity (STIX 2.1, section 7.3); its schema is named
    ``https://kizuna.invalid/schemas/{schema_slug}-1.0.json`` (a name, not a place to fetch)."""
    return {
        "type": "extension-definition", "spec_version": "2.1", "id": ext_id,
        "created_by_ref": KIZUNA_IDENTITY_ID, "created": EPOCH, "modified": EPOCH,
        "name": name, "description": description,
        "schema": f"https://kizuna.invalid/schemas/{schema_slug}-1.0.json",
        "version": "1.0.0",
        "extension_types": list(extension_types),
    }
