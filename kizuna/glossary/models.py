"""The office's glossary: labelled terms in the four languages of the UI (en, fr, ja, ko), with their variants
(abbreviations, other spellings, synonyms), so that a search in one language also finds records written in another
(issue 14, ``kizuna.glossary.expand``). Coordinators edit it; a starting set ships with the node (data/terms.json)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kizuna.core.focus import FocusArea
from kizuna.core.models import Labelled

LANGUAGES = ("en", "fr", "ja", "ko")
GENERAL = "general"
# The office's focus areas (shared with reports and consultations), and the vocabulary of the liaison office itself.
AREA_CHOICES: list[tuple[str, Any]] = [(GENERAL, _("Liaison office")), *FocusArea.choices]
AREAS = frozenset(value for value, _name in AREA_CHOICES)


class Term(Labelled):
    """One term of the glossary. ``Labelled`` gives the label, the originating organisation and ``created_at`` /
    ``updated_at``. ``variants`` maps a language code to other forms of the term in that language
    (``{"en": ["STS", "ship to ship transfer"]}``). ``search_text`` is every form, normalised
    (``kizuna.glossary.text.normalise``) and one per line: what the list's search box filters on, the same on SQLite
    and PostgreSQL (a JSON column is stored with escaped non-ASCII text on SQLite)."""

    en = models.CharField(max_length=200)
    fr = models.CharField(max_length=200, blank=True)
    ja = models.CharField(max_length=200, blank=True)
    ko = models.CharField(max_length=200, blank=True)
    variants = models.JSONField(default=dict, blank=True)
    area = models.CharField(max_length=20, choices=AREA_CHOICES, default=GENERAL)
    note = models.TextField(blank=True)
    search_text = models.TextField(blank=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["label", "created_at", "id"], name="term_label_list"),
            # The list newest first, each row's label tested as it is read (kizuna.core.access decides in SQL).
            models.Index(fields=["created_at", "id"], name="term_recent"),
            models.Index(fields=["area", "created_at", "id"], name="term_area"),
        ]

    def __str__(self) -> str:
        return self.en

    def forms(self) -> list[str]:
        """Every form of the term: the four languages in order, then the variants of each, blanks left out."""
        return forms_of([getattr(self, code) for code in LANGUAGES], self.variants)

    def variants_of(self, code: str) -> list[str]:
        variants = self.variants if isinstance(self.variants, dict) else {}
        return [v for v in variants.get(code, []) if isinstance(v, str)]


def forms_of(names: list[str], variants: Any) -> list[str]:
    """``Term.forms`` from its columns: ``names`` in the order of ``LANGUAGES``, then the variants of each
    language, blanks left out (for reads of a few columns, ``values_list``)."""
    found = [name for name in names if name]
    by_language = variants if isinstance(variants, dict) else {}
    for code in LANGUAGES:
        found += [v for v in by_language.get(code, []) if isinstance(v, str) and v]
    return found
