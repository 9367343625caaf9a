"""The node's identity and key files: created once on first use, private keys only in files with mode 0600 inside
a 0700 directory, rotation retiring the old key and deleting its private file, and the ``kizuna node`` command."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from kizuna.core.errors import ServiceError
from kizuna.core.models import AuditEntry
from kizuna.federation import keys, services
from kizuna.federation.models import NodeIdentity, NodeKey
from tests.cli.helpers import kizuna, kizuna_refused

pytestmark = pytest.mark.django_db


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_first_use_creates_identity_with_stix_id_and_one_active_key(settings: Any) -> None:
    settings.KIZUNA_NODE_NAME = "Tokyo hub"
    node = services.node_identity()
    assert re.fullmatch(r"identity--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", node.stix_id)
    assert node.name == "Tokyo hub"
    assert node.serves == "NATO"
    assert list(NodeKey.objects.values_list("retired_at", flat=True)) == [None]


def test_identity_is_created_once_and_keeps_its_id() -> None:
    first = services.node_identity()
    again = services.node_identity()
    assert again.stix_id == first.stix_id
    assert NodeIdentity.objects.count() == 1
    assert NodeKey.objects.count() == 1


def test_nation_comes_from_setting_and_name_follows_settings(settings: Any) -> None:
    first = services.node_identity()
    settings.KIZUNA_NODE_NATION = "jpn"
    settings.KIZUNA_NODE_NAME = "Japanese node"
    node = services.node_identity()
    assert (node.stix_id, node.nation, node.serves, node.name) == (first.stix_id, "JPN", "JPN", "Japanese node")


def test_malformed_nation_setting_is_refused(settings: Any) -> None:
    settings.KIZUNA_NODE_NATION = "J P N"
    with pytest.raises(ServiceError, match="KIZUNA_NODE_NATION"):
        services.node_identity()


def test_a_second_identity_row_is_refused_by_the_database() -> None:
    from django.db import IntegrityError, transaction

    services.node_identity()
    with pytest.raises(IntegrityError), transaction.atomic():
        NodeIdentity.objects.create(stix_id="identity--00000000-0000-4000-8000-000000000000", name="x")


def test_private_key_file_is_0600_in_a_0700_directory_even_with_a_permissive_umask(_own_data_dir: Path) -> None:
    old = os.umask(0)
    try:
        key = services.active_key()
    finally:
        os.umask(old)
    directory = _own_data_dir / "keys"
    assert mode(directory) == 0o700
    assert mode(directory / f"{key.key_id}.pem") == 0o600
    assert (directory / f"{key.key_id}.pem").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_private_key_is_not_in_the_database() -> None:
    key = services.active_key()
    private_pem = keys.private_path(key.key_id).read_text()
    body = "".join(private_pem.splitlines()[1:-1])
    assert body not in str(list(NodeKey.objects.values()))
    assert len(keys.public_from_b64(key.public_key)) == 32


def test_key_id_is_the_first_16_hex_of_sha256_of_the_raw_public_key() -> None:
    import hashlib

    key = services.active_key()
    assert key.key_id == hashlib.sha256(keys.public_from_b64(key.public_key)).hexdigest()[:16]


def test_write_private_never_overwrites_an_existing_file() -> None:
    private, _kid = keys.generate()
    keys.write_private(private)
    with pytest.raises(FileExistsError):
        keys.write_private(private)


def test_key_directory_open_to_others_is_refused(_own_data_dir: Path) -> None:
    (_own_data_dir / "keys").mkdir(mode=0o755)
    os.chmod(_own_data_dir / "keys", 0o755)  # noqa: S103 (the loose mode is what this test refuses)
    with pytest.raises(ServiceError, match="must be 0700"):
        services.signer()


def test_private_key_file_readable_by_others_is_refused() -> None:
    key = services.active_key()
    os.chmod(keys.private_path(key.key_id), 0o644)
    with pytest.raises(ServiceError, match="must be 0600"):
        services.signer()


def test_missing_private_key_file_says_how_to_recover() -> None:
    key = services.active_key()
    keys.private_path(key.key_id).unlink()
    with pytest.raises(ServiceError, match="rotate-key"):
        services.signer()


def test_private_key_file_of_another_key_is_refused() -> None:
    key = services.active_key()
    other, _ = keys.generate()
    path = keys.private_path(key.key_id)
    path.unlink()
    from cryptography.hazmat.primitives import serialization

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    os.close(fd)
    with pytest.raises(ServiceError, match="does not hold"):
        services.signer()


def test_rotation_retires_old_key_keeps_its_public_key_and_deletes_its_private_file() -> None:
    old = services.active_key()
    rotation = services.rotate_key("cli:test")
    assert rotation.retired == old.key_id
    old.refresh_from_db()
    assert old.retired_at is not None
    assert services.active_key().key_id == rotation.active != old.key_id
    assert set(services.public_keys()) == {old.key_id, rotation.active}
    assert not keys.private_path(old.key_id).exists()
    assert mode(keys.private_path(rotation.active)) == 0o600


def test_rotation_is_in_the_audit_log() -> None:
    rotation = services.rotate_key("cli:operator")
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert (entry.actor, entry.action, entry.target_ids) == ("cli:operator", "node.rotate-key", rotation.active)


def test_database_allows_only_one_active_key() -> None:
    from django.db import IntegrityError, transaction

    node = services.node_identity()
    with pytest.raises(IntegrityError), transaction.atomic():
        NodeKey.objects.create(node=node, key_id="0" * 16, public_key="x")


def test_cli_node_show_prints_identity_and_active_key() -> None:
    run = kizuna("node", "show")
    node, key = NodeIdentity.objects.get(), NodeKey.objects.get()
    assert f"id:         {node.stix_id}" in run.lines
    assert "serves:     NATO" in run.lines
    assert f"key id:     {key.key_id}" in run.lines
    assert key.public_key in run.out
    assert "RETIRED KEY" not in run.out


def test_cli_rotate_key_then_show_lists_the_retired_key() -> None:
    first = services.active_key()
    rotated = kizuna("node", "rotate-key")
    assert rotated.out.strip() == f"retired key {first.key_id}; active key {services.active_key().key_id}"
    shown = kizuna("node", "show")
    assert "RETIRED KEY" in shown.out
    assert any(line.startswith(first.key_id) and first.public_key in line for line in shown.lines)


def test_cli_error_is_one_line(settings: Any) -> None:
    settings.KIZUNA_NODE_NATION = "not a code"
    message, _run = kizuna_refused("node", "show")
    assert "\n" not in message
    assert "KIZUNA_NODE_NATION" in message
