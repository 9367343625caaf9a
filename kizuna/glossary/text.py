"""Pure text matching for the glossary (no Django): the normal form of a term and of a query, and finding which terms
occur in a query. Used by ``expansion.expand`` and by the services (``search_text``).

Normal form: NFKC (full-width Latin and half-width kana fold to their usual forms), case folded, Latin accents removed
(``cyberdéfense`` finds ``cyberdefense``; only U+0300–U+036F are dropped, so Japanese voiced marks stay), typographic
apostrophes and hyphens read as their plain forms, hyphens as spaces (``ship-to-ship`` = ``ship to ship``), and
whitespace next to a CJK character removed (Japanese writes no spaces and Korean spacing varies:
``사이버방어`` = ``사이버 방어``, ``サイバー 防衛`` = ``サイバー防衛``).

Matching: a term's form occurs in the query when it is a substring of the normal query and, at each end that is a
Latin letter or digit, the neighbouring character of the query is not one (``AI`` is not found in ``maintain``; a CJK
form has no word boundaries, so 瀬取り is found in 瀬取りの監視 and 사이버 방어 in 사이버 방어를). The scan is one pass over the
query with a dictionary keyed by each form's first two characters, so its cost grows with the query's length, not
with the number of terms times the length.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_SPACES = re.compile(r"\s+")
# Typographic apostrophes read as "'"; every dash and the underscore as a space.
_PUNCT = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2010": " ", "\u2011": " ", "\u2012": " ",
                        "\u2013": " ", "\u2014": " ", "-": " ", "_": " "})
_ACCENTS = re.compile("[\u0300-\u036f]")
# Control characters read as spaces (PostgreSQL refuses a NUL in a query's text; a tab or newline separates words).
_CONTROLS = re.compile("[\x00-\x1f\x7f]")


def is_cjk(char: str) -> bool:
    """Han, kana, Hangul and CJK punctuation: scripts written without spaces between words (or, for Korean, with
    particles attached), so no word boundary applies next to them."""
    return ord(char) >= 0x2E80


def is_word(char: str) -> bool:
    """A letter or digit of a spaced script: a Latin form must not end next to one."""
    return char.isalnum() and not is_cjk(char)


def _drop_spaces_near_cjk(text: str) -> str:
    parts = _SPACES.split(text)
    out = parts[0]
    for part in parts[1:]:
        if not part:
            continue
        if out and (is_cjk(out[-1]) or is_cjk(part[0])):
            out += part
        else:
            out += " " + part if out else part
    return out


def normalise(text: str) -> str:
    """The normal form of a term or query (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", _CONTROLS.sub(" ", text)).casefold().translate(_PUNCT)
    text = unicodedata.normalize("NFC", _ACCENTS.sub("", unicodedata.normalize("NFD", text)))
    return _drop_spaces_near_cjk(text.strip())


def fold(text: str) -> str:
    """``normalise`` keeping accents: how a form is shown back to a reader (``cyberdéfense``) when its normal form
    (``cyberdefense``) is what was matched. Removing the accents of ``fold(text)`` gives ``normalise(text)``."""
    text = unicodedata.normalize("NFKC", _CONTROLS.sub(" ", text)).casefold().translate(_PUNCT)
    return _drop_spaces_near_cjk(unicodedata.normalize("NFC", text).strip())


def strip_accents(text: str) -> str:
    """The Latin accents (U+0300–U+036F after decomposition) removed, as ``normalise`` does."""
    return unicodedata.normalize("NFC", _ACCENTS.sub("", unicodedata.normalize("NFD", text)))


@dataclass(frozen=True)
class Found:
    """A form of term ``key`` found at ``start:end`` of the normal query."""

    key: int
    start: int
    end: int


class Index:
    """The normal forms (``normalise``) of a set of terms, ready to be found in queries: built once per call of
    ``expand`` from the terms the subject may see (so it never holds a term the subject may not see)."""

    def __init__(self, terms: Iterable[tuple[int, Iterable[str]]]) -> None:
        self._by_prefix: dict[str, list[tuple[str, int]]] = {}
        for key, forms in terms:
            for form in set(forms):  # already normal (``normalise``): the caller keeps them so
                if form:
                    self._by_prefix.setdefault(form[:2], []).append((form, key))
        for entries in self._by_prefix.values():
            entries.sort(key=lambda e: -len(e[0]))

    def find(self, query: str) -> list[Found]:
        """Every occurrence of a form in the normal ``query``, longest first at each position."""
        found: list[Found] = []
        n = len(query)
        for i in range(n):
            if i and is_word(query[i - 1]) and is_word(query[i]):
                continue  # a Latin form starts only at a word's start; CJK forms start anywhere
            for prefix in (query[i:i + 2], query[i]):
                for form, key in self._by_prefix.get(prefix, ()):
                    if len(form) < len(prefix) or not query.startswith(form, i):
                        continue
                    end = i + len(form)
                    if end < n and is_word(query[end]) and is_word(form[-1]):
                        continue
                    found.append(Found(key, i, end))
                if len(prefix) == 1:
                    break
        return found


def longest_matches(found: list[Found]) -> list[Found]:
    """Drop a match that lies inside a longer one (``defence`` inside ``cyber defence``), in position order. Two terms
    that share a form are both kept. One sweep by position: O(k log k) in the number of matches."""
    kept: list[Found] = []
    best_start, best_end = -1, -1  # the span reaching furthest so far (the earliest such)
    for match in sorted(set(found), key=lambda f: (f.start, -f.end, f.key)):
        inside = best_end > match.end or (best_end == match.end and best_start < match.start)
        if not inside:
            kept.append(match)
        if match.end > best_end:
            best_start, best_end = match.start, match.end
    return kept
