"""Every write to best-practice notes, as ``do_*`` functions in a transaction; audit entries, versions and the STIX
form are written here and only here.

The label rules for writes (DESIGN.md, rule 6): a subject cannot create or relabel a note into a label it could not
itself see (``resolve_label``); a note is changed only by its originating organisation; after each write the note is
re-read through ``recheck_visible`` and, if the writer could no longer see it, everything rolls back. Every write
also stores the note's STIX form as a new version in the threat store (``do_publish``), in the same transaction, so
that TAXII serves it to exactly those the label allows and sync carries it to peers. A note received from a peer is
a read-only copy, changed only by new versions from its originator (``do_receive``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from kizuna.core import audit, registry
from kizuna.core.access import intern_label, label_of, recheck_visible
from kizuna.core.errors import ServiceError
from kizuna.core.versions import snapshot
from kizuna.directory.authoring import require_contributor, resolve_label
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label, Subject
from kizuna.practices import stix
from kizuna.practices.models import Practice
from kizuna.stix.timestamps import strictly_later
from kizuna.threats.models import StixObject
from kizuna.threats.store import candidate, current_versions, received_current, write_batch
from kizuna.threats.watch.services import organisation_identity_id

log = logging.getLogger("kizuna.practices")


@dataclass
class PracticeInput:
    title: str
    label: Label
    body: str = ""


def _check_title(title: str) -> str:
    if not title or not title.strip():
        raise ServiceError(gettext("a title is required"), "title")
    if len(title) > stix.MAX_TITLE:
        raise ServiceError(gettext("the title is longer than %(max)d characters") % {"max": stix.MAX_TITLE}, "title")
    return title.strip()


def _data(practice: Practice) -> dict[str, Any]:
    """What a version keeps of the note."""
    return {"title": practice.title, "body": practice.body, "label": label_of(practice.label).as_api()}


def may_edit(user: User, practice: Practice) -> bool:
    """The originating organisation may change a note, on this node only (a received copy is read-only)."""
    return (user.can_contribute and not practice.stix_id and user.organisation_id is not None
            and user.organisation_id == practice.originator_id)


def do_publish(practice: Practice, subject: Subject) -> None:
    """Store the note's current state as a new version of its STIX form (in the caller's transaction). ``subject``
    is the writer's: the store refuses a label the writer could not see, and the refusal rolls the write back."""
    if practice.stix_id:
        return  # a copy received from a peer: only its originating node issues versions
    obj = stix.to_stix(practice, organisation_identity_id(practice.originator))
    with transaction.atomic():
        current = current_versions(obj["id"], practice.originator_id).values_list("modified", flat=True).first()
        if current is not None:  # two writes within a millisecond: each version is later than the one before
            obj["modified"] = strictly_later(obj["modified"], current)
        result = write_batch([candidate(0, obj, label_of(practice.label))], subject=subject,
                             originator_id=practice.originator_id)
        if result.rejected:
            raise ServiceError(gettext("the note could not be stored for sharing: %(reason)s") % {
                "reason": result.rejected[0][2]})


def do_create_practice(author: User, data: PracticeInput, address: str = "") -> Practice:
    require_contributor(author)
    title = _check_title(data.title)
    subject = subject_for(author)
    with transaction.atomic():
        record = intern_label(resolve_label(author, data.label))
        assert author.organisation is not None  # require_contributor
        practice = Practice.objects.create(title=title, body=data.body, label=record,
                                           originator=author.organisation, author=author)
        recheck_visible(practice, subject)
        do_publish(practice, subject)
        snapshot(practice, _data(practice), author, "created")
        audit.record(author.username, "create", "practice", [practice.pk], record.pk, address)
    return practice


def do_update_practice(author: User, practice: Practice, *, title: str | None = None, body: str | None = None,
                       label: Label | None = None, address: str = "") -> Practice:
    """Change some fields of a note the author can see (the caller fetched it through the enforcement point)."""
    if practice.stix_id:
        raise ServiceError(gettext("this note was received from another node; only its originating node may "
                                   "change it"))
    if not may_edit(author, practice):
        raise ServiceError(gettext("only the originating organisation may change this note"))
    subject = subject_for(author)
    with transaction.atomic():
        practice = Practice.objects.select_for_update().select_related("label", "originator").get(pk=practice.pk)
        if title is not None:
            practice.title = _check_title(title)
        if body is not None:
            practice.body = body
        if label is not None:
            practice.label = intern_label(resolve_label(author, label))
        practice.version += 1
        practice.save()
        recheck_visible(practice, subject)
        do_publish(practice, subject)
        snapshot(practice, _data(practice), author, "changed")
        audit.record(author.username, "update", "practice", [practice.pk], practice.label_id, address)
    return practice


def publish_all() -> tuple[int, list[str]]:
    """Backfill: store the STIX form of every local note that has none yet. Idempotent. Returns the number published
    and one line per note that could not be (its author may no longer see its label)."""
    published, failed = 0, []
    for practice in Practice.objects.filter(stix_id__isnull=True).select_related("label", "originator", "author"):
        if StixObject.objects.filter(stix_id=stix.stix_id_of(practice), originator_id=practice.originator_id).exists():
            continue
        try:
            with transaction.atomic():
                do_publish(practice, subject_for(practice.author))
        except ServiceError as exc:
            failed.append(f"practice {practice.pk} ({practice.title[:60]}): {exc.message}")
            continue
        published += 1
    return published, failed


def do_receive(objects: list[dict[str, Any]], peer: registry.Sender) -> None:
    """Inbound handler (registered in ``apps.ready``, called by sync inside the page's transaction): make or update
    the local read-only copy of each received note. Idempotent: keyed by STIX id, and it mirrors the CURRENT stored
    version of each id (its data and label), so a page read again or an older version arriving late change nothing."""
    originator_id = peer.organisation_id
    ids = sorted({o["id"] for o in objects if isinstance(o.get("id"), str)})
    copies = {p.stix_id: p for p in Practice.objects.select_for_update().filter(stix_id__in=ids)}
    touched: list[int] = []
    for stix_id, label_id, obj in received_current(objects, originator_id):
        fields = stix.fields_from_stix(obj)
        if fields is None:
            log.warning("received note %s from peer %s has no usable title", stix_id, peer.name)
            continue
        practice = copies.get(stix_id)
        if practice is None:
            practice = Practice.objects.create(stix_id=stix_id, label_id=label_id, originator_id=originator_id,
                                               author=peer.account, **fields)
        elif practice.originator_id != originator_id:  # never expected: one originator per STIX id
            continue
        elif practice.label_id != label_id or any(getattr(practice, k) != v for k, v in fields.items()):
            for name, value in fields.items():
                setattr(practice, name, value)
            practice.label_id = label_id
            practice.version += 1
            practice.save()
        else:
            continue
        snapshot(practice, _data(practice), peer.account, f"received from {peer.name}")
        touched.append(practice.pk)
    if touched:
        audit.record(f"peer:{peer.name}", "receive", "practice", touched, None, "")
