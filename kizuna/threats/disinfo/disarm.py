"""The DISARM disinformation framework on this node: loading its published STIX bundle, pinned to a version, and
looking up its tactics (TA01 ...) and techniques (T0002, T0015.001 ...) by external id.

DISARM's own bundle is shaped like MITRE ATT&CK's: one ``x-mitre-matrix`` (its ``tactic_refs`` in framework order),
``x-mitre-tactic`` objects (external id TAnn under source "DISARM", ``x_mitre_shortname``), ``attack-pattern``
techniques (external id Tnnnn or Tnnnn.nnn under source "mitre-attack", one kill-chain phase named after the tactic's
shortname, kill-chain "mitre-attack"; other converters say "disarm") and ``subtechnique-of`` relationships.

The node ships DISARM's published bundle (``data/DISARM.json``, version ``SHIPPED_VERSION``, DISARM Foundation, CC BY-SA
4.0: ``data/LICENSE.md``); the demo loads it, and ``kizuna disarm load`` with no file loads it too.

Loading (``kizuna disarm load [FILE --version V]``) stores the bundle through the importer, under a label for everyone
(NATO UNCLASSIFIED REL TO NATO, IP4, TLP:CLEAR), as a node administrator named with ``--user``: the administrator's
organisation becomes the originator, so a later version must be loaded by an administrator of the same organisation
(only the originator may issue new versions). The version is pinned in ``DisarmVersion``: a different version, or the
same version from a different file, is refused unless ``replace`` is given; loading the same file again changes
nothing. Lookups read only the objects of the pinned version, through ``visible_to``; with no version loaded they
return nothing and the pages say so (free-text ids are still accepted, checked only for their form).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from kizuna.core.errors import ServiceError
from kizuna.directory.models import Role, User
from kizuna.labels import Label, Subject

LABEL = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["IP4", "NATO"]}, "CLEAR", [])
SOURCES = ("DISARM", "mitre-attack", "disarm")
KILL_CHAINS = ("mitre-attack", "disarm")
# DISARM's published STIX bundle as shipped with the node (the DISARM Foundation's DISARMframeworks repository,
# generated_files/DISARM_STIX/DISARM.json, framework version 1.6, created 2024-11-22), and its licence beside it.
SHIPPED = Path(__file__).resolve().parent / "data" / "DISARM.json"
SHIPPED_VERSION = "1.6"
TACTIC_ID = re.compile(r"^TA\d{2}$")
TECHNIQUE_ID = re.compile(r"^T\d{4}(\.\d{3})?$")
_VERSION = re.compile(r"^[\w.+-]{1,64}$")
FRAMEWORK_TYPES = ("x-mitre-matrix", "x-mitre-tactic", "attack-pattern", "relationship", "identity",
                   "marking-definition")

# The four phases, and the tactics of each, from DISARM's framework pages (the STIX bundle does not carry phases).
# The matrix's tactic_refs give the same order: TA01 TA02 TA13 | TA14 TA06 TA15 TA16 TA05 TA07 | TA08 TA09 TA17 TA18
# TA10 TA11 | TA12.
PHASES: dict[str, str] = {"P01": "Plan", "P02": "Prepare", "P03": "Execute", "P04": "Assess"}
TACTIC_PHASES: dict[str, str] = {
    **dict.fromkeys(("TA01", "TA02", "TA13"), "P01"),
    **dict.fromkeys(("TA14", "TA06", "TA15", "TA16", "TA05", "TA07"), "P02"),
    **dict.fromkeys(("TA08", "TA09", "TA17", "TA18", "TA10", "TA11"), "P03"),
    "TA12": "P04",
}


@dataclass(frozen=True)
class Tactic:
    external_id: str
    name: str
    shortname: str
    phase: str  # P01 ... P04, "" when unknown
    stix_id: str
    description: str = ""
    url: str = ""

    @property
    def phase_name(self) -> str:
        return PHASES.get(self.phase, "")


@dataclass(frozen=True)
class Technique:
    external_id: str
    name: str
    stix_id: str
    tactic_ids: tuple[str, ...]
    description: str = ""
    url: str = ""

    @property
    def is_subtechnique(self) -> bool:
        return "." in self.external_id

    @property
    def parent_id(self) -> str | None:
        return self.external_id.split(".", 1)[0] if self.is_subtechnique else None


@dataclass
class Framework:
    """The pinned DISARM version as the subject sees it (tactics in framework order, techniques by id)."""

    version: str
    tactics: list[Tactic] = field(default_factory=list)
    techniques: list[Technique] = field(default_factory=list)

    def tactic(self, external_id: str) -> Tactic | None:
        return next((t for t in self.tactics if t.external_id == external_id), None)

    def technique(self, external_id: str) -> Technique | None:
        return next((t for t in self.techniques if t.external_id == external_id), None)

    def techniques_of(self, tactic_id: str) -> list[Technique]:
        return [t for t in self.techniques if tactic_id in t.tactic_ids]


def _external(obj: dict[str, Any]) -> tuple[str, str]:
    """(external id, url) of the object's DISARM external reference, or ("", "")."""
    for ref in obj.get("external_references") or []:
        if isinstance(ref, dict) and ref.get("source_name") in SOURCES and isinstance(ref.get("external_id"), str):
            return ref["external_id"], str(ref.get("url") or "")
    return "", ""


def _technique_key(external_id: str) -> tuple[int, int]:
    head, _, sub = external_id[1:].partition(".")
    return int(head), int(sub or 0)


def framework_from_objects(objects: list[dict[str, Any]], version: str = "") -> Framework:
    """Tactics and techniques out of DISARM's STIX objects (stored or from the file)."""
    matrix = next((o for o in objects if o.get("type") == "x-mitre-matrix"), None)
    order = {ref: i for i, ref in enumerate((matrix or {}).get("tactic_refs") or [])}
    tactics: list[Tactic] = []
    shortnames: dict[str, str] = {}
    for obj in objects:
        if obj.get("type") != "x-mitre-tactic":
            continue
        external_id, url = _external(obj)
        if not TACTIC_ID.match(external_id):
            continue
        shortname = str(obj.get("x_mitre_shortname") or "")
        shortnames[shortname] = external_id
        tactics.append(Tactic(external_id, str(obj.get("name") or external_id), shortname,
                              TACTIC_PHASES.get(external_id, ""), str(obj["id"]), str(obj.get("description") or ""), url))
    tactics.sort(key=lambda t: (order.get(t.stix_id, len(order)), t.external_id))
    techniques: list[Technique] = []
    for obj in objects:
        if obj.get("type") != "attack-pattern" or obj.get("revoked"):
            continue
        external_id, url = _external(obj)
        if not TECHNIQUE_ID.match(external_id):
            continue
        phases = [p.get("phase_name") for p in obj.get("kill_chain_phases") or []
                  if isinstance(p, dict) and p.get("kill_chain_name") in KILL_CHAINS]
        tactic_ids = tuple(sorted({shortnames[p] for p in phases if p in shortnames}))
        techniques.append(Technique(external_id, str(obj.get("name") or external_id), str(obj["id"]), tactic_ids,
                                    str(obj.get("description") or ""), url))
    techniques.sort(key=lambda t: _technique_key(t.external_id))
    return Framework(version=version, tactics=tactics, techniques=techniques)


# Parsed objects by (stix_id, modified): a stored version never changes, so its parse can be kept. The pages ask for
# the framework on every request; reading which versions the subject may see is one query of short rows, parsing
# the ~400 objects' JSON again each time would be most of the page's time.
_parsed: dict[tuple[str, str], dict[str, Any]] = {}
_PARSED_MAX = 5000


def loaded_version() -> Any:
    """The pinned ``DisarmVersion`` row, or None when DISARM has not been loaded on this node."""
    from kizuna.threats.disinfo.models import DisarmVersion

    return DisarmVersion.objects.order_by("-loaded_at").first()


def is_loaded() -> bool:
    return loaded_version() is not None


def framework(subject: Subject) -> Framework | None:
    """The pinned version's tactics and techniques that the subject may see; None when DISARM is not loaded."""
    from kizuna.threats.queries import visible_objects

    pinned = loaded_version()
    if pinned is None:
        return None
    visible = visible_objects(subject, types=["x-mitre-matrix", "x-mitre-tactic", "attack-pattern"]).filter(
        stix_id__in=pinned.object_ids)
    keys = list(visible.values_list("stix_id", "modified"))
    missing = [key for key in keys if key not in _parsed]
    if missing:
        if len(_parsed) > _PARSED_MAX:
            _parsed.clear()
        wanted = set(missing)
        for stix_id, modified, text in visible.filter(stix_id__in=[k[0] for k in missing]).values_list(
                "stix_id", "modified", "data"):
            if (stix_id, modified) in wanted:
                _parsed[(stix_id, modified)] = json.loads(text)
    return framework_from_objects([_parsed[key] for key in keys if key in _parsed], pinned.version)


def tactics(subject: Subject) -> list[Tactic]:
    found = framework(subject)
    return found.tactics if found else []


def techniques(subject: Subject) -> list[Technique]:
    found = framework(subject)
    return found.techniques if found else []


def tactic(subject: Subject, external_id: str) -> Tactic | None:
    found = framework(subject)
    return found.tactic(external_id) if found else None


def technique(subject: Subject, external_id: str) -> Technique | None:
    found = framework(subject)
    return found.technique(external_id) if found else None


# --- loading ---------------------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    version: str
    accepted: int
    unchanged: int
    rejected: int
    rejected_by_reason: dict[str, int]
    tactics: int
    techniques: int
    replaced: str = ""  # the version this load replaced, if any


def read_bundle(path: Path) -> tuple[dict[str, Any], str]:
    """The bundle in ``path`` and the SHA-256 of the file; ServiceError when it is not a DISARM STIX bundle."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ServiceError(gettext("cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}) from None
    try:
        bundle = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ServiceError(gettext("%(path)s is not JSON: %(error)s") % {"path": path.name, "error": exc}) from None
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle" or not isinstance(bundle.get("objects"), list):
        raise ServiceError(gettext("%(path)s is not a STIX bundle") % {"path": path.name})
    found = framework_from_objects([o for o in bundle["objects"] if isinstance(o, dict)])
    if not found.tactics or not found.techniques:
        raise ServiceError(gettext("%(path)s holds no DISARM tactics and techniques") % {"path": path.name})
    return bundle, hashlib.sha256(raw).hexdigest()


def load(user: User, path: Path, version: str, *, replace: bool = False) -> LoadResult:
    """Load DISARM's STIX bundle as ``version`` (see the module docstring for the pin and the label)."""
    from kizuna.threats.disinfo.models import DisarmVersion
    from kizuna.threats.services import do_import_objects

    if not _VERSION.match(version or ""):
        raise ServiceError(gettext("give the version as letters, digits and . + - _ (for example 1.6)"), "version")
    if user.role != Role.ADMIN or not user.is_active:
        raise ServiceError(gettext("DISARM is loaded by a node administrator; %(user)s is not one") % {
            "user": user.username}, "user")
    bundle, digest = read_bundle(path)
    objects = [o for o in bundle["objects"] if isinstance(o, dict) and o.get("type") in FRAMEWORK_TYPES]
    pinned = loaded_version()
    if pinned is not None and not replace:
        if pinned.version != version:
            raise ServiceError(gettext(
                "DISARM %(loaded)s is loaded; loading %(version)s over it needs --replace") % {
                "loaded": pinned.version, "version": version}, "version")
        if pinned.sha256 != digest:
            raise ServiceError(gettext(
                "DISARM %(version)s was loaded from a different file; a changed file needs a new version or "
                "--replace") % {"version": version}, "version")
    summary = do_import_objects(user, objects, LABEL, source=f"DISARM {version} ({path.name})")
    _parsed.clear()  # stored versions never change; a load is still the moment to start afresh
    ids = sorted({str(o["id"]) for o in objects if isinstance(o.get("id"), str)})
    with transaction.atomic():
        replaced = ""
        if pinned is not None and (pinned.version != version or pinned.sha256 != digest):
            replaced = pinned.version
        stale = DisarmVersion.objects.all()
        if pinned is not None:
            stale = stale.exclude(pk=pinned.pk)
        stale.delete()
        row = pinned or DisarmVersion(loaded_by=user)
        row.version, row.bundle_id, row.sha256, row.object_ids, row.loaded_by = (
            version, str(bundle.get("id") or ""), digest, ids, user)
        row.save()
    found = framework_from_objects(objects, version)
    return LoadResult(version, summary.accepted, summary.unchanged, summary.rejected, dict(summary.rejected_by_reason),
                      len(found.tactics), len(found.techniques), replaced)
