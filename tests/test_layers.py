"""The enforcement point owns all label SQL: outside ``kizuna/core`` no module names the id set of visible labels or
filters by label id itself (``kizuna.core.access``: ``visible_to``, ``visible_q``, ``get_visible_or_404``,
``recheck_visible``, ``visible_labels``). The ruff rule TID251 bans the import; this reads the files, so a raw
``label_id__in`` or an annotated ``_label__in`` is caught too."""

from __future__ import annotations

import re
from pathlib import Path

KIZUNA = Path(__file__).resolve().parent.parent / "kizuna"
CORE = KIZUNA / "core"
RAW_LABEL_SQL = re.compile(r"label_id__in|visible_label_ids|_label__in")


def label_sql_outside_core(root: Path = KIZUNA) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.is_relative_to(CORE):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if RAW_LABEL_SQL.search(line):
                found.append(f"{path.relative_to(root.parent)}:{number}: {line.strip()}")
    return found


def test_no_module_outside_core_builds_label_sql() -> None:
    assert label_sql_outside_core() == []


def test_the_check_reads_every_module_outside_core() -> None:
    modules = [p for p in KIZUNA.rglob("*.py") if not p.is_relative_to(CORE)]
    assert any(p.name == "queries.py" for p in modules)
    assert all(RAW_LABEL_SQL.search(s) for s in ("qs.filter(label_id__in=ids)", "x._label__in", "visible_label_ids("))
