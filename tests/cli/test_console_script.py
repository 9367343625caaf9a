"""The real ``kizuna`` console script: a refusal is one line on stderr, a non-zero exit and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

KIZUNA = Path(sys.executable).with_name("kizuna")


@pytest.fixture(scope="module")
def node_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A migrated SQLite node of its own (never the test database, never a shared PostgreSQL one)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["KIZUNA_DATA_DIR"] = str(tmp_path_factory.mktemp("node"))
    subprocess.run([str(KIZUNA), "migrate", "--noinput", "-v", "0"], env=env, check=True, timeout=120)
    return env


def _kizuna(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KIZUNA), *args], env=env, capture_output=True, text=True, timeout=60)


def test_user_add_with_an_unknown_nation_exits_non_zero_with_one_line(node_env: dict[str, str]) -> None:
    result = _kizuna(node_env, "user", "add", "bob", "--nation", "XXX", "--org", "Ministry of Defense",
                     "--password", "a-long-enough-password")
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        "kizuna user: error: unknown nation 'XXX'; use an ISO 3166-1 alpha-3 code such as JPN"
    ]
    assert "Traceback" not in result.stderr + result.stdout


def test_a_missing_option_is_one_line_too(node_env: dict[str, str]) -> None:
    result = _kizuna(node_env, "user", "add", "bob", "--nation", "JPN")
    assert result.returncode != 0
    assert result.stderr.splitlines() == ["kizuna user add: error: the following arguments are required: --org"]


def test_token_create_prints_only_the_token_on_its_last_line(node_env: dict[str, str]) -> None:
    added = _kizuna(node_env, "user", "add", "kenji", "--nation", "JPN", "--org", "JPN-NISC",
                    "--clearance", "NATO:UNCLASSIFIED", "--password", "a-long-enough-password")
    assert added.returncode == 0, added.stderr
    result = _kizuna(node_env, "token", "create", "kenji")
    assert result.returncode == 0, result.stderr
    last = result.stdout.splitlines()[-1]
    assert last.startswith("kz_") and " " not in last
