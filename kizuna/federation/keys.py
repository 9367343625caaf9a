"""Ed25519 key files: generate a pair, derive its key id, write the private key (PEM, PKCS8) with mode 0600 in a
``keys`` directory with mode 0700, and load it back, refusing a file others could read.

No database here: ``services.py`` records the public halves. Files are named ``<key_id>.pem``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from kizuna.core.errors import ServiceError

DIR_MODE = 0o700
FILE_MODE = 0o600


def keys_dir() -> Path:
    """``DATA_DIR/keys``, created with mode 0700 on first use. An existing directory that others may enter is
    refused: a private key inside it would be one chmod away from being read."""
    path = Path(settings.DATA_DIR) / "keys"
    try:
        os.mkdir(path, DIR_MODE)
        os.chmod(path, DIR_MODE)  # mkdir's mode is filtered by the umask; set it exactly
    except FileExistsError:
        pass
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        raise ServiceError(f"key directory {path} has mode {mode:04o}; it must be 0700")
    return path


def key_id(public_raw: bytes) -> str:
    """The first 16 hex digits of the SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def public_raw(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def public_from_b64(text: str) -> bytes:
    raw = base64.b64decode(text, validate=True)
    Ed25519PublicKey.from_public_bytes(raw)  # raises ValueError unless it is a 32-byte key
    return raw


def private_path(kid: str) -> Path:
    return keys_dir() / f"{kid}.pem"


def generate() -> tuple[Ed25519PrivateKey, str]:
    """A new private key and its key id."""
    private = Ed25519PrivateKey.generate()
    return private, key_id(public_raw(private))


def write_private(private: Ed25519PrivateKey) -> Path:
    """Write the key to ``keys/<key_id>.pem``, created exclusively with mode 0600 (never over an existing file)."""
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = private_path(key_id(public_raw(private)))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # the umask could only narrow it, but say exactly what we mean
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def load_private(kid: str) -> Ed25519PrivateKey:
    """The private key of key ``kid``, checked: the file must exist, be readable by the owner only and hold the key
    whose id is ``kid``."""
    path = private_path(kid)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        data = path.read_bytes()
    except FileNotFoundError:
        raise ServiceError(f"private key file {path} is missing (restore it, or run `kizuna node rotate-key`)") from None
    if mode & 0o077:
        raise ServiceError(f"private key file {path} has mode {mode:04o}; it must be 0600")
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except ValueError:
        raise ServiceError(f"private key file {path} is not a PEM PKCS8 private key") from None
    if not isinstance(private, Ed25519PrivateKey) or key_id(public_raw(private)) != kid:
        raise ServiceError(f"private key file {path} does not hold Ed25519 key {kid}")
    return private


def remove_private(kid: str) -> None:
    private_path(kid).unlink(missing_ok=True)
