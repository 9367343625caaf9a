"""Every write to the glossary, as ``do_*`` functions in a transaction; versions and audit entries are written here and
only here.

Who writes: coordinators and administrators (the glossary is the office's shared vocabulary; contributors and viewers
read it). The label rules of DESIGN.md rule 6 hold as for every labelled record: a term is created or relabelled only
into a label its writer could see (``resolve_label``); a term is changed or deleted only when the writer sees it (the
caller fetched it through the enforcement point, and the row is re-read here); after each write the term is re-read
through ``recheck_visible`` and everything rolls back if the writer could no longer see it.

The glossary is not federated: each node loads the shipped starting set (``kizuna glossary load``) and its coordinators
keep it; a term has no STIX form (docs/glossary.md says why).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from kizuna.core import audit
from kizuna.core.access import intern_label, label_of, recheck_visible
from kizuna.core.errors import ServiceError
from kizuna.core.versions import snapshot
from kizuna.directory.authoring import resolve_label
from kizuna.directory.models import Role, User
from kizuna.directory.subjects import subject_for
from kizuna.glossary.models import AREAS, GENERAL, LANGUAGES, Term
from kizuna.glossary.text import normalise
from kizuna.labels import Label

MAX_TEXT = 200
MAX_VARIANTS = 20  # per language
MAX_NOTE = 4000


@dataclass
class TermInput:
    en: str
    label: Label
    fr: str = ""
    ja: str = ""
    ko: str = ""
    variants: dict[str, list[str]] = field(default_factory=dict)
    area: str = GENERAL
    note: str = ""


def may_edit_glossary(user: User) -> bool:
    """Coordinators and administrators with an organisation keep the glossary."""
    return (user.is_active and user.role in (Role.COORDINATOR, Role.ADMIN) and user.organisation_id is not None)


def require_editor(user: User) -> None:
    if not may_edit_glossary(user):
        raise ServiceError(gettext("only coordinators and administrators may change the glossary"))


def _text(value: str, name: str, required: bool = False) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        raise ServiceError(gettext("the English term is required"), name)
    if len(value) > MAX_TEXT:
        raise ServiceError(gettext("a term is at most %(max)d characters") % {"max": MAX_TEXT}, name)
    return value


def clean_variants(variants: Any) -> dict[str, list[str]]:
    """``{"en": [...], "ja": [...]}`` with known languages only, each variant trimmed, blanks and repeats dropped."""
    if variants is None:
        return {}
    if not isinstance(variants, dict) or not all(isinstance(v, list) for v in variants.values()):
        raise ServiceError(gettext('give variants as {"language": ["variant", ...]}'), "variants")
    unknown = sorted(set(variants) - set(LANGUAGES))
    if unknown:
        raise ServiceError(gettext("unknown language(s) in variants: %(codes)s") % {"codes": ", ".join(unknown)},
                           "variants")
    cleaned: dict[str, list[str]] = {}
    for code in LANGUAGES:
        seen: list[str] = []
        for value in variants.get(code, []):
            if not isinstance(value, str):
                raise ServiceError(gettext('give variants as {"language": ["variant", ...]}'), "variants")
            text = _text(value, "variants")
            if text and text not in seen:
                seen.append(text)
        if len(seen) > MAX_VARIANTS:
            raise ServiceError(gettext("at most %(max)d variants per language") % {"max": MAX_VARIANTS}, "variants")
        if seen:
            cleaned[code] = seen
    return cleaned


def _area(area: str) -> str:
    if area not in AREAS:
        raise ServiceError(gettext("unknown area %(area)s") % {"area": area}, "area")
    return area


def _note(note: str) -> str:
    if len(note or "") > MAX_NOTE:
        raise ServiceError(gettext("the note is longer than %(max)d characters") % {"max": MAX_NOTE}, "note")
    return (note or "").strip()


def search_text(term: Term) -> str:
    return "\n".join(dict.fromkeys(normalise(f) for f in term.forms()))


def _data(term: Term) -> dict[str, Any]:
    """What a version keeps of the term."""
    return {"en": term.en, "fr": term.fr, "ja": term.ja, "ko": term.ko, "variants": term.variants,
            "area": term.area, "note": term.note, "label": label_of(term.label).as_api()}


def _fill(term: Term, data: TermInput) -> None:
    term.en = _text(data.en, "en", required=True)
    term.fr, term.ja, term.ko = _text(data.fr, "fr"), _text(data.ja, "ja"), _text(data.ko, "ko")
    term.variants = clean_variants(data.variants)
    term.area = _area(data.area)
    term.note = _note(data.note)
    term.search_text = search_text(term)


def do_create_term(author: User, data: TermInput, address: str = "") -> Term:
    require_editor(author)
    subject = subject_for(author)
    with transaction.atomic():
        record = intern_label(resolve_label(author, data.label))
        assert author.organisation is not None  # require_editor
        term = Term(label=record, originator=author.organisation, created_by=author, updated_by=author)
        _fill(term, data)
        term.save()
        recheck_visible(term, subject)
        snapshot(term, _data(term), author, "created")
        audit.record(author.username, "create", "glossary-term", [term.pk], record.pk, address)
    return term


def do_update_term(author: User, term: Term, *, en: str | None = None, fr: str | None = None,
                   ja: str | None = None, ko: str | None = None, variants: dict[str, list[str]] | None = None,
                   area: str | None = None, note: str | None = None, label: Label | None = None,
                   address: str = "") -> Term:
    """Change some fields of a term the author can see (the caller fetched it through the enforcement point)."""
    require_editor(author)
    subject = subject_for(author)
    with transaction.atomic():
        term = Term.objects.select_for_update().select_related("label").get(pk=term.pk)
        recheck_visible(term, subject)  # as it is now, not as the caller read it
        current = TermInput(en=term.en, fr=term.fr, ja=term.ja, ko=term.ko, variants=term.variants, area=term.area,
                            note=term.note, label=label_of(term.label))
        changes = {"en": en, "fr": fr, "ja": ja, "ko": ko, "variants": variants, "area": area, "note": note}
        for name, value in changes.items():
            if value is not None:
                setattr(current, name, value)
        _fill(term, current)
        if label is not None:
            term.label = intern_label(resolve_label(author, label))
        term.updated_by = author
        term.version += 1
        term.save()
        recheck_visible(term, subject)
        snapshot(term, _data(term), author, "changed")
        audit.record(author.username, "update", "glossary-term", [term.pk], term.label_id, address)
    return term


def do_delete_term(author: User, term: Term, address: str = "") -> None:
    """Delete a term the author can see. Its versions stay, under the labels they had, as the record of it."""
    require_editor(author)
    subject = subject_for(author)
    with transaction.atomic():
        term = Term.objects.select_for_update().select_related("label").get(pk=term.pk)
        recheck_visible(term, subject)
        snapshot(term, _data(term), author, "deleted")
        audit.record(author.username, "delete", "glossary-term", [term.pk], term.label_id, address)
        term.delete()


@dataclass
class LoadResult:
    created: int = 0
    unchanged: int = 0


def do_load_terms(user: User, entries: list[TermInput], address: str = "") -> LoadResult:
    """Create the entries that are not there yet, in one transaction (the starting set: ``kizuna glossary load`` and
    the demo). Idempotent on (English term, area) among the terms the loading user may see: a term they may not see
    is neither reported nor changed, so loading tells nothing about it; a term already there is left as its
    coordinators keep it."""
    require_editor(user)
    subject = subject_for(user)
    result = LoadResult()
    with transaction.atomic():
        present = {(en.casefold(), area) for en, area in Term.objects.visible_to(subject).values_list("en", "area")}
        created: list[int] = []
        records: dict[str, Any] = {}  # the starting set shares one label: resolve it once
        first_of_label: dict[int, Term] = {}
        for data in entries:
            key = (_text(data.en, "en", required=True).casefold(), data.area)
            if key in present:
                result.unchanged += 1
                continue
            if data.label.key() not in records:
                records[data.label.key()] = intern_label(resolve_label(user, data.label))
            assert user.organisation is not None  # require_editor
            term = Term(label=records[data.label.key()], originator=user.organisation, created_by=user, updated_by=user)
            _fill(term, data)
            term.save()
            snapshot(term, _data(term), user, "created")
            present.add(key)
            created.append(term.pk)
            first_of_label.setdefault(term.label_id, term)
        # One re-read per distinct label (the starting set has one): what the loader wrote, it can still see.
        for term in first_of_label.values():
            recheck_visible(term, subject)
        if created:
            audit.record(user.username, "create", "glossary-term", created, None, address)
        result.created = len(created)
    return result
