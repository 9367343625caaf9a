"""Fixtures of the backup tests: the node under test keeps its keys and attachments in a data directory of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def source_dir(settings: Any, tmp_path: Path) -> Path:
    data = tmp_path / "source"
    data.mkdir()
    (data / "secret_key").write_text("a secret key of the node under test")
    settings.DATA_DIR = data
    settings.MEDIA_ROOT = data / "attachments"
    return data
