"""Disinformation incidents: their STIX 2.1 form, the one write (``do_create_incident``) and the reads of the pages.

An incident is a STIX ``incident`` with the Kizuna *disinformation incident* property-extension (narratives, platforms,
languages, target audiences, first and last seen), declared by an extension-definition of our own with a fixed id,
created by the Kizuna identity. Its DISARM tactics and techniques are external references (source "DISARM", the
external id, and the framework page); each technique that the pinned DISARM version holds is also a ``uses``
relationship from the incident to DISARM's ``attack-pattern``. Without DISARM loaded, ids are accepted as free text
when they have the form TAnn / Tnnnn / Tnnnn.nnn, and live in the external references only.

The write goes through ``kizuna.threats.services.do_import_objects`` under the label the author picked, all or
nothing. Reads start from ``kizuna.threats.queries.visible_objects`` (the label rule and, for relationships, the rule
that both ends must be visible).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from kizuna.core import audit
from kizuna.core.access import intern_label, may_subject_see
from kizuna.core.errors import ServiceError
from kizuna.directory.authoring import require_contributor, resolve_label
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label, Subject
from kizuna.stix import definitions
from kizuna.stix.timestamps import format_timestamp
from kizuna.threats import queries
from kizuna.threats.disinfo import disarm
from kizuna.threats.models import StixObject

# Fixed (UUIDv4 form, as STIX wants): the same extension-definition on every node.
DISINFO_EXTENSION_ID = "extension-definition--69707a49-5ae2-4c82-a44e-64b9179f1374"
DEFINITION_LABEL = disarm.LABEL  # what the properties mean is for everyone: NATO + IP4, TLP:CLEAR
LIST_FIELDS = ("narratives", "platforms", "languages", "target_audiences")
MAX_NAME = 300
MAX_ITEMS = 50
MAX_ITEM = 200
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # BCP 47, the common forms (ja, ko, en-AU, zh-Hant)
DISARM_PAGES = "https://github.com/DISARMFoundation/DISARMframeworks/blob/main/generated_pages"


def extension_definition() -> dict[str, Any]:
    return definitions.extension_definition(
        DISINFO_EXTENSION_ID, "Kizuna disinformation incident",
        "On an incident: a disinformation incident - the narratives pushed, the platforms used, the "
        "languages of the content, the target audiences, and when it was first and last seen. DISARM "
        "tactics and techniques are external references (source DISARM) and uses relationships to "
        "DISARM attack-patterns.",
        "disinformation-incident", ["property-extension"],
    )


@dataclass
class IncidentInput:
    name: str
    label: Label
    description: str = ""
    narratives: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    target_audiences: list[str] = field(default_factory=list)
    tactics: list[str] = field(default_factory=list)  # TA06 ...
    techniques: list[str] = field(default_factory=list)  # T0002, T0015.001 ...
    first_seen: datetime | None = None
    last_seen: datetime | None = None


def _clean_list(values: list[str], name: str) -> list[str]:
    result: list[str] = []
    for value in values:
        text = " ".join(str(value).split())
        if not text:
            continue
        if len(text) > MAX_ITEM:
            raise ServiceError(gettext("each entry is limited to %(max)d characters") % {"max": MAX_ITEM}, name)
        if text not in result:
            result.append(text)
    if len(result) > MAX_ITEMS:
        raise ServiceError(gettext("at most %(max)d entries") % {"max": MAX_ITEMS}, name)
    return result


def _check_ids(values: list[str], pattern: re.Pattern[str], name: str, example: str) -> list[str]:
    ids = sorted({v.strip().upper() for v in values if v.strip()})
    bad = [v for v in ids if not pattern.match(v)]
    if bad:
        raise ServiceError(gettext("%(ids)s: not a DISARM id; write them like %(example)s") % {
            "ids": ", ".join(bad), "example": example}, name)
    return ids






def _import(user: User, objects: list[dict[str, Any]], label: Label, source: str) -> Any:
    from kizuna.threats.services import do_import_objects  # the store's one way in

    return do_import_objects(user, objects, label, source=source)


def ensure_extension_definition(user: User) -> None:
    """Store the extension-definition the first time it is needed (idempotent), under a label for everyone."""
    if StixObject.objects.filter(stix_id=DISINFO_EXTENSION_ID).exists():
        return
    if may_subject_see(subject_for(user), DEFINITION_LABEL):
        with transaction.atomic():
            _import(user, [extension_definition()], DEFINITION_LABEL, "kizuna disinformation extension-definition")


def build_incident(data: IncidentInput, framework: disarm.Framework | None, now: datetime) -> list[dict[str, Any]]:
    """The incident and its ``uses`` relationships (to the pinned version's attack-patterns)."""
    stamp = format_timestamp(now)
    incident_id = f"incident--{uuid.uuid4()}"
    extension: dict[str, Any] = {"extension_type": "property-extension"}
    for name in LIST_FIELDS:
        values = getattr(data, name)
        if values:
            extension[name] = list(values)
    if data.first_seen is not None:
        extension["first_seen"] = format_timestamp(data.first_seen)
    if data.last_seen is not None:
        extension["last_seen"] = format_timestamp(data.last_seen)
    references: list[dict[str, Any]] = []
    for external_id in [*data.tactics, *data.techniques]:
        known = None
        if framework is not None:
            known = framework.tactic(external_id) or framework.technique(external_id)
        kind = "tactics" if external_id.startswith("TA") else "techniques"
        url = (known.url if known is not None else "") or f"{DISARM_PAGES}/{kind}/{external_id}.md"
        references.append({"source_name": "DISARM", "external_id": external_id, "url": url})
    incident: dict[str, Any] = {
        "type": "incident", "spec_version": "2.1", "id": incident_id, "created": stamp, "modified": stamp,
        "name": data.name,
    }
    if data.description:
        incident["description"] = data.description
    if references:
        incident["external_references"] = references
    incident["extensions"] = {DISINFO_EXTENSION_ID: extension}
    objects = [incident]
    for external_id in data.techniques:
        found = framework.technique(external_id) if framework is not None else None
        if found is None:
            continue
        objects.append({
            "type": "relationship", "spec_version": "2.1", "id": f"relationship--{uuid.uuid4()}",
            "created": stamp, "modified": stamp, "relationship_type": "uses",
            "source_ref": incident_id, "target_ref": found.stix_id,
        })
    return objects


def do_create_incident(user: User, data: IncidentInput, address: str = "") -> str:
    """Store a disinformation incident; returns its STIX id. ServiceError names the field at fault."""
    require_contributor(user)
    name = " ".join((data.name or "").split())
    if not name:
        raise ServiceError(gettext("a name is required"), "name")
    if len(name) > MAX_NAME:
        raise ServiceError(gettext("the name is longer than %(max)d characters") % {"max": MAX_NAME}, "name")
    data.name = name
    for list_name in LIST_FIELDS:
        setattr(data, list_name, _clean_list(getattr(data, list_name), list_name))
    bad_languages = [v for v in data.languages if not _LANGUAGE.match(v)]
    if bad_languages:
        raise ServiceError(gettext("%(values)s: write languages as codes such as ja, ko, en, zh-Hant") % {
            "values": ", ".join(bad_languages)}, "languages")
    if data.first_seen and data.last_seen and data.last_seen < data.first_seen:
        raise ServiceError(gettext("last seen is before first seen"), "last_seen")
    data.tactics = _check_ids(data.tactics, disarm.TACTIC_ID, "tactics", "TA06")
    data.techniques = _check_ids(data.techniques, disarm.TECHNIQUE_ID, "techniques", "T0002, T0015.001")
    framework = disarm.framework(subject_for(user))
    if framework is not None:
        unknown = [t for t in data.tactics if framework.tactic(t) is None]
        unknown += [t for t in data.techniques if framework.technique(t) is None]
        if unknown:
            raise ServiceError(gettext("%(ids)s: not in DISARM %(version)s") % {
                "ids": ", ".join(unknown), "version": framework.version}, "techniques")
    label = resolve_label(user, data.label)
    ensure_extension_definition(user)
    objects = build_incident(data, framework, timezone.now())
    with transaction.atomic():
        summary = _import(user, objects, label, "disinformation form")
        if summary.rejected:
            first = summary.errors[0].reason if summary.errors else gettext("the object was rejected")
            raise ServiceError(gettext("the store refused this entry: %(reason)s") % {"reason": first})
        audit.record(user.username, "create", "stix", [objects[0]["id"]], intern_label(label).pk, address,
                     {"kind": "disinformation incident", "relationships": len(objects) - 1})
    return str(objects[0]["id"])


# --- reads ------------------------------------------------------------------------------------------------------


@dataclass
class IncidentView:
    """What the pages show of one stored incident."""

    obj: StixObject
    data: dict[str, Any]
    narratives: list[str]
    platforms: list[str]
    languages: list[str]
    target_audiences: list[str]
    first_seen: str
    last_seen: str
    tags: list[str]  # DISARM ids, from external references and visible uses relationships

    @property
    def stix_id(self) -> str:
        return self.obj.stix_id

    @property
    def name(self) -> str:
        return str(self.data.get("name") or self.obj.stix_id)

    @property
    def description(self) -> str:
        return str(self.data.get("description") or "")


def _disarm_refs(data: dict[str, Any]) -> list[str]:
    return [str(ref["external_id"]) for ref in data.get("external_references") or []
            if isinstance(ref, dict) and ref.get("source_name") in disarm.SOURCES
            and isinstance(ref.get("external_id"), str)]


def _incidents(subject: Subject) -> QuerySet[StixObject]:
    """Visible disinformation incidents: ours (the extension) and others' that carry DISARM references."""
    return queries.visible_objects(subject, types=["incident"]).filter(
        Q(data__contains=DISINFO_EXTENSION_ID) | Q(data__contains='"DISARM"'))


def _uses(subject: Subject, incident_ids: list[str]) -> dict[str, list[str]]:
    """incident id -> the attack-pattern ids it visibly ``uses``."""
    found: dict[str, list[str]] = {}
    rows = queries.visible_objects(subject, types=["relationship"]).filter(
        source_ref__in=incident_ids, target_ref__startswith="attack-pattern--", data__contains='"uses"',
    ).values_list("source_ref", "target_ref")
    for source, target in rows:
        found.setdefault(source, []).append(target)
    return found


def _view(obj: StixObject, uses: list[str], by_stix: dict[str, str]) -> IncidentView:
    data = json.loads(obj.data)
    ext = (data.get("extensions") or {}).get(DISINFO_EXTENSION_ID) or {}

    def strings(name: str) -> list[str]:
        values = ext.get(name) if isinstance(ext, dict) else None
        return [str(v) for v in values] if isinstance(values, list) else []

    tags = _disarm_refs(data)
    tags += [by_stix[t] for t in uses if t in by_stix and by_stix[t] not in tags]
    return IncidentView(obj, data, strings("narratives"), strings("platforms"), strings("languages"),
                        strings("target_audiences"), str(ext.get("first_seen") or ""), str(ext.get("last_seen") or ""),
                        sorted(tags, key=lambda t: (not t.startswith("TA"), t)))


_ASK: Any = object()


def list_incidents(subject: Subject, *, tactic: str = "", technique: str = "", limit: int = 200,
                   framework: disarm.Framework | None = _ASK) -> list[IncidentView]:
    """Visible incidents, newest first, filtered by a DISARM tactic (the tactic itself or any of its techniques) or a
    technique (the technique itself, or its sub-techniques when it has them). ``framework``: the subject's view of
    DISARM when the caller already has it."""
    if framework is _ASK:
        framework = disarm.framework(subject)
    by_stix = {t.stix_id: t.external_id for t in framework.techniques} if framework else {}
    wanted: set[str] = set()
    if technique:
        wanted = {technique} | ({t.external_id for t in framework.techniques if t.parent_id == technique}
                                if framework else set())
    elif tactic:
        wanted = {tactic} | ({t.external_id for t in framework.techniques_of(tactic)} if framework else set())
    rows = list(_incidents(subject).select_related("label", "originator").order_by("-created_at", "-id"))
    if not wanted:
        rows = rows[:limit]
    uses = _uses(subject, [r.stix_id for r in rows])
    views = [_view(r, uses.get(r.stix_id, []), by_stix) for r in rows]
    if wanted:
        views = [v for v in views if wanted.intersection(v.tags)][:limit]
    return views


def get_incident_or_404(subject: Subject, stix_id: str, framework: disarm.Framework | None = _ASK) -> IncidentView:
    """One visible incident; 404 alike for missing, invisible and not a disinformation incident."""
    from django.http import Http404

    obj = queries.get_object_or_404(subject, stix_id)
    if obj.type != "incident" or not _incidents(subject).filter(pk=obj.pk).exists():
        raise Http404("not found")
    if framework is _ASK:
        framework = disarm.framework(subject)
    by_stix = {t.stix_id: t.external_id for t in framework.techniques} if framework else {}
    return _view(obj, _uses(subject, [obj.stix_id]).get(obj.stix_id, []), by_stix)
