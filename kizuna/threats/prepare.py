"""Per-object work of a STIX import that needs no database: validate an object, write its JSON text, take out its
observable values and the columns the store keeps beside it. Free of Django, so that a large bundle can be parsed and
prepared in a separate process while the importer's process writes the previous batch (``python -m
kizuna.threats.prepare``: reads a bundle on stdin, writes prepared batches on stdout; see ``importer.run_stream``).

A prepared object is a plain tuple (marshal carries it between the processes at C speed, and marshal, unlike pickle,
cannot run code when read):

    (index, stix_id, type, created_by_ref, version, version_key, object_marking_refs, marking_refs, row, values,
     search_text)

- ``version`` is what the store keys versions by (``modified``, else ``created``, else ""), ``version_key`` its
  time-ordered form (``validate.timestamp_key``);
- ``object_marking_refs`` is the list (or None), ``marking_refs`` every referenced marking including granular ones
  (None when the object has neither property: the common case, which gets the default label at once);
- ``row`` holds the stored columns in ``store.ROW_COLUMNS`` order, ending with the JSON text;
- ``values`` the (kind, value) pairs indexed for search by value (``observable_values``, with the ``ip-range`` key of
  each address or network);
- ``search_text`` the lower-cased text of the threat search's substring index (``search_text``), "" for none.
"""

from __future__ import annotations

import gc
import ipaddress
import json
import marshal
import os
import re
import struct
import sys
from typing import Any, BinaryIO

from kizuna.core.jsonguard import TOO_LONG, TOO_LONG_ENCODED, GuardedReader, JsonGuard, JsonLimitError, holds_too_long
from kizuna.threats.validate import simple_pattern, timestamp_key, validate_object

Prepared = tuple[Any, ...]
# Positions in a prepared tuple.
P_INDEX, P_ID, P_TYPE, P_CREATED_BY, P_VERSION, P_KEY, P_OBJECT_REFS, P_REFS, P_ROW, P_VALUES, P_TEXT = range(11)
# For an import into PostgreSQL the parsing process adds a 12th element: the row's COPY text from the stix_id column
# on (``copy_tail``), so that the importing process, which waits for the server between statements, only puts the
# id, label, originator, dates and current flag in front of it.
P_COPY = 11
ROW_TEXT = -1  # the JSON text is the last stored column

REASON_UNSTORABLE = "cannot be stored"
REASON_TOO_LONG = "string too long"
REASON_TOO_LARGE = "object too large"
# The input limits this process applies (``configure``; the importer sets them from the settings, and passes them to
# the parsing process on its command line). Defaults: those of kizuna/settings.py.
LIMITS = {"depth": 100, "string": 1024 * 1024, "objects": 5_000_000, "object_bytes": 2 * 1024 * 1024}
# A message from the parsing process whose error starts with this is a limit the input broke, not broken JSON.
LIMIT_ERROR = "limit:"
MAX_VALUE = 512
SCO_VALUE_TYPES = {"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr"}
_LOWER_KINDS = {"domain-name", "email-addr"}
FILE_HASHES = {"MD5": "file:MD5", "SHA-1": "file:SHA-1", "SHA-256": "file:SHA-256", "SHA-512": "file:SHA-512",
               "SHA1": "file:SHA-1", "SHA256": "file:SHA-256", "md5": "file:MD5", "sha1": "file:SHA-1",
               "sha256": "file:SHA-256"}

# One encoder for every object (json.dumps with options builds a new one per call); allow_nan=False rejects NaN and
# infinite numbers, which JSON cannot write.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_encode = _ENCODER.encode


def to_text(obj: dict[str, Any]) -> str | None:
    """The JSON text stored for an object (keys in their order, compact), or None when it cannot be stored as UTF-8
    (a lone surrogate from a ``\\ud800`` escape) or holds a number JSON cannot write (infinite, NaN)."""
    try:
        text = _encode(obj)
    except (ValueError, TypeError, RecursionError):
        return None
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return None
    return text


def version_of(obj: dict[str, Any]) -> str:
    """The version key stored in ``modified``: the object's ``modified``; for objects that have none (marking
    definitions, which never change, and observables) ``created`` or the empty string."""
    return str(obj.get("modified") or obj.get("created") or "")


def observable_values(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """The (kind, value) pairs an object carries, for search by value and "also reported by"; each IP address or
    network also gives its ``ip-range`` key (``ip_range_key``), for search by containment."""
    t = obj.get("type")
    found: list[tuple[str, str]] = []
    if t == "indicator" and obj.get("pattern_type") == "stix" and isinstance(obj.get("pattern"), str):
        found = simple_pattern(obj["pattern"]) or _complex_pattern_values(obj["pattern"])
    elif t in SCO_VALUE_TYPES and isinstance(obj.get("value"), str):
        found = [(str(t), obj["value"])]
    elif t == "file" and isinstance(obj.get("hashes"), dict):
        found = [(FILE_HASHES[k], v) for k, v in obj["hashes"].items() if k in FILE_HASHES and isinstance(v, str)]
    if len(found) == 1:  # the usual case, without the duplicate check
        kind, value = found[0]
        if kind in _LOWER_KINDS or kind.startswith("file:"):
            value = value.lower()
        if not value or len(value) > MAX_VALUE or "\x00" in value:
            return []
        if kind in IP_KINDS:
            key = ip_range_key(value)
            if key is not None:
                return [(kind, value), (IP_RANGE, key)]
        return [(kind, value)]
    result: list[tuple[str, str]] = []
    for kind, value in found:
        if kind in _LOWER_KINDS or kind.startswith("file:"):
            value = value.lower()
        if value and len(value) <= MAX_VALUE and "\x00" not in value and (kind, value) not in result:
            result.append((kind, value))
            if kind in IP_KINDS:
                key = ip_range_key(value)
                if key is not None and (IP_RANGE, key) not in result:
                    result.append((IP_RANGE, key))
    return result


# The kind of the derived rows that index IP addresses and networks by containment (``ip_range_key``). Not an
# observable of its own: "also reported by" and watch filters leave these rows out.
IP_RANGE = "ip-range"
IP_KINDS = frozenset({"ipv4-addr", "ipv6-addr"})


def network_key(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """``4:<8 hex digits>/<2-digit prefix>`` or ``6:<32 hex digits>/<3-digit prefix>``: fixed width per family, so
    that text order is address order and the networks inside a network are one range of the (kind, value) index."""
    if network.version == 4:
        return f"4:{int(network.network_address):08x}/{network.prefixlen:02d}"
    return f"6:{int(network.network_address):032x}/{network.prefixlen:03d}"


def ip_range_key(value: str) -> str | None:
    """The ``network_key`` of an address (as a /32 or /128) or network in any form ``ipaddress`` reads (host bits
    ignored: ``58.246.1.0/15`` is ``58.246.0.0/15``), or None when the value is neither."""
    try:
        return network_key(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        return None


# Properties of an object whose text the threat search finds by substring, beside its display name and values.
_TEXT_PROPS = ("description",)
_TEXT_LISTS = ("aliases",)
MAX_SEARCH_TEXT = 4000  # characters per object: a long report is found by its first pages, and the index stays small


def search_text(obj: dict[str, Any], name: str, values: list[tuple[str, str]]) -> str:
    """The lower-cased text the threat search matches substrings in: the display name, description and aliases,
    and the observable values (not the ``ip-range`` keys), each once, at most ``MAX_SEARCH_TEXT`` characters.
    Relationships get none: their only text is the relationship type."""
    if obj.get("type") == "relationship":
        return ""
    parts: list[str] = [name] if name else []
    for prop in _TEXT_PROPS:
        value = obj.get(prop)
        if value.__class__ is str and value:
            parts.append(value)
    for prop in _TEXT_LISTS:
        items = obj.get(prop)
        if isinstance(items, list):
            parts.extend(v for v in items if isinstance(v, str) and v)
    parts.extend(value for kind, value in values if kind != IP_RANGE)
    text = "\n".join(dict.fromkeys(p.lower() for p in parts))
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text[:MAX_SEARCH_TEXT]


_COMPLEX_PATHS: dict[tuple[str, tuple[str, ...]], str] = {
    ("ipv4-addr", ("value",)): "ipv4-addr", ("ipv6-addr", ("value",)): "ipv6-addr",
    ("domain-name", ("value",)): "domain-name", ("url", ("value",)): "url", ("email-addr", ("value",)): "email-addr",
}


def _complex_pattern_values(pattern: str) -> list[tuple[str, str]]:
    """Values compared with ``=`` in a pattern the fast path does not handle (already validated: rare, slow path)."""
    try:
        from stix2patterns.v21.pattern import Pattern

        comparisons = Pattern(pattern).inspect().comparisons
    except Exception:
        return []
    found: list[tuple[str, str]] = []
    for obj_type, items in comparisons.items():
        for path, op, value in items:
            if op != "=" or not isinstance(value, str) or not value.startswith("'"):
                continue
            literal = value[1:-1].replace("\\'", "'").replace("\\\\", "\\")
            names = tuple(p for p in path if isinstance(p, str))
            if (obj_type, names) in _COMPLEX_PATHS:
                found.append((_COMPLEX_PATHS[(obj_type, names)], literal))
            elif obj_type == "file" and len(names) == 2 and names[0] == "hashes":
                kind = FILE_HASHES.get(names[1].strip("'"))
                if kind:
                    found.append((kind, literal))
    return found


_NAME_PROPS = ("name", "value", "pattern", "relationship_type", "path", "subject", "opinion", "content")


def display_name(obj: dict[str, Any]) -> str:
    """What lists show: the name, else the value, else the pattern, else the relationship type."""
    for prop in _NAME_PROPS:
        value = obj.get(prop)
        if value.__class__ is str and value:
            if "\x00" in value:
                value = value.replace("\x00", "")
            return value[:300]  # type: ignore[no-any-return]
    return ""


def ends(obj: dict[str, Any]) -> tuple[str, str]:
    """source_ref/target_ref columns: a relationship's two ends; a sighting's sighted object (target left blank)."""
    t = obj.get("type")
    if t == "relationship":
        return str(obj.get("source_ref", "")), str(obj.get("target_ref", ""))
    if t == "sighting":
        return str(obj.get("sighting_of_ref", "")), ""
    return "", ""


def marking_refs(obj: dict[str, Any]) -> set[str]:
    refs = set(obj.get("object_marking_refs") or ())
    for g in obj.get("granular_markings") or ():
        if isinstance(g.get("marking_ref"), str):
            refs.add(g["marking_ref"])
    return refs


def configure(depth: int, string: int, objects: int, object_bytes: int) -> None:
    LIMITS.update(depth=depth, string=string, objects=objects, object_bytes=object_bytes)


def guard() -> JsonGuard:
    """The scan a bundle is read through (``kizuna.core.jsonguard``), with this process's limits."""
    return JsonGuard(max_depth=LIMITS["depth"], max_string=LIMITS["string"], max_items=LIMITS["objects"])


def too_long_reason(obj: Any) -> str:
    prop = ""
    if isinstance(obj, dict):
        prop = next((str(k)[:60] for k, v in obj.items() if k == TOO_LONG or holds_too_long(v)), "")
    where = f"{prop} holds" if prop and prop != TOO_LONG else "it holds"
    return (f"{REASON_TOO_LONG}: {where} a string longer than {LIMITS['string']:,} bytes (this node's limit); the "
            "object was not stored")


def prepare(index: int, obj: Any) -> Prepared | str:
    """The prepared tuple of a valid object (see the module docstring), or the reason it is rejected."""
    reason = validate_object(obj)
    if reason is not None:
        if holds_too_long(obj):  # the reason is the string the scan took out, not what the validator saw
            return too_long_reason(obj)
        return reason
    text = to_text(obj)
    if text is None:
        return f"{REASON_UNSTORABLE}: invalid Unicode (a lone surrogate) or a number out of range"
    if TOO_LONG_ENCODED in text:
        return too_long_reason(obj)
    if len(text) > LIMITS["object_bytes"] // 4 and len(text.encode("utf-8")) > LIMITS["object_bytes"]:
        return (f"{REASON_TOO_LARGE}: its JSON is more than {LIMITS['object_bytes']:,} bytes (this node's limit); "
                "the object was not stored")
    get = obj.get
    t = obj["type"]
    stix_id = obj["id"]
    version = str(get("modified") or get("created") or "")
    if t == "relationship" or t == "sighting":
        source, target = ends(obj)
    else:
        source = target = ""
    object_refs = get("object_marking_refs")
    refs = sorted(marking_refs(obj)) if object_refs is not None or "granular_markings" in obj else None
    name = display_name(obj)
    row = (stix_id, t, get("spec_version") or "2.1", str(get("created") or ""), version, get("revoked") is True,
           source, target, name, text)
    # Right after validation: a simple pattern's values come from the validator's memo, not a second parse.
    values = observable_values(obj)
    return (index, stix_id, t, get("created_by_ref"), version, timestamp_key(version), object_refs, refs, row,
            values, search_text(obj, name, values))


def copy_text(value: str) -> str:
    """A text value in PostgreSQL COPY's text format: backslash, tab, newline and carriage return escaped."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# The characters COPY's text format escapes (rare: JSON text escapes its own control characters).
COPY_SPECIAL = re.compile(r"[\\\t\n\r]").search


def copy_tail(row: tuple[Any, ...]) -> str:
    """The COPY text of a stored row (``row`` as in a prepared tuple) from its stix_id column to the end of the line.
    The long JSON text is checked with four C scans (memchr), the short columns with the pattern."""
    stix_id, stix_type, spec_version, created, modified, revoked, source_ref, target_ref, name, data = row
    if ("\\" in data or "\t" in data or "\n" in data or "\r" in data or COPY_SPECIAL(
            f"{stix_id}{stix_type}{spec_version}{created}{modified}{source_ref}{target_ref}{name}")):
        stix_id, stix_type, spec_version, created, modified, source_ref, target_ref, name, data = (
            copy_text(t) for t in (stix_id, stix_type, spec_version, created, modified, source_ref, target_ref, name,
                                   data))
    return (f"{stix_id}\t{stix_type}\t{spec_version}\t{created}\t{modified}\t{'t' if revoked else 'f'}\t"
            f"{source_ref}\t{target_ref}\t{name}\t{data}\n")


def text_size(p: Prepared) -> int:
    """Characters of text a prepared object holds in memory: its JSON text (inside the COPY text on PostgreSQL) and
    its search text. Messages and the importer's batches are bounded by it."""
    return len(p[P_ROW][ROW_TEXT]) + len(p[P_TEXT]) + (len(p[P_COPY]) if len(p) > P_COPY else 0)


def is_marked(p: Prepared) -> bool:
    """Whether the object's label needs the importer's marking rules: it refers to markings or is a
    marking-definition. Objects that are not get the default label as they are."""
    return p[P_REFS] is not None or p[P_TYPE] == "marking-definition"


# ---- the parsing process --------------------------------------------------------------------------------------------

# A message holds at most this many objects or this much text (``text_size``), whichever comes first: the importer
# queues a bounded number of messages (importer.QUEUED_MESSAGES), so this bounds the memory of the queue.
MESSAGE_OBJECTS = 500
MESSAGE_TEXT = 512 * 1024
_HEADER = struct.Struct("<I")


def write_message(out: BinaryIO, message: Any) -> None:
    data = marshal.dumps(message)
    out.write(_HEADER.pack(len(data)))
    out.write(data)


def read_message(source: BinaryIO) -> Any:
    """The next message, or None at the end of the pipe."""
    data = read_frame(source)
    return None if data is None else marshal.loads(data)  # noqa: S302 - see read_frame


def read_frame(source: BinaryIO) -> bytes | None:
    """The next message still marshalled (written by our own parsing process, plain values only), or None at the
    end of the pipe."""
    header = _read_exactly(source, _HEADER.size)
    if header is None:
        return None
    return _read_exactly(source, _HEADER.unpack(header)[0])


def _read_exactly(source: BinaryIO, size: int) -> bytes | None:
    """``size`` bytes (a pipe gives what it holds, so read until there are enough), or None at the end."""
    data = source.read(size)
    if data is None or len(data) == size:
        return data
    parts = [data]
    have = len(data)
    while have < size:
        more = source.read(size - have)
        if not more:
            return None
        parts.append(more)
        have += len(more)
    return b"".join(parts)


class CountingReader:
    """Wraps the input to count the bytes the parser has read (progress: read_bytes of total_bytes)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        return data


def serve(source: BinaryIO, out: BinaryIO, copy: bool = False, scanned: bool = False,
          prefix: str = "objects.item") -> None:
    """Parse the bundle from ``source`` and write, in input order, messages ``("b", read_bytes, prepared, marked,
    rejections)`` (marked: positions in prepared of the objects ``is_marked`` holds for; rejections as (index, id,
    reason)), then one ``("e", read_bytes, objects_read, error)`` where
    error is the JSON error's text ("" when the input was read to its end). ``prefix``: where the objects are
    (``kizuna.threats.sniff``: a bundle's objects, a top-level array's items, or the one top-level object)."""
    import ijson

    try:
        backend: Any = ijson.get_backend("yajl2_c")
    except ImportError:
        backend = ijson
    # ``scanned``: the importer scanned the whole input first (importer.precheck) and found nothing over a limit
    reader: CountingReader | GuardedReader = CountingReader(source) if scanned else GuardedReader(source, guard())
    prepared: list[Prepared] = []
    marked: list[int] = []  # positions in prepared of the objects is_marked holds for
    rejected: list[tuple[int, str | None, str]] = []
    index = -1
    error = ""
    text = 0
    gc.disable()  # see importer.run_stream: nothing here makes cycles
    try:
        for index, obj in enumerate(backend.items(reader, prefix, use_float=True)):
            result = prepare(index, obj)
            if copy and result.__class__ is tuple:
                # The JSON text then travels once, inside the COPY text; the row keeps it only for a
                # marking-definition, which the importer reads (the message stays as large as without --copy).
                row = result[P_ROW]  # type: ignore[index]
                tail = copy_tail(row)
                if result[P_TYPE] != "marking-definition":  # type: ignore[index]
                    row = (*row[:-1], "")
                result = (*result[:P_ROW], row, result[P_VALUES], result[P_TEXT], tail)  # type: ignore[index]
            if result.__class__ is tuple:
                if is_marked(result):  # type: ignore[arg-type]
                    marked.append(len(prepared))
                prepared.append(result)  # type: ignore[arg-type]
                text += text_size(result)  # type: ignore[arg-type]
            else:
                stix_id = obj.get("id") if isinstance(obj, dict) and isinstance(obj.get("id"), str) else None
                rejected.append((index, stix_id, result))  # type: ignore[arg-type]
            if len(prepared) + len(rejected) >= MESSAGE_OBJECTS or text >= MESSAGE_TEXT:
                write_message(out, ("b", reader.count, prepared, marked, rejected))
                prepared, marked, rejected, text = [], [], [], 0
    except JsonLimitError as exc:
        error = LIMIT_ERROR + exc.kind + ":" + exc.message
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError, ValueError) as exc:
        error = " ".join(str(exc).split())[:200] or type(exc).__name__
    if prepared or rejected:
        write_message(out, ("b", reader.count, prepared, marked, rejected))
    write_message(out, ("e", reader.count, index + 1, error))
    out.flush()


if __name__ == "__main__":
    with os.fdopen(sys.stdin.fileno(), "rb", buffering=0, closefd=False) as stdin, \
            os.fdopen(sys.stdout.fileno(), "wb", closefd=False) as stdout:
        for arg in sys.argv[1:]:
            if arg.startswith("--limits="):
                configure(*(int(v) for v in arg.split("=", 1)[1].split(",")))
        prefixes = [arg.split("=", 1)[1] for arg in sys.argv[1:] if arg.startswith("--prefix=")]
        serve(stdin, stdout, copy="--copy" in sys.argv[1:], scanned="--scanned" in sys.argv[1:],
              prefix=prefixes[-1] if prefixes else "objects.item")
