"""Bounded JSON input: a scan of the raw bytes, ahead of any JSON parser, that refuses input nested too deep or holding
too many top-level items, and takes every string longer than a limit out of the input before a parser sees it.

Why before the parser: ijson's C backend (yajl) costs the square of a string's length and of the nesting depth
(measured: a 20 MB string 2.4 s, 20,000 levels 1.5 s) and Python's ``json`` raises RecursionError past about 1,000
levels. The scan here is linear and runs at C speed: escape pairs are blanked (``bytes.replace``), every quote left then opens or
closes a string, everything but quotes and brackets is deleted (``bytes.translate``), and only the brackets between
strings are counted (``itertools.accumulate``).

- **Depth** (``max_depth``): more than that many nested arrays/objects refuses the whole input (``JsonLimitError``,
  kind ``depth``), as soon as the scan reaches it.
- **Items** (``max_items``): containers opened at the third level (in ``{"objects": [{...}, ...]}`` the objects of
  a bundle or envelope, plus any container inside another top-level member): more refuses the whole input (kind
  ``items``).
- **Strings** (``max_string``, bytes of the string as written, escapes included): a longer string (value or key) is
  replaced by the string ``TOO_LONG`` and skipped without being held: the object that held it is then rejected by its
  consumer (``holds_too_long``), the rest of the input goes on. At most ``max_string`` bytes of one string are held.

Pure Python, no Django: the STIX parsing process (``kizuna.threats.prepare``) uses it too. ``feed`` takes chunks in
order and returns the bytes to give the parser; ``GuardedReader`` wraps a binary stream; ``guard_bytes`` does a whole
body (in 64 KB pieces, so that no complete string inside one piece can exceed a limit of 64 KB or more unseen).
"""

from __future__ import annotations

from itertools import accumulate, count
from operator import sub
from typing import Any, BinaryIO

# What a too-long string becomes. A NUL cannot appear raw in JSON text, so no real string is this by accident.
TOO_LONG = "\x00kizuna:string-over-limit\x00"
_TOO_LONG_JSON = b'"\\u0000kizuna:string-over-limit\\u0000"'
# The same, as json.dumps(ensure_ascii=False) writes it inside an encoded object.
TOO_LONG_ENCODED = "\\u0000kizuna:string-over-limit\\u0000"

DEFAULT_MAX_DEPTH = 100
DEFAULT_MAX_STRING = 1024 * 1024
DEFAULT_MAX_ITEMS = 5_000_000
PIECE = 64 * 1024

# Everything but quotes and brackets, deleted by bytes.translate (C speed) before the brackets are counted.
_NOT_MARKS = bytes(b for b in range(256) if b not in b'"[]{}')
# Opening bracket -> 2, closing -> 0: the running sum minus the position is the depth.
_WEIGHTS = bytes.maketrans(b"[]{}", b"\x02\x00\x02\x00")


class JsonLimitError(ValueError):
    """The input breaks a limit and is refused whole. ``kind``: "depth", "items" or "size"; ``status`` the HTTP
    status that fits (400 for depth, 413 for the others)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    @property
    def status(self) -> int:
        return 400 if self.kind == "depth" else 413


def depth_message(limit: int) -> str:
    return f"the JSON is nested more than {limit:,} levels deep"


def items_message(limit: int) -> str:
    return f"the input holds more than {limit:,} objects"


def size_message(limit: int) -> str:
    return f"the input is larger than {limit:,} bytes"


def string_message(limit: int) -> str:
    return f"a string is longer than {limit:,} bytes"


class JsonGuard:
    """The scan's state across chunks. ``too_long``: how many strings were replaced so far; ``read``: bytes fed."""

    def __init__(self, max_depth: int = DEFAULT_MAX_DEPTH, max_string: int = DEFAULT_MAX_STRING,
                 max_items: int = DEFAULT_MAX_ITEMS, max_bytes: int = 0) -> None:
        self.max_depth, self.max_string, self.max_items, self.max_bytes = max_depth, max_string, max_items, max_bytes
        self.depth = 0
        self.items = 0
        self.read = 0
        self.too_long = 0
        self.in_string = False
        self.skipping = False  # inside a string already known to be too long: its bytes are dropped
        self.carry = b""  # a backslash that ended the last chunk, waiting for the byte it escapes
        self.held: list[bytes] = []  # the bytes of the open string so far (at most max_string)
        self.held_size = 0

    def feed(self, data: bytes) -> bytes:
        """The bytes to give the parser for this chunk (a string still open at its end is held back)."""
        self.read += len(data)
        if self.max_bytes and self.read > self.max_bytes:
            raise JsonLimitError("size", size_message(self.max_bytes))
        if self.carry:
            data, self.carry = self.carry + data, b""
        if data.endswith(b"\\"):
            # A run of backslashes at the end: its pairs are whole escapes; an odd one escapes the next chunk's
            # first byte, so it waits for it.
            run = len(data) - len(data.rstrip(b"\\"))
            if run % 2:
                data, self.carry = data[:-1], data[-1:]
        # The same bytes with every escape pair blanked (same length): each quote left opens or closes a string.
        a = data.replace(b"\\\\", b"xx").replace(b'\\"', b"xx") if b"\\" in data else data
        out: list[bytes] = []
        pos = 0
        if self.in_string:
            close = a.find(b'"')
            if close < 0:
                self._hold(data)
                return b""
            self._hold(data[: close + 1])
            self._close(out)
            pos = close + 1
        quotes = a.count(b'"', pos)
        end = len(data)
        if quotes % 2:  # a string opens here and goes on past this chunk
            end = a.rfind(b'"')
        if end > pos:
            self._brackets(a, pos, end)
            out.append(data[pos:end] if pos or end < len(data) else data)
        if quotes % 2:
            self.in_string, self.skipping, self.held, self.held_size = True, False, [], 0
            self._hold(data[end:])
        return out[0] if len(out) == 1 else b"".join(out)

    def finish(self) -> bytes:
        """At the end of the input: what is still held is passed on as it is (the parser reports the error)."""
        rest, self.carry = self.carry, b""
        if self.in_string and not self.skipping:
            self.in_string = False
            return b"".join(self.held) + rest
        return rest

    def _hold(self, part: bytes) -> None:
        if not self.skipping:
            self.held.append(part)
            self.held_size += len(part)
            if self.held_size > self.max_string + 2:  # the two quotes do not count
                self.skipping = True
                self.held, self.held_size = [], 0

    def _close(self, out: list[bytes]) -> None:
        if self.skipping:
            self.too_long += 1
            out.append(_TOO_LONG_JSON)
        else:
            out.append(b"".join(self.held))
        self.in_string, self.skipping, self.held, self.held_size = False, False, [], 0

    def _brackets(self, a: bytes, pos: int, end: int) -> None:
        """Depth and items over the brackets outside strings of ``a[pos:end]`` (which starts outside a string and
        holds whole strings only)."""
        kept = a[pos:end].translate(None, _NOT_MARKS) if pos or end < len(a) else a.translate(None, _NOT_MARKS)
        if b'"' in kept:
            # Two adjacent quotes are an empty string or the end of one and the start of the next: dropping them
            # leaves what lies between strings as it was. The few strings left hold brackets.
            kept = kept.replace(b'""', b"")
            if b'"' in kept:
                kept = b"".join(kept.split(b'"')[0::2])  # what lies between the strings
        if not kept:
            return
        start = self.depth
        # depth after the k-th bracket (k from 0) = start + sum(weights[:k+1]) - (k + 1)
        depths = list(map(sub, accumulate(kept.translate(_WEIGHTS)), count(1 - start)))
        deepest = max(depths)
        if deepest > self.max_depth:
            raise JsonLimitError("depth", depth_message(self.max_depth))
        self.depth = depths[-1]
        if min(depths) >= 0 and deepest < 256:
            # containers opened at depth 3 (a bundle's objects): the depth went from 2 to 3
            self.items += bytes([start if 0 <= start < 256 else 0, *depths]).count(b"\x02\x03")
            if self.items > self.max_items:
                raise JsonLimitError("items", items_message(self.max_items))


class GuardedReader:
    """A binary stream read through a ``JsonGuard``: ``read(size)`` gives at most ``size`` guarded bytes. ``count``:
    bytes read from the underlying stream (progress)."""

    def __init__(self, raw: BinaryIO, guard: JsonGuard) -> None:
        self.raw = raw
        self.guard = guard
        self.pending = b""
        self.done = False

    @property
    def count(self) -> int:
        return self.guard.read

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson reads 0 bytes first to learn whether the stream gives bytes or text
            return b""
        want = PIECE if size is None or size < 0 else size
        piece = max(1, min(PIECE, self.guard.max_string))  # no complete string in one piece can pass unseen
        while len(self.pending) < want and not self.done:
            chunk = self.raw.read(piece)
            if not chunk:
                self.done = True
                self.pending += self.guard.finish()
                break
            self.pending += self.guard.feed(chunk)
        data, self.pending = self.pending[:want], self.pending[want:]
        return data


def guard_bytes(data: bytes, guard: JsonGuard) -> bytes:
    """A whole body through ``guard``, in pieces (see the module docstring)."""
    piece = max(1, min(PIECE, guard.max_string))
    if len(data) <= piece:
        return guard.feed(data) + guard.finish()
    view = memoryview(data)
    parts = [guard.feed(bytes(view[i : i + piece])) for i in range(0, len(data), piece)]
    parts.append(guard.finish())
    return b"".join(parts)


def scan(stream: BinaryIO, guard: JsonGuard) -> None:
    """Read ``stream`` to its end through ``guard`` only to check it (raises ``JsonLimitError``)."""
    piece = max(1, min(1 << 20, guard.max_string))
    while chunk := stream.read(piece):
        guard.feed(chunk)


def holds_too_long(value: Any) -> bool:
    """Whether a parsed value holds a string the guard replaced (as a key or a value, at any depth)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if item.__class__ is str:
            if item == TOO_LONG:
                return True
        elif isinstance(item, dict):
            for k, v in item.items():
                if k == TOO_LONG:
                    return True
                stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)
    return False
