"""docs/adding-a-type.md quotes the worked example (``kizuna/practices`` and its tests): every quoted Python block
must stand, line for line, in the real files, so the guide cannot drift from the code the suite exercises."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DOC = ROOT / "docs" / "adding-a-type.md"
SOURCES = [ROOT / "kizuna" / "settings.py", *sorted((ROOT / "kizuna" / "practices").rglob("*.py")),
           *sorted((ROOT / "tests").rglob("*.py")),
           *sorted((ROOT / "kizuna" / "practices").rglob("*.html"))]


def _normalised(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and line.strip() != "..."]


def _blocks() -> list[str]:
    return re.findall(r"```(?:python|html)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_guide_quotes_code() -> None:
    assert len(_blocks()) >= 5


def test_every_quoted_line_stands_in_the_real_files() -> None:
    corpus = {line for path in SOURCES for line in _normalised(path.read_text(encoding="utf-8"))}
    missing = [line for block in _blocks() for line in _normalised(block)
               if not line.startswith("#") and line not in corpus]
    assert missing == []
