"""The starting set of the glossary shipped with the node (``data/terms.json``): at least 200 terms of the office's
areas in English, French, Japanese and Korean, under the label NATO UNCLASSIFIED REL TO NATO, IP4 (TLP:CLEAR, for
everyone in the office). Loaded by ``kizuna glossary load --user NAME`` and by ``kizuna demo``."""

from __future__ import annotations

import json
from pathlib import Path

from kizuna.glossary.services import TermInput
from kizuna.labels import Label

SHIPPED = Path(__file__).resolve().parent / "data" / "terms.json"
LABEL = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["IP4", "NATO"]}, "CLEAR", [])


def read_terms(path: Path = SHIPPED, label: Label = LABEL) -> list[TermInput]:
    """The entries of a terms file: ``{"terms": [{"en", "fr", "ja", "ko", "area", "variants"?, "note"?}, ...]}``."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return [TermInput(en=t["en"], fr=t.get("fr", ""), ja=t.get("ja", ""), ko=t.get("ko", ""),
                      variants=t.get("variants", {}), area=t["area"], note=t.get("note", ""), label=label)
            for t in document["terms"]]
