"""Writes of the maritime and strategic pages: each builds the STIX objects (``geo.stix``) and stores them through the
store's one way in, ``kizuna.threats.services.do_import_objects``, under the label the author picked.

One form is one transaction: if the store rejects any object (the incident, or the photo that goes with it), nothing
of the form is kept and the first reason comes back as a ``ServiceError`` on the field it concerns. The three
extension-definitions are stored the same way the first time they are needed, under a label every partner may see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from kizuna.core.access import may_subject_see
from kizuna.core.errors import ServiceError
from kizuna.directory.authoring import require_contributor, resolve_label
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label
from kizuna.threats import queries
from kizuna.threats.geo import stix
from kizuna.threats.models import StixObject

# The extension-definitions say only what the properties mean: releasable to NATO and all partners, TLP:CLEAR.
DEFINITION_LABEL = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["IP4", "NATO"]}, "CLEAR", [])
PHOTO_MAX_BYTES = 512 * 1024  # an artifact travels inside the object's JSON: keep photos small
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}


@dataclass(frozen=True)
class Photo:
    content: bytes
    mime_type: str


def _import(user: User, objects: list[dict[str, Any]], label: Label, source: str) -> Any:
    # Imported here: the store's services import half the threats package, the pages need only this one function.
    from kizuna.threats.services import do_import_objects

    return do_import_objects(user, objects, label, source=source)


def ensure_extension_definitions(user: User) -> None:
    """Store the extension-definitions that are not stored yet (idempotent; a user who may not store them is no
    reason to refuse the form: the objects are valid STIX without them and the next author stores them)."""
    wanted = stix.extension_definitions()
    # An existence check of three public, fixed ids that shows the user nothing: no visible_to needed.
    have = set(StixObject.objects.filter(stix_id__in=[d["id"] for d in wanted]).values_list("stix_id", flat=True))
    missing = [d for d in wanted if d["id"] not in have]
    if missing and may_subject_see(subject_for(user), DEFINITION_LABEL):
        with transaction.atomic():
            _import(user, missing, DEFINITION_LABEL, "kizuna geo extension-definitions")






def _photo_objects(photo: Photo | None) -> list[dict[str, Any]]:
    if photo is None:
        return []
    if photo.mime_type not in PHOTO_TYPES:
        raise ServiceError(gettext("a photo must be a JPEG, PNG or WebP image"), "photo")
    if len(photo.content) > PHOTO_MAX_BYTES:
        raise ServiceError(gettext("the photo is larger than %(max)d KB; attach large images to a report instead")
                           % {"max": PHOTO_MAX_BYTES // 1024}, "photo")
    return [stix.photo_artifact(photo.content, photo.mime_type)]


def _store(user: User, objects: list[dict[str, Any]], label: Label, source: str) -> None:
    """All or nothing: a rejected object undoes the form's other objects too."""
    with transaction.atomic():
        summary = _import(user, objects, label, source)
        if summary.rejected:
            first = summary.errors[0].reason if summary.errors else gettext("the object was rejected")
            raise ServiceError(gettext("the store refused this entry: %(reason)s") % {"reason": first})


def _check_period(start: datetime, end: datetime | None, field: str) -> None:
    if end is not None and end < start:
        raise ServiceError(gettext("the end is before the start"), field)


def _store_with_photo(user: User, label: Label, photo: Photo | None,
                      build: Callable[[list[str]], dict[str, Any]], source: str) -> str:
    """Store the object ``build`` makes from the ids of its evidence, with the photo that is that evidence (if any),
    under ``label``; returns the object's STIX id."""
    ensure_extension_definitions(user)
    evidence = _photo_objects(photo)
    obj = build([o["id"] for o in evidence])
    _store(user, [*evidence, obj], label, source)
    return str(obj["id"])


def do_create_maritime(user: User, data: stix.MaritimeInput, label: Label, photo: Photo | None = None) -> str:
    """Store a maritime incident or observation (and its photo); returns the incident's STIX id."""
    require_contributor(user)
    label = resolve_label(user, label)
    _check_period(data.observed_start, data.observed_end, "observed_end")
    if data.observation_type not in stix.MARITIME_TYPES:
        raise ServiceError(gettext("unknown type of observation"), "observation_type")
    return _store_with_photo(user, label, photo, lambda evidence: stix.maritime_incident(data, evidence, timezone.now()),
                             "maritime form")


def do_create_site(user: User, data: stix.SiteInput, label: Label, photo: Photo | None = None) -> str:
    require_contributor(user)
    label = resolve_label(user, label)
    if data.site_type not in stix.SITE_TYPES:
        raise ServiceError(gettext("unknown kind of site"), "site_type")
    return _store_with_photo(user, label, photo, lambda evidence: stix.strategic_site(data, evidence, timezone.now()),
                             "strategic site form")


def do_create_event(user: User, data: stix.EventInput, label: Label, photo: Photo | None = None) -> str:
    require_contributor(user)
    label = resolve_label(user, label)
    _check_period(data.event_start, data.event_end, "event_end")
    if data.event_type not in stix.EVENT_TYPES:
        raise ServiceError(gettext("unknown kind of event"), "event_type")
    if data.confidence is not None and not 0 <= data.confidence <= 100:
        raise ServiceError(gettext("confidence is a number from 0 to 100"), "confidence")
    if data.site_ref and not site_choices(user, only_ids=[data.site_ref]):
        # Missing and invisible are the same answer.
        raise ServiceError(gettext("choose one of the sites listed"), "site")
    if data.site_ref and not _site_dominates(user, data.site_ref, label):
        # A stored form never points past its own label: every reader of the event must be able to see the site.
        # The author sees the site, so saying so tells them nothing new.
        raise ServiceError(gettext("this site's label is narrower than the event's: choose a label that only those "
                                   "who may see the site may see (or no site)"), "label")
    return _store_with_photo(user, label, photo, lambda evidence: stix.strategic_event(data, evidence, timezone.now()),
                             "strategic event form")


def _site_dominates(user: User, site_id: str, label: Label) -> bool:
    """Whether the (visible) site's label dominates ``label``: everyone who may see the event may see the site."""
    from kizuna.core.access import label_dominates, label_of

    site = (queries.visible_objects(subject_for(user), types=["location"]).filter(stix_id=site_id)
            .select_related("label").first())
    return site is not None and label_dominates(label_of(site.label), label)


def site_choices(user: User, only_ids: list[str] | None = None) -> list[tuple[str, str]]:
    """(STIX id, name) of the strategic sites the user may see, for the event form."""
    qs = queries.visible_objects(subject_for(user), types=["location"]).filter(data__contains=stix.SITE_EXTENSION_ID)
    if only_ids is not None:
        qs = qs.filter(stix_id__in=only_ids)
    return [(sid, name or sid) for sid, name in qs.order_by("name", "stix_id").values_list("stix_id", "name")[:1000]]
