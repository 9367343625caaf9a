"""The enforcement point owns all label SQL: outside ``kizuna/core`` no module names the id set of visible labels or
filters by label id itself (``kizuna.core.access``: ``visible_to``, ``visible_q``, ``get_visible_or_404``,
``recheck_visible``, ``visible_labels``). The ruff rule TID251 bans the import; this reads the files, so a raw
``label_id__in`` or an annotated ``_label__in`` is caught too."""

from __future__ import annotations

import itertools
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


# --- Import layers (import-linter, run by `make lint`, which `make test` runs first) ---------------------------------

PYPROJECT = KIZUNA.parent / "pyproject.toml"


def _lint_tree(tmp_path: Path, *bad_imports: tuple[str, str]) -> tuple[int, str]:
    """Run this project's import contracts over a stand-in package with Kizuna's top-level modules, importing each
    other only downwards as the layers allow, plus ``bad_import`` (importer, imported) when given."""
    import os
    import subprocess
    import sys
    import tomllib

    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = [[name.strip() for name in layer.split("|")] for layer in config["contracts"][0]["layers"]]
    root = tmp_path / "kizuna"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "settings.py").write_text("")
    for upper, lower in itertools.pairwise(layers):
        for name in upper:
            (root / f"{name}.py").write_text("".join(f"import kizuna.{low}\n" for low in lower))
    for name in layers[-1]:
        (root / f"{name}.py").write_text("")
    for importer, imported in bad_imports:
        with (root / f"{importer}.py").open("a") as module:
            module.write(f"import kizuna.{imported}\n")
    lines = ["[importlinter]", "root_package = kizuna"]
    for contract in config["contracts"]:
        lines.append(f"[importlinter:contract:{contract['id']}]")
        for key, value in contract.items():
            if key == "id":
                continue
            if key == "ignore_imports":  # they name modules of the real tree, absent here
                continue
            if isinstance(value, list):
                lines.append(f"{key} =\n" + "\n".join(f"    {v}" for v in value))
            else:
                lines.append(f"{key} = {value}")
    (tmp_path / ".importlinter").write_text("\n".join(lines) + "\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint), "--no-cache", "--config", str(tmp_path / ".importlinter")], cwd=tmp_path,
                          env=env, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr


def test_the_layer_contracts_pass_a_tree_that_keeps_them(tmp_path: Path) -> None:
    status, report = _lint_tree(tmp_path)
    assert status == 0, report


def test_breaking_a_layer_fails_the_contracts(tmp_path: Path) -> None:
    status, report = _lint_tree(tmp_path, ("labels", "core"))  # labels imports nothing of Kizuna
    assert status != 0
    assert "kizuna.labels is not allowed to import kizuna.core" in report


def test_a_cycle_fails_the_contracts(tmp_path: Path) -> None:
    status, report = _lint_tree(tmp_path, ("directory", "web"))  # web already imports directory
    assert status != 0
    assert "No cycles are allowed in kizuna" in report
