"""The office's glossary in four languages, and query expansion across them (issue 14; docs/glossary.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kizuna.labels import Subject


def expand(subject: Subject, query: str) -> list[str]:
    """``kizuna.glossary.expansion.expand``: the other-language forms of the visible terms found in ``query``.
    Imported on call, because this package is imported while Django loads its apps, before models may be."""
    from kizuna.glossary.expansion import expand as _expand

    return _expand(subject, query)
