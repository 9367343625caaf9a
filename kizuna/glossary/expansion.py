"""Query expansion across the office's four languages (issue 14): ``expand(subject, query)`` returns the other forms of
every glossary term the subject may see that occurs in the query, so that a search in one language also finds records
written in another ("瀬取りの監視" → "ship-to-ship transfer", "STS", "transbordement", "선박 간 환적", ...).

Labels: the terms are read in one query from the enforcement point (``visible_to``) on every call and the index is
built from those rows only, so a term the subject may not see is never used, and no cache can carry terms from one
subject to another. Matching rules are in ``kizuna.glossary.text``.

Cost (measured on this machine's shared cores, SQLite, 1,000 terms with two variants each, all visible): about
9 ms per call for a short query (the query of the visible rows and building the index dominate), about 15 ms for a
query of 10,000 characters; ``tests/glossary/test_expand.py`` asserts well under a second for the long query.
"""

from __future__ import annotations

from kizuna.glossary import queries
from kizuna.glossary.models import LANGUAGES
from kizuna.glossary.text import Index, longest_matches, normalise
from kizuna.labels import Subject

MAX_EXPANSIONS = 20
MAX_QUERY = 10_000  # characters read of a query; a search box sends far fewer


def _forms(row: tuple[int, str, str, str, str, object]) -> list[str]:
    _pk, *names, variants = row
    forms = [n for n in names if n]
    if isinstance(variants, dict):
        for code in LANGUAGES:
            values = variants.get(code, [])
            if isinstance(values, list):
                forms += [v for v in values if isinstance(v, str) and v]
    return forms


def expand(subject: Subject, query: str, limit: int = MAX_EXPANSIONS) -> list[str]:
    """The forms, in every language and every variant, of the visible terms found in ``query`` — those not already
    in it — deduplicated, in the order the terms occur in the query, at most ``limit``. A term found inside a longer
    one (``defence`` in ``cyber defence``) is not used."""
    text = normalise(query[:MAX_QUERY])
    if not text:
        return []
    rows = queries.visible_forms(subject)
    forms = {row[0]: _forms(row) for row in rows}
    found = longest_matches(Index((pk, f) for pk, f in forms.items()).find(text))
    result: list[str] = []
    seen: set[str] = set()
    used: set[int] = set()
    for match in found:
        if match.key in used:
            continue
        used.add(match.key)
        for form in forms[match.key]:
            key = normalise(form)
            if key in seen or key in text:
                continue
            seen.add(key)
            result.append(form)
            if len(result) >= limit:
                return result
    return result
