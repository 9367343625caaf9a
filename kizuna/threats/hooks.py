"""Hooks through which the threat exchange reaches the modules built on it (watch filters, sightings) without
importing them: each such module appends its handlers here in its ``AppConfig.ready()``. The threat exchange calls
them and knows nothing else of who listens (issue 11: threats reaches watch through a hook, not an import)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kizuna.core.models import LabelRecord
    from kizuna.directory.models import User
    from kizuna.labels import Subject
    from kizuna.threats.models import StixObject

# Called once an import's objects are committed, with the STIX ids it stored (new objects and new versions).
on_objects_stored: list[Callable[[list[str]], object]] = []

# Called when an object's page is drawn, for the viewer and the object: more context for the page's template, and
# the labels of the records that context shows (so the page's banner names them).
object_page_context: list[
    Callable[[User, Subject, StixObject], tuple[dict[str, Any], list[LabelRecord]]]
] = []
