"""Query expansion across the office's four languages (issue 14): ``expand(subject, query)`` returns the other forms of
every glossary term the subject may see that occurs in the query, so that a search in one language also finds records
written in another ("瀬取りの監視" → "ship-to-ship transfer", "STS", "transbordement", "선박 간 환적", ...).

Labels: the terms are read in one query from the enforcement point (``visible_to``) on every call and the index is
built from those rows only, so a term the subject may not see is never used, and no cache can carry terms from one
subject to another. Matching rules are in ``kizuna.glossary.text``.

Cost (measured on the shared 2-core development machine, 1,000 visible terms of about three forms each: the shipped
set and synthetic ones): SQLite about 7 ms per call for a short query and 11 ms for one of 10,000 characters;
PostgreSQL about 4 ms and 15 ms. Reading the visible rows and building the index dominate a short query; the
one-pass scan a long one. ``tests/glossary/test_expand.py`` asserts under half a second for the long query.
"""

from __future__ import annotations

from kizuna.glossary import queries
from kizuna.glossary.models import Term
from kizuna.glossary.text import Index, longest_matches, normalise
from kizuna.labels import Subject

MAX_EXPANSIONS = 20
MAX_QUERY = 10_000  # characters read of a query; a search box sends far fewer


def expand(subject: Subject, query: str, limit: int = MAX_EXPANSIONS) -> list[str]:
    """The forms, in every language and every variant, of the visible terms found in ``query`` — those not already
    in it — deduplicated, in the order the terms occur in the query, at most ``limit``. A term found inside a longer
    one (``defence`` in ``cyber defence``) is not used."""
    return expansion(subject, query, limit)[0]


def expansion(subject: Subject, query: str, limit: int = MAX_EXPANSIONS) -> tuple[list[str], list[Term]]:
    """``expand``'s forms, and the terms they were taken from (a page that shows the forms notes the terms' labels
    for its banners)."""
    text = normalise(query[:MAX_QUERY])
    if not text:
        return [], []
    # The index is built from the normal forms kept on each row (``search_text``), so nothing is normalised per
    # term per call; only the matched terms are read whole, again from the enforcement point.
    index = Index((pk, forms.split("\n")) for pk, forms in queries.visible_forms(subject))
    order: list[int] = []
    for match in longest_matches(index.find(text)):
        if match.key not in order:
            order.append(match.key)
    terms = queries.terms_by_id(subject, order)
    result: list[str] = []
    used: list[Term] = []
    seen: set[str] = set()
    for pk in order:
        term = terms.get(pk)
        if term is None:  # deleted or relabelled between the two reads
            continue
        for form in term.forms():
            key = normalise(form)
            if key in seen or key in text:
                continue
            seen.add(key)
            result.append(form)
            if term not in used:
                used.append(term)
            if len(result) >= limit:
                return result, used
    return result, used
