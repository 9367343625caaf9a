"""A small TAXII 2.1 client for pulling from peers: what sync needs and nothing more, with hard limits.

One persistent HTTP connection per client (pages follow each other quickly), a timeout on every request, a cap on
the size of a page and of each object, and strict checks of the envelope. Anything a peer gets wrong — it is down,
slow, answers with an error, malformed JSON, an envelope that is not one, a page that says ``more`` but gives no
way on — is a ``PeerError`` with one sentence saying what; the caller keeps its cursor and retries later.

Credentials: an API token is sent as ``Authorization: Bearer``; ``user:password`` (for servers that only know
HTTP Basic, such as medallion) is sent as Basic.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from kizuna.core.jsonguard import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_ITEMS,
    DEFAULT_MAX_STRING,
    JsonGuard,
    JsonLimitError,
    guard_bytes,
)
from kizuna.stix.timestamps import parse_timestamp_or_none

TAXII_ACCEPT = "application/taxii+json;version=2.1"
EVERYTHING = "6b697a75-6e61-4000-8000-000000000001"  # Kizuna's collection of everything, the same on every node
MAX_PAGE_BYTES = 64 * 1024 * 1024
MAX_OBJECT_BYTES = 1024 * 1024
_NON_BMP = re.compile("[\U00010000-\U0010ffff]")
_SAFE_INT = 2**53 - 1


class PeerError(Exception):
    """The peer could not be read, or answered something this node cannot accept (the message says which)."""


@dataclass
class ObjectsPage:
    objects: list[dict[str, Any]]
    more: bool
    next: str | None
    date_added_last: datetime | None
    # RFC 8785 canonical JSON of every object equals sorted compact json.dumps: no floats, no integers beyond
    # 2^53, no characters outside the Basic Multilingual Plane (which sort differently in UTF-16).
    plain: bool
    size: int


class TaxiiClient:
    def __init__(self, api_root: str, credential: str, *, timeout: float = 30.0,
                 max_page_bytes: int = MAX_PAGE_BYTES, max_object_bytes: int = MAX_OBJECT_BYTES,
                 max_depth: int = DEFAULT_MAX_DEPTH, max_string: int = DEFAULT_MAX_STRING,
                 max_items: int = DEFAULT_MAX_ITEMS) -> None:
        parts = urlsplit(api_root)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PeerError(f"the TAXII URL {api_root!r} is not an http:// or https:// address")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.root = parts.path if parts.path.endswith("/") else parts.path + "/"
        self.timeout = timeout
        self.max_page_bytes, self.max_object_bytes = max_page_bytes, max_object_bytes
        self.max_depth, self.max_string, self.max_items = max_depth, max_string, max_items
        self.headers = {"Accept": TAXII_ACCEPT, "User-Agent": "kizuna-sync/1"}
        if credential:
            if ":" in credential:
                raw = base64.b64encode(credential.encode("utf-8")).decode("ascii")
                self.headers["Authorization"] = f"Basic {raw}"
            else:
                self.headers["Authorization"] = f"Bearer {credential}"
        self._conn: http.client.HTTPConnection | None = None

    # ---- transport -----------------------------------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.scheme == "https":
                self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                                         context=ssl.create_default_context())
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def get(self, path: str, params: list[tuple[str, str]] | None = None) -> tuple[bytes, dict[str, str]]:
        """GET ``path`` (relative to the API root); the body and headers of a 200 answer, else a PeerError."""
        target = self.root + path + ("?" + urlencode(params) if params else "")
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: reconnect once
            conn = self._connection()
            try:
                conn.request("GET", target, headers=self.headers)
                response = conn.getresponse()
                body = response.read(self.max_page_bytes + 1)
                headers = {k.lower(): v for k, v in response.getheaders()}
                if len(body) > self.max_page_bytes:
                    self.close()
                    raise PeerError(f"the page is larger than {self.max_page_bytes} bytes")
                if response.getheader("connection", "").lower() == "close":
                    self.close()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                if attempt == 2:
                    raise PeerError(f"the peer closed the connection: {exc}") from None
            except TimeoutError:
                self.close()
                raise PeerError(f"the peer did not answer within {self.timeout:g} s") from None
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise PeerError(f"cannot reach the peer at {self.host}:{self.port or ''}: "
                                f"{exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}") from None
        if response.status != 200:
            raise PeerError(f"the peer answered HTTP {response.status}{_title(body)} for {target}")
        return body, headers

    def get_json(self, path: str, params: list[tuple[str, str]] | None = None) -> Any:
        body, _headers = self.get(path, params)
        try:
            return json.loads(guard_bytes(body, JsonGuard(max_depth=self.max_depth, max_string=self.max_string,
                                                           max_items=self.max_items)))
        except JsonLimitError as exc:
            raise PeerError(f"the answer was refused: {exc.message} (this node's limit)") from None
        except (ValueError, RecursionError) as exc:
            raise PeerError(f"the peer's answer is not valid JSON: {exc}") from None

    # ---- TAXII ---------------------------------------------------------------------------------------------------

    def api_root(self) -> dict[str, Any]:
        info = self.get_json("")
        if not isinstance(info, dict) or "title" not in info:
            raise PeerError("the TAXII URL does not answer as an API root (no title)")
        return info

    def collections(self) -> list[dict[str, Any]]:
        info = self.get_json("collections/")
        items = info.get("collections", []) if isinstance(info, dict) else None
        if not isinstance(items, list):
            raise PeerError("the collections answer is not a TAXII collections resource")
        return [c for c in items if isinstance(c, dict)]

    def objects(self, collection: str, *, added_after: str | None = None, next_token: str | None = None,
                limit: int = 1000, ids: list[str] | None = None) -> ObjectsPage:
        # Every version, not only the latest (TAXII's default): a version superseded before this node read it is
        # still part of the object's history, and a forged later version must not hide the originator's own.
        params: list[tuple[str, str]] = [("limit", str(limit)), ("match[version]", "all")]
        if added_after:
            params.append(("added_after", added_after))
        if next_token:
            params.append(("next", next_token))
        if ids:
            params.append(("match[id]", ",".join(ids)))
        body, headers = self.get(f"collections/{quote(collection, safe='')}/objects/", params)
        return self.parse_page(body, headers, next_token)

    def object(self, collection: str, object_id: str) -> list[dict[str, Any]]:
        """The current version of one object (an empty list when the peer answers 404)."""
        try:
            body, headers = self.get(f"collections/{quote(collection, safe='')}/objects/{quote(object_id, safe='')}/")
        except PeerError as exc:
            if "HTTP 404" in str(exc):
                return []
            raise
        return self.parse_page(body, headers, None).objects

    def parse_page(self, body: bytes, headers: dict[str, str], sent_next: str | None) -> ObjectsPage:
        flags = {"plain": True}

        def floats(text: str) -> float:
            flags["plain"] = False
            return float(text)

        def ints(text: str) -> int:
            value = int(text)
            if abs(value) > _SAFE_INT:
                flags["plain"] = False
            return value

        try:
            # Scanned first (the same limits as what is POSTed to this node): a page nested too deep is refused
            # before it is parsed; a string too long becomes jsonguard.TOO_LONG, and its object is then rejected.
            guard = JsonGuard(max_depth=self.max_depth, max_string=self.max_string, max_items=self.max_items)
            body = guard_bytes(body, guard)
            if guard.too_long:  # as for an object too large (below): the page is refused, the cursor stays
                raise JsonLimitError("string", f"an object holds a string larger than {self.max_string:,} bytes")
            text = body.decode("utf-8")
            envelope = json.loads(text, parse_float=floats, parse_int=ints)
        except JsonLimitError as exc:
            raise PeerError(f"the page was refused: {exc.message} (this node's limit)") from None
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise PeerError(f"the page is not valid JSON: {exc}") from None
        if not isinstance(envelope, dict):
            raise PeerError("the page is not a TAXII envelope (not a JSON object)")
        objects = envelope.get("objects", [])
        more = envelope.get("more", False)
        nxt = envelope.get("next")
        if not isinstance(objects, list) or not isinstance(more, bool) or (nxt is not None and not isinstance(nxt, str)):
            raise PeerError("the page is not a TAXII envelope (objects must be a list, more a boolean, next a string)")
        if more and not nxt:
            raise PeerError("the page says more objects follow but gives no next")
        if more and not objects:
            raise PeerError("the page says more objects follow but holds none")
        if _NON_BMP.search(text):
            flags["plain"] = False
        big = [o for o in objects if len(json.dumps(o, ensure_ascii=False)) > self.max_object_bytes] \
            if len(body) > self.max_object_bytes else []
        if big:
            first = big[0]
            name = first.get("id") if isinstance(first, dict) else None
            raise PeerError(f"object {name or '(no id)'} is larger than {self.max_object_bytes} bytes")
        return ObjectsPage(
            objects=objects, more=more, next=nxt if more else None,
            date_added_last=parse_timestamp_or_none((headers.get("x-taxii-date-added-last") or "").strip()),
            plain=flags["plain"], size=len(body),
        )


def _title(body: bytes) -> str:
    """The title of a TAXII error message, when the body is one."""
    try:
        info = json.loads(body[:65536])
    except (ValueError, RecursionError):
        return ""
    if isinstance(info, dict) and isinstance(info.get("title"), str):
        return f" ({info['title'][:200]})"
    return ""
