"""Signatures on STIX objects: Ed25519 over the object's RFC 8785 canonical JSON, carried in a Kizuna property
extension.

The signed bytes are ``canonical(obj)``: the object WITHOUT the signature extension (and without ``extensions``
at all when that was its only extension), canonicalised by the ``rfc8785`` package. Key order and insignificant
number spellings (``1`` and ``1.0``) therefore do not matter; any change of a value does. The extension's own fields
(node, key id, algorithm) are not signed: a verifier chooses the keys it trusts for the claimed origin, and a
signature verifies under a key only if that key's private half made it.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from kizuna.stix.definitions import extension_definition

if TYPE_CHECKING:
    from kizuna.federation.services import Signer

SIGNATURE_EXTENSION_ID = "extension-definition--3f6c2b8e-91d4-4a57-b0e2-6b697a75736e"
ALGORITHM = "Ed25519"


class SigningError(ValueError):
    """The object cannot be canonicalised (e.g. NaN, or an integer beyond ±2^53-1, which RFC 8785 cannot carry)."""


class Verdict(enum.StrEnum):
    OK = "ok"
    UNSIGNED = "unsigned"
    UNKNOWN_KEY = "unknown key"
    BAD_SIGNATURE = "bad signature"


@dataclass(frozen=True)
class VerifyResult:
    verdict: Verdict
    reason: str
    node: str | None = None  # the node the signature claims, when there is one
    key_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK


def signature_extension_definition() -> dict[str, Any]:
    """The extension-definition declaring the signature extension (the same object, same id, on every node)."""
    return extension_definition(
        SIGNATURE_EXTENSION_ID, "Kizuna node signature",
        "The originating Kizuna node's Ed25519 signature over the object's RFC 8785 canonical JSON "
        "without this extension: node (its identity id), key_id (first 16 hex digits of SHA-256 of "
        "the raw public key), alg (Ed25519) and signature (base64).",
        "signature-extension", ["property-extension"],
    )


def unsigned(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy of ``obj`` without the signature extension (and without an ``extensions`` left empty)."""
    out = dict(obj)
    extensions = out.get("extensions")
    if isinstance(extensions, Mapping):
        rest = {k: v for k, v in extensions.items() if k != SIGNATURE_EXTENSION_ID}
        if rest:
            out["extensions"] = rest
        else:
            del out["extensions"]
    return out


def canonical(obj: Mapping[str, Any], *, plain: bool = False) -> bytes:
    """The bytes that are signed: RFC 8785 canonical JSON of ``obj`` without the signature extension.

    ``plain=True`` promises that the object holds no floating-point number, no integer beyond ±(2^53−1) and no
    character outside the Basic Multilingual Plane (the client checks this per page while parsing). For such an
    object RFC 8785 is exactly compact ``json.dumps`` with sorted keys and no ASCII escaping — four times faster."""
    if plain:
        try:
            return json.dumps(unsigned(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        except (UnicodeEncodeError, TypeError, ValueError):
            pass  # a lone surrogate or an odd value: the exact canonicaliser decides
    try:
        return rfc8785.dumps(unsigned(obj))
    except rfc8785.CanonicalizationError as exc:
        raise SigningError(f"cannot canonicalise: {exc}") from None


@lru_cache(maxsize=256)
def _verify_key(raw: bytes) -> VerifyKey:
    return VerifyKey(raw)


def sign_with(obj: Mapping[str, Any], node: str, kid: str, private: Ed25519PrivateKey) -> dict[str, Any]:
    """A shallow copy of ``obj`` with a signature extension by ``private`` (replacing any earlier one); ``obj`` itself
    is not changed."""
    signature = private.sign(canonical(obj))
    out = unsigned(obj)
    out["extensions"] = {
        **(out.get("extensions") or {}),
        SIGNATURE_EXTENSION_ID: {
            "extension_type": "property-extension", "node": node, "key_id": kid, "alg": ALGORITHM,
            "signature": base64.b64encode(signature).decode("ascii"),
        },
    }
    return out


def sign_object(obj: Mapping[str, Any], signer: Signer | None = None) -> dict[str, Any]:
    """``obj`` signed by this node's active key. Pass a ``Signer`` (``services.signer()``) to sign many objects
    without reading the key for each."""
    if signer is None:
        from kizuna.federation.services import signer as active_signer

        signer = active_signer()
    return sign_with(obj, signer.node, signer.key_id, signer.private_key)


def verify_object(obj: Mapping[str, Any], public_keys: Mapping[str, bytes], *, plain: bool = False) -> VerifyResult:
    """Check ``obj``'s signature against the raw Ed25519 public keys the caller trusts, by key id (retired keys
    included: they still verify what they signed). ``plain``: see ``canonical``. Verification uses libsodium
    (PyNaCl), which is twice as fast as OpenSSL here and releases the GIL, so threads verify in parallel."""
    extensions = obj.get("extensions")
    extension = extensions.get(SIGNATURE_EXTENSION_ID) if isinstance(extensions, Mapping) else None
    if extension is None:
        return VerifyResult(Verdict.UNSIGNED, "the object carries no Kizuna signature")
    if not isinstance(extension, Mapping):
        return VerifyResult(Verdict.BAD_SIGNATURE, "malformed signature extension: not an object")
    node, kid, alg, text = (extension.get(name) for name in ("node", "key_id", "alg", "signature"))
    if not all(isinstance(value, str) for value in (node, kid, alg, text)):
        return VerifyResult(Verdict.BAD_SIGNATURE, "malformed signature extension: node, key_id, alg and signature "
                                                   "must be strings")
    assert isinstance(node, str) and isinstance(kid, str) and isinstance(text, str)  # for mypy
    if alg != ALGORITHM:
        return VerifyResult(Verdict.BAD_SIGNATURE, f"unsupported signature algorithm {alg!r}", node, kid)
    raw_key = public_keys.get(kid)
    if raw_key is None:
        return VerifyResult(Verdict.UNKNOWN_KEY, f"no trusted public key with id {kid} (node {node})", node, kid)
    try:
        signature = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return VerifyResult(Verdict.BAD_SIGNATURE, "malformed signature: not base64", node, kid)
    try:
        message = canonical(obj, plain=plain)
    except SigningError as exc:
        return VerifyResult(Verdict.BAD_SIGNATURE, str(exc), node, kid)
    try:
        _verify_key(bytes(raw_key)).verify(message, signature)
    except BadSignatureError:
        return VerifyResult(Verdict.BAD_SIGNATURE, f"signature does not verify under key {kid}", node, kid)
    except (ValueError, TypeError):
        return VerifyResult(Verdict.BAD_SIGNATURE, f"trusted key {kid} is not a valid Ed25519 public key", node, kid)
    return VerifyResult(Verdict.OK, f"signed by node {node} with key {kid}", node, kid)
