"""Threat search (issue 13, point 2): the one query behind the cyber page's search box (``/threats/cyber/?q=``) and
the STIX API's ``q`` and ``value`` (``/api/v1/stix/objects``).

What one query text finds, among the current versions the reader may see (``queries.visible_objects``: the label
rule and the relationship rule are in the same SQL, so no count, tab or page tells anything about hidden objects):

- **substring** of the name, description, aliases or an observable value, case-insensitive (``hugesoft`` finds the
  indicator ``[domain-name:value = 'hugesoft.org']``, ``Poison Ivy`` the malware), from the trigram index the store
  keeps (``store.SEARCH_INDEX``, ``kizuna.core.textsearch``) — when the text holds three letters or digits in a row;
  shorter text is looked up as an exact value only (``SearchPlan.text``);
- **exact value** of any observable kind (the text as typed and lower-cased);
- **parent domains**: ``www.hugesoft.org`` (also a URL's host or an e-mail address's domain) finds objects carrying
  ``hugesoft.org``; the other way round is a substring;
- **IP containment**, IPv4 and IPv6: an address or network finds the stored networks that contain it (each of its
  33 or 129 enclosing networks looked up exactly by its ``ip-range`` key, ``prepare.network_key``), and a network
  of at least /8 (IPv6: /32) also finds the addresses and networks inside it (one range of the same index);
- **hashes**: an MD5, SHA-1, SHA-256 or SHA-512 finds the objects carrying it and, through the *visible* files and
  indicators that carry it, the objects carrying any other hash of the same file. Only visible objects bridge: a
  hidden file must not reveal that two hashes belong together.

Every branch is an indexed look-up; they are joined as one ``pk IN (... UNION ALL ...)`` subquery inside the
visible query, and ordered and paged by the caller (``kizuna.core.paging.keyset_page``). ``match_reasons`` says,
for the rows of a page, why each matched.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext

from kizuna.core.textsearch import searchable
from kizuna.labels import Subject
from kizuna.threats.models import ObservableValue, StixObject
from kizuna.threats.prepare import FILE_HASHES, IP_RANGE, MAX_VALUE, SCO_VALUE_TYPES, network_key
from kizuna.threats.queries import visible_objects
from kizuna.threats.store import SEARCH_INDEX

MAX_QUERY = 512  # characters: the longest stored value; longer text is cut (the page's form refuses it)
HASH_KINDS: tuple[str, ...] = tuple(sorted(set(FILE_HASHES.values())))
# Every kind an exact value look-up names, so that the (kind, value) index answers it (value alone is not indexed).
VALUE_KINDS: tuple[str, ...] = tuple(sorted({*SCO_VALUE_TYPES, *HASH_KINDS}))
# The widest networks whose contents are searched (a range of the index): wider ones would read a large part of
# the store; they still find the networks that contain them.
MIN_INSIDE_PREFIX = {4: 8, 6: 32}
# Objects through which a hash finds the other hashes of the same file, and hashes found so.
MAX_HASH_BRIDGES = 50
MAX_HASHES = 200
_HASH = re.compile(r"[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128}")
_DOMAIN = re.compile(r"[^\s/@:\\\"'<>*?%]+(\.[^\s/@:\\\"'<>*?%.]+)+")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class SearchPlan:
    """What one query text is searched as (``plan``): built without the database."""

    query: str  # as typed, trimmed and cleaned
    needle: str = ""  # lower-cased, for the substring index; "" when the text is too short for it
    values: tuple[str, ...] = ()  # exact values: as typed and lower-cased
    domains: tuple[str, ...] = ()  # the domain typed (or of the URL or e-mail address typed) and its parents
    network: Network | None = None  # the address (as /32 or /128) or network typed
    containing: tuple[str, ...] = ()  # ip-range keys of the networks that contain ``network``, itself included
    inside: tuple[str, str] | None = None  # bounds of the ip-range keys that lie inside ``network``
    hash: str = ""  # the hash typed, lower-cased

    @property
    def text(self) -> bool:
        """Whether the substring index is searched (otherwise: exact values, domains, addresses and hashes only)."""
        return bool(self.needle)

    @property
    def empty(self) -> bool:
        return not self.query


def clean(query: str) -> str:
    """The query text as searched: trimmed, at most ``MAX_QUERY`` characters, without NUL characters (no database
    text holds them) or lone surrogates (not UTF-8)."""
    text = query.strip()[:MAX_QUERY].replace("\x00", "")
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text.strip()


def _parents(domain: str) -> list[str]:
    """``www.a.example`` -> [``www.a.example``, ``a.example``]: the name and its parents of at least two labels."""
    labels = domain.strip(".").split(".")
    if len(labels) < 2 or not all(labels):
        return []
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def _domain_of(text: str) -> str:
    """The domain name in a query: the text itself, a URL's host, or an e-mail address's domain ("" for none)."""
    if "://" in text:
        try:
            return (urlsplit(text).hostname or "").lower()
        except ValueError:
            return ""
    if text.count("@") == 1:
        text = text.split("@", 1)[1]
    return text.lower() if _DOMAIN.fullmatch(text) else ""


def _network(text: str) -> Network | None:
    try:
        if "/" in text:
            return ipaddress.ip_network(text, strict=False)
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return ipaddress.ip_network(address)


def plan(query: str) -> SearchPlan:
    """How ``query`` is searched (see the module docstring)."""
    text = clean(query)
    if not text:
        return SearchPlan(query="")
    lower = text.lower()
    network = _network(text)
    containing: tuple[str, ...] = ()
    inside: tuple[str, str] | None = None
    domains: tuple[str, ...] = ()
    if network is not None:
        containing = tuple(network_key(network.supernet(new_prefix=p)) for p in range(network.prefixlen + 1))
        if network.num_addresses > 1 and network.prefixlen >= MIN_INSIDE_PREFIX[network.version]:
            first, last = network_key(network), network_key(ipaddress.ip_network(network.broadcast_address))
            # Keys are "<family>:<hex>/<prefix>": from the first address with any prefix to the last with any.
            inside = (first.split("/")[0] + "/", last.split("/")[0] + "/999")
    else:
        domain = _domain_of(text)
        domains = tuple(_parents(domain)) if domain else ()
    return SearchPlan(
        query=text,
        needle=lower if searchable(lower) else "",
        values=tuple(sorted({text, lower})) if len(text) <= MAX_VALUE else (),
        domains=domains,
        network=network,
        containing=containing,
        inside=inside,
        hash=lower if _HASH.fullmatch(lower) else "",
    )


@dataclass
class Search:
    """A search for one reader: its plan, the hashes it looks for, and the queryset of what it finds (visible
    current objects, unordered: callers page it)."""

    plan: SearchPlan
    hashes: tuple[str, ...]
    objects: QuerySet[StixObject]


def _same_file_hashes(subject: Subject, hash_value: str) -> tuple[str, ...]:
    """``hash_value`` and the other hashes carried by the visible objects that carry it (a file's MD5, SHA-1 and
    SHA-256; an indicator comparing several). Bridges are visible objects only, at most ``MAX_HASH_BRIDGES``."""
    holders = ObservableValue.objects.filter(kind__in=HASH_KINDS, value=hash_value).values("obj_id")
    bridges = list(visible_objects(subject, include_revoked=True).filter(pk__in=holders)
                   .order_by("-pk").values_list("pk", flat=True)[:MAX_HASH_BRIDGES])
    found = {hash_value}
    if bridges:
        found.update(ObservableValue.objects.filter(obj_id__in=bridges, kind__in=HASH_KINDS)
                     .values_list("value", flat=True)[:MAX_HASHES])
    return tuple(sorted(found))


def _in(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(["%s"] * len(values))


def candidates_sql(search_plan: SearchPlan, hashes: tuple[str, ...] = ()) -> tuple[str, list[Any]]:
    """One subquery of the primary keys of every stored object (current or not, visible or not: the caller's
    queryset decides) that any branch of the plan matches; ("", []) when the plan matches nothing."""
    table = connection.ops.quote_name(ObservableValue._meta.db_table)
    parts: list[str] = []
    params: list[Any] = []
    values = tuple(sorted({*search_plan.values, *hashes}))
    if values:
        parts.append(f"SELECT obj_id FROM {table} WHERE kind IN ({_in(VALUE_KINDS)}) "  # noqa: S608 - fixed names
                     f"AND value IN ({_in(values)})")
        params += [*VALUE_KINDS, *values]
    if search_plan.domains:
        parts.append(f"SELECT obj_id FROM {table} WHERE kind = %s "  # noqa: S608 - fixed names, parameters
                     f"AND value IN ({_in(search_plan.domains)})")
        params += ["domain-name", *search_plan.domains]
    if search_plan.containing:
        parts.append(f"SELECT obj_id FROM {table} WHERE kind = %s "  # noqa: S608 - fixed names, parameters
                     f"AND value IN ({_in(search_plan.containing)})")
        params += [IP_RANGE, *search_plan.containing]
    if search_plan.inside:
        parts.append(f"SELECT obj_id FROM {table} WHERE kind = %s AND value BETWEEN %s AND %s")  # noqa: S608
        params += [IP_RANGE, *search_plan.inside]
    if search_plan.text:
        sql, text_params = SEARCH_INDEX.matching_sql(search_plan.needle)
        parts.append(sql)
        params += text_params
    return " UNION ALL ".join(parts), params


def search(subject: Subject, query: str, *, types: list[str] | None = None) -> Search:
    """The visible current objects ``query`` finds (see the module docstring), unordered."""
    search_plan = plan(query)
    hashes = _same_file_hashes(subject, search_plan.hash) if search_plan.hash else ()
    sql, params = candidates_sql(search_plan, hashes)
    if not sql:
        return Search(search_plan, hashes, StixObject.objects.none())
    found = visible_objects(subject, types=types).filter(pk__in=RawSQL(sql, params))  # noqa: S611 - fixed SQL, parameters
    return Search(search_plan, hashes, found)


def _cidr(key: str) -> str:
    """The network an ip-range key stands for, in the usual notation (an address without its /32 or /128)."""
    family, rest = key.split(":", 1)
    start, prefix = rest.split("/")
    number = int(start, 16)
    address = ipaddress.IPv4Address(number) if family == "4" else ipaddress.IPv6Address(number)
    network = ipaddress.ip_network(f"{address}/{int(prefix)}")
    return str(address) if network.num_addresses == 1 else str(network)


def _text_reason(search_plan: SearchPlan, obj: StixObject) -> str:
    needle = search_plan.needle
    if needle in obj.name.lower():
        return gettext("name contains “%(text)s”") % {"text": search_plan.query}
    try:
        data = json.loads(obj.data)
    except ValueError:
        data = {}
    if isinstance(data, dict):
        description = data.get("description")
        if isinstance(description, str) and needle in description.lower():
            return gettext("description contains “%(text)s”") % {"text": search_plan.query}
        aliases = data.get("aliases")
        if isinstance(aliases, list) and any(isinstance(a, str) and needle in a.lower() for a in aliases):
            return gettext("an alias contains “%(text)s”") % {"text": search_plan.query}
    return gettext("a value contains “%(text)s”") % {"text": search_plan.query}


def match_reasons(found: Search, objects: list[StixObject]) -> dict[int, list[str]]:
    """For the objects of one page (already visible to the reader), why each matched: "carries the value …",
    "in network 58.246.0.0/15", "in domain hugesoft.org", "same file: SHA-256 …", "name contains …". One query."""
    search_plan = found.plan
    if not objects or search_plan.empty:
        return {}
    reasons: dict[int, list[str]] = {o.pk: [] for o in objects}
    exact = set(search_plan.values)
    domains = set(search_plan.domains[1:])  # the typed domain itself is an exact value
    containing = set(search_plan.containing)
    own = network_key(search_plan.network) if search_plan.network is not None else ""
    hashes = set(found.hashes) - {search_plan.hash}
    rows = ObservableValue.objects.filter(obj_id__in=list(reasons)).values_list("obj_id", "kind", "value")
    for obj_id, kind, value in rows.order_by("obj_id", "kind", "value"):
        reason = ""
        if kind == IP_RANGE:
            if value in containing and value != own:
                reason = gettext("in network %(network)s") % {"network": _cidr(value)}
            elif (search_plan.inside and search_plan.inside[0] <= value <= search_plan.inside[1]
                  and value != own):
                reason = gettext("%(address)s is inside %(network)s") % {"address": _cidr(value),
                                                                       "network": search_plan.query}
        elif value in exact:
            reason = gettext("carries the value %(value)s") % {"value": value}
        elif kind == "domain-name" and value in domains:
            reason = gettext("in domain %(domain)s") % {"domain": value}
        elif kind in HASH_KINDS and value in hashes:
            reason = gettext("same file: %(kind)s %(hash)s") % {"kind": kind.removeprefix("file:"), "hash": value}
        if reason and reason not in reasons[obj_id]:
            reasons[obj_id].append(reason)
    if search_plan.text:
        for obj in objects:
            if not reasons[obj.pk]:
                reasons[obj.pk].append(_text_reason(search_plan, obj))
    return reasons
