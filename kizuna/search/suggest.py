""""Did you mean": a corrected query when a search finds nothing (issue 14).

Where the words come from: only the glossary terms the subject may see, read from the enforcement point in one query
(``kizuna.glossary.queries.visible_term_forms``: ``Term.objects.visible_to(subject)``, the label rule a condition of
that SQL), so a term the subject may not see never shapes a suggestion, and no cache carries words from one subject
to another. Their forms (the four languages and the variants) give the vocabulary: each form whole, and each word of
a form of several words, compared by their normal forms (``kizuna.glossary.text.normalise``) and shown with their
accents.

What is suggested: each word of the query (its normal form) that is not a word of the vocabulary is replaced by the
closest vocabulary word within a small edit distance (Levenshtein: none for words shorter than ``MIN_WORD``
characters, 1 up to 7, 2 from 8; CJK words, denser, 1 from 3 characters); ties go to the shorter distance, then the
alphabetically first word. When that changes nothing, the whole query is compared with the whole forms instead
("cyberdefence" → "cyber defence"). A candidate is offered only when the caller's ``finds`` says that it finds
something for the same subject (``find(..., limit=1)``, the label rule inside): at most ``MAX_TRIES`` such searches.
So the suggestion depends only on terms and records the subject may see: hidden means missing.

Cost bound: at most ``MAX_TERMS_READ`` terms are read (oldest first, by id), at most ``MAX_WORDS`` query words are
corrected, each compared only with vocabulary words whose length is within the allowed distance, by a Levenshtein
that stops as soon as a row exceeds the bound. Measured in docs/performance.md ("Search", "Did you mean").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from kizuna.glossary import queries
from kizuna.glossary.text import fold, is_cjk, normalise, strip_accents
from kizuna.labels import Subject

MAX_TERMS_READ = 5000  # glossary terms read per suggestion (a shipped glossary holds a few hundred)
MAX_WORDS = 10  # query words corrected (the query itself is cut to 200 characters by ``find``)
MAX_WORD = 60  # characters of a word compared; a longer one is left as it is
MAX_TRIES = 2  # searches run to check candidates
MIN_WORD = 4  # a Latin word shorter than this is never corrected (too many near neighbours: "sea" -> "see")
MIN_CJK_WORD = 3
_TOKEN = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)


def bound(word: str) -> int:
    """The largest edit distance at which ``word`` may be corrected (0: never)."""
    if any(is_cjk(c) for c in word):
        return 1 if len(word) >= MIN_CJK_WORD else 0
    if len(word) < MIN_WORD:
        return 0
    return 1 if len(word) < 8 else 2


def distance(a: str, b: str, limit: int) -> int:
    """The Levenshtein distance of ``a`` and ``b`` when it is at most ``limit``, otherwise ``limit + 1`` (the rows
    stop as soon as every cell exceeds the limit)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if a == b:
        return 0
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return min(previous[-1], limit + 1)


class Vocabulary:
    """The forms of some glossary terms, whole and word by word, by normal form (``normalise``), each with what to
    show: a whole form as written, a word lower-cased with its accents (``fold``: ``cyberdéfense``, not
    ``cyberdefense``)."""

    def __init__(self, forms: Iterable[str]) -> None:
        self.forms: dict[str, str] = {}
        self.words: dict[str, str] = {}
        for form in forms:
            shown = fold(form)
            key = strip_accents(shown)
            if not key:
                continue
            self.forms.setdefault(key, " ".join(form.split()))
            keys, shown_words = key.split(" "), shown.split(" ")
            for word, display in zip(keys, shown_words if len(shown_words) == len(keys) else keys, strict=True):
                self.words.setdefault(word, display)
        self._by_length: dict[int, list[str]] = {}
        for word in sorted(self.words.keys() | self.forms.keys()):
            self._by_length.setdefault(len(word), []).append(word)

    def closest(self, word: str, *, whole: bool = False) -> str | None:
        """The form to show of the vocabulary word (or whole form, when ``whole``) closest to the normal ``word``
        within its ``bound``; None when ``word`` is already one, or none is close enough."""
        known = self.forms if whole else self.words
        if word in known or len(word) > MAX_WORD:
            return None
        limit = bound(word)
        if limit == 0:
            return None
        best: tuple[int, str] | None = None
        for length in range(len(word) - limit, len(word) + limit + 1):
            for candidate in self._by_length.get(length, ()):
                if candidate not in known:
                    continue
                cap = best[0] if best else limit
                found = distance(word, candidate, cap)
                if found <= cap and (best is None or (found, candidate) < best):
                    best = (found, candidate)
        return known[best[1]] if best else None


def vocabulary(subject: Subject) -> Vocabulary:
    """The vocabulary of the glossary terms ``subject`` may see (at most ``MAX_TERMS_READ`` of them), read from the
    enforcement point."""
    return Vocabulary(form for forms in queries.visible_term_forms(subject, MAX_TERMS_READ) for form in forms)


def candidates(query: str, words: Vocabulary) -> list[str]:
    """Corrected forms of ``query`` (already cleaned), best first, without duplicates and never the query itself."""
    tokens = query.split()
    changed = False
    out: list[str] = []
    for position, token in enumerate(tokens):
        match = _TOKEN.match(token)
        before, core, after = match.groups() if match else ("", token, "")
        key = normalise(core)
        better = words.closest(key) if position < MAX_WORDS and key else None
        if better is not None:
            changed = True
            out.append(f"{before}{better}{after}")
        else:
            out.append(token)
    found: list[str] = []
    if changed:
        found.append(" ".join(out))
    whole = words.closest(normalise(query.replace('"', " ").replace("*", " ")), whole=True)
    if whole is not None and whole not in found:
        found.append(whole)
    return [c for c in found if normalise(c) != normalise(query)]


def suggestion(subject: Subject, query: str, finds: Callable[[str], bool]) -> str | None:
    """A corrected query for ``subject``, or None: the first candidate (at most ``MAX_TRIES`` checked) for which
    ``finds`` — a search by the same subject — says it finds something."""
    if not query.strip():
        return None
    for candidate in candidates(query, vocabulary(subject))[:MAX_TRIES]:
        if finds(candidate):
            return candidate
    return None
