"""The STIX 2.1 form of best-practice notes, both ways, as pure functions: a new SDO type ``kizuna-practice``
declared by an extension-definition of Kizuna's own (built with ``kizuna.stix``), ``to_stix`` (a note as it is now)
and ``fields_from_stix`` (the fields a received object carries). Storing, publishing and receiving happen only in
``services`` (``do_publish``, ``do_receive``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kizuna.stix.definitions import extension_definition
from kizuna.stix.timestamps import format_timestamp

if TYPE_CHECKING:
    from kizuna.practices.models import Practice

PRACTICE_TYPE = "kizuna-practice"
PRACTICE_EXTENSION_ID = "extension-definition--0b1e4c6a-3f2d-4e8a-9c7b-6b697a757072"
MAX_TITLE = 300


def practice_extension_definition() -> dict[str, Any]:
    """The extension-definition that declares the ``kizuna-practice`` object type (the same object on every node)."""
    return extension_definition(
        PRACTICE_EXTENSION_ID, "Kizuna best-practice note",
        "A new SDO, kizuna-practice: a best-practice note shared between Kizuna nodes. Properties: name (the "
        "title), body (Markdown; render it sanitised), body_format (\"markdown\"), practice_version (the "
        "originator's version number). Its Kizuna label marking says who may see it; receivers must enforce it.",
        "kizuna-practice", ["new-sdo"],
    )


def stix_id_of(practice: Practice) -> str:
    """The note's STIX id: its own on a received copy, else made from its uuid (fixed for the note's life)."""
    return practice.stix_id or f"{PRACTICE_TYPE}--{practice.uuid}"


def to_stix(practice: Practice, created_by_ref: str) -> dict[str, Any]:
    """The STIX form of the note as it is now (without label marking or signature: TAXII serving adds both);
    ``created_by_ref`` is the identity of its originating organisation."""
    return {
        "type": PRACTICE_TYPE, "spec_version": "2.1", "id": stix_id_of(practice), "created_by_ref": created_by_ref,
        "created": format_timestamp(practice.created_at), "modified": format_timestamp(practice.updated_at),
        "name": practice.title, "body": practice.body, "body_format": "markdown",
        "practice_version": practice.version,
        "extensions": {PRACTICE_EXTENSION_ID: {"extension_type": "new-sdo"}},
    }


def fields_from_stix(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The Practice fields a received object carries, or None when it is not a usable note (no title)."""
    title = obj.get("name")
    if not isinstance(title, str) or not title.strip():
        return None
    body = obj.get("body")
    return {"title": title.strip()[:MAX_TITLE], "body": body if isinstance(body, str) else ""}
