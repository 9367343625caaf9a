"""Fixtures of the operations tests: a signed-in browser client, and a node under test that keeps its keys and
attachments in a data directory of its own (backups)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def signed_in(client: Client, jpn_user: Any) -> Client:
    client.force_login(jpn_user)
    return client


@pytest.fixture
def source_dir(settings: Any, tmp_path: Path) -> Path:
    data = tmp_path / "source"
    data.mkdir()
    (data / "secret_key").write_text("a secret key of the node under test")
    settings.DATA_DIR = data
    settings.MEDIA_ROOT = data / "attachments"
    return data
