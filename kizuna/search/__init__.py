"""Label-safe search over every registered record type and the threat objects (issue 14): ``find``
(kizuna.search.query) answers one query for one subject, threat objects found by the threat search among the hits;
``kizuna.search.index`` keeps the entries in step with the records. See docs/search.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kizuna.search.query import Results


def find(subject: Any, query: str, **options: Any) -> Results:
    """``kizuna.search.query.find``. Imported on call: this package is imported while Django loads its apps."""
    from kizuna.search.query import find as _find

    return _find(subject, query, **options)
