"""What a file handed to the importer is, from its first bytes: a STIX bundle, a single STIX object, a JSON array of
objects, some other JSON, or not JSON at all (an image, a PDF, an archive ...).

The importer reads a bundle as a stream (``objects.item``); before that it looks at the head of the input once, so
that a PNG uploaded by mistake is answered with what the file is and what was expected rather than the JSON parser's
"lexical error: invalid char in json text", and so that a single object or a plain array of objects, which other
tools write, is imported as a bundle of those objects (issue 13). Functions over bytes: no I/O, no database.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import ijson
from django.utils.translation import gettext

# How much of the input is looked at: enough for the top-level "type" of nearly every bundle or object.
HEAD_BYTES = 64 * 1024
UTF8_BOM = b"\xef\xbb\xbf"

# ijson prefixes: the items of a bundle's "objects", the items of a top-level array, the whole document.
BUNDLE = "objects.item"
ARRAY = "item"
SINGLE = ""



def gettext_noop(message: str) -> str:
    """Marks a message for the catalog (makemessages knows the name) without needing settings at import time."""
    return message


# First bytes of files people upload by mistake, and the name to tell them by.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", gettext_noop("a PNG image")),
    (b"\xff\xd8\xff", gettext_noop("a JPEG image")),
    (b"GIF87a", gettext_noop("a GIF image")),
    (b"GIF89a", gettext_noop("a GIF image")),
    (b"%PDF", gettext_noop("a PDF document")),
    (b"PK\x03\x04", gettext_noop("a ZIP archive (or an Office document)")),
    (b"\x1f\x8b", gettext_noop("a gzip-compressed file")),
    (b"\xd0\xcf\x11\xe0", gettext_noop("an old Microsoft Office document")),
    (b"\xff\xfe", gettext_noop("a UTF-16 text file")),
    (b"\xfe\xff", gettext_noop("a UTF-16 text file")),
    (b"<", gettext_noop("an XML or HTML document (STIX 1.x is XML: Kizuna reads STIX 2.1, which is JSON)")),
)


@dataclass(frozen=True)
class Shape:
    """How to read the input: the ijson ``prefix`` of its objects, how many leading bytes to skip (a UTF-8 byte
    order mark), or ``refusal``, the message that says what the input is not and what is expected."""

    prefix: str = BUNDLE
    skip: int = 0
    refusal: str = ""


def expected() -> str:
    return gettext("expected a STIX 2.1 bundle (a JSON object with \"type\": \"bundle\" and an \"objects\" array), a "
                   "single STIX object, or a JSON array of STIX objects")


def what_it_is(head: bytes) -> str:
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return gettext(name)
    if not head:
        return gettext("empty")
    try:
        head[:256].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < 200:  # a multi-byte character cut at the end of the sample is still text
            return gettext("binary data, not text")
    return gettext("text, but not JSON")


def shape(head: bytes) -> Shape:
    """How to read an input whose first bytes (up to ``HEAD_BYTES``, fewer when the input is shorter) are ``head``."""
    skip = len(UTF8_BOM) if head.startswith(UTF8_BOM) else 0
    body = head[skip:].lstrip(b" \t\r\n")
    first = body[:1]
    if first == b"[":
        return Shape(ARRAY, skip)
    if first == b"{":
        return Shape(_object_prefix(head[skip:]), skip)
    if first in (b'"', b"-") or first.isdigit() or body.startswith((b"true", b"false", b"null")):
        return Shape(refusal=gettext("the file is JSON, but a single value, not an object: %(expected)s")
                     % {"expected": expected()})
    return Shape(refusal=gettext("the file is not JSON (it is %(what)s): %(expected)s")
                 % {"what": what_it_is(head), "expected": expected()})


def _object_prefix(head: bytes) -> str:
    """A top-level JSON object: a bundle when its "type" is "bundle" or it has an "objects" array before any "type";
    a single object when its "type" is anything else. Undecided within the head: read as a bundle (as before).

    ``basic_parse`` and a depth count rather than ``parse``: the prefixes ``parse`` builds grow with the nesting, and
    a head of deep nesting (a bundle built to break the depth limit) would cost quadratic time before the limit is
    even checked."""
    depth = 0
    key = ""
    try:
        for event, value in ijson.basic_parse(io.BytesIO(head)):
            if event in ("start_map", "start_array"):
                if depth == 1 and key == "objects" and event == "start_array":
                    return BUNDLE
                depth += 1
            elif event in ("end_map", "end_array"):
                depth -= 1
            elif depth == 1 and event == "map_key":
                key = value
                continue
            elif depth == 1 and key == "type" and event == "string":
                return BUNDLE if value == "bundle" else SINGLE
            if depth == 1:
                key = ""
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError, ValueError):
        pass  # the head ends mid-document, or the document breaks: the import says where
    return BUNDLE
