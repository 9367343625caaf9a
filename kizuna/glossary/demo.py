"""The glossary part of ``kizuna demo``: the shipped starting set (``data/terms.json``), loaded by the coordinator
``sophie`` (NATO International Staff), and one term under a narrower label, to show that expansion uses only the terms
a reader may see. Idempotent: a term already there (English term and area) is left as it is."""

from __future__ import annotations

from typing import Any

from kizuna.glossary.data import read_terms
from kizuna.glossary.services import TermInput, do_load_terms
from kizuna.labels import Label

# Japan's and Korea's coordinators and NATO share it; Australia and New Zealand do not see it (and so their searches
# are not expanded with it).
NARROW = TermInput(en="Ship-to-ship transfer monitoring cell", fr="cellule de surveillance des transbordements",
                   ja="瀬取り監視班", ko="선박 간 환적 감시반", area="maritime",
                   note="Fictional: a demo term under a narrower label.",
                   label=Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["NATO", "JPN", "KOR"]}, "GREEN", []))


def load_glossary_demo(users: dict[str, Any]) -> int:
    """Load the terms that are not there yet; returns how many were created."""
    return do_load_terms(users["sophie"], [*read_terms(), NARROW]).created
