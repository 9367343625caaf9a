"""``find``: one label-safe search over every searchable record type (issue 14).

What one query finds, among the entries whose label the subject may see — the label rule is a condition of the same
SQL (``kizuna.core.access.visible_labels(subject).q``), so no hit, count, facet or page position depends on a record
the subject may not see:

- every word of the query, each a case-insensitive substring of the record's title or text (a trigram look-up in
  ``TEXT_INDEX``); a quoted "phrase" is one substring; a trailing ``*`` is dropped (a substring is already a
  prefix); at most ``MAX_QUERY`` characters and ``MAX_TERMS`` words are read;
- **or** any of the glossary's equivalents of the query in the other languages (``kizuna.glossary.expand``, from the
  terms the subject may see), each one substring.

A word of fewer than three letters or digits in a row (e.g. the two-character Japanese or Korean word 防衛, 방어)
gives no trigram: it is checked row by row (``instr``/``strpos`` on the entry's text, probed by key), which is
cheap when another word narrows the rows and reads every visible entry when none does. Glossary equivalents that
short are not used.

Cost bound: one query (label rule and text conditions together) fetches the keys of the newest ``MAX_CANDIDATES``
visible matches; the total, the facets and the relevance order are computed over those keys only (``capped`` says
when there were more: the page then says "2000+"). Sorting by date pages over every match (keyset).

Relevance: a word in the title counts 2, in the text 1, summed over the query's words and equivalents; then newest
first. Date: newest first. Facets (type, area, nation, year, label) count the same visible matches, before the
facet filters. Threat objects are found by the threat search (``kizuna.threats.search``) and reported as a count with
a link to the threat search page rather than merged (they are paged and ranked by their own rules).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode

from django.apps import apps
from django.db import connection
from django.db.models import BooleanField, Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import ExtractYear
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from kizuna.core import registry
from kizuna.core.access import visible_labels
from kizuna.core.errors import ServiceError
from kizuna.core.focus import FocusArea
from kizuna.core.models import LabelRecord
from kizuna.core.registry import Searchable
from kizuna.core.textsearch import searchable
from kizuna.glossary import expand
from kizuna.labels import Subject
from kizuna.search.index import TEXT_INDEX
from kizuna.search.models import SearchEntry
from kizuna.threats.search import search as threat_search

MAX_QUERY = 200  # characters of the query read
MAX_TERMS = 10  # words (and phrases) searched
MAX_EXPANSIONS = 10  # glossary equivalents searched
MAX_LIMIT = 100
MAX_CANDIDATES = 2000  # visible matches (newest first) that totals, facets and relevance are computed over
MAX_OFFSET = MAX_CANDIDATES - MAX_LIMIT  # relevance pages beyond this are refused: refine, or sort by date
FACET_SIZE = 20  # values shown per facet
THREAT_COUNT_CAP = 1000  # threat objects counted ("1000+" beyond)
SNIPPET_BEFORE, SNIPPET_AFTER = 60, 160
Sort = Literal["relevance", "date"]
_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class Hit:
    """One record found: what the results page and the API show of it. ``snippet`` is HTML: the record's text
    escaped, each match wrapped in ``<mark>``."""

    kind: str
    kind_name: str
    record_id: int
    title: str
    url: str
    snippet: SafeString
    label: LabelRecord
    date: datetime
    area: str
    nation: str


@dataclass(frozen=True)
class FacetValue:
    value: str
    name: str
    count: int


@dataclass(frozen=True)
class ThreatLink:
    """How many visible threat objects the threat search finds for the query (capped), and its page."""

    count: int
    capped: bool
    url: str


@dataclass
class Results:
    query: str
    terms: tuple[str, ...]
    expansions: tuple[str, ...]
    hits: list[Hit]
    total: int
    next_cursor: str | None
    sort: Sort
    capped: bool = False  # more than MAX_CANDIDATES visible matches: total and facets count the newest of them
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    threats: ThreatLink | None = None


def clean(query: str) -> str:
    """The query as searched: at most ``MAX_QUERY`` characters, no NUL (no stored text holds one), no lone
    surrogates (not UTF-8), trimmed."""
    text = query[:MAX_QUERY].replace("\x00", " ")
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text.strip()


def terms_of(query: str) -> tuple[str, ...]:
    """The lower-cased needles of a cleaned query: its words and "quoted phrases", a trailing ``*`` dropped,
    duplicates dropped, at most ``MAX_TERMS``."""
    found: list[str] = []
    for match in _TOKEN.finditer(query.lower()):
        phrase, word = match.group(1), match.group(2)
        needle = " ".join((phrase if phrase is not None else word).split()).rstrip("*").strip()
        if word is not None:
            needle = needle.strip('"')
        if needle and needle not in found:
            found.append(needle)
        if len(found) >= MAX_TERMS:
            break
    return tuple(found)


def _entry_table() -> str:
    return connection.ops.quote_name(SearchEntry._meta.db_table)


def _probe(needle: str) -> RawSQL:
    """True for an entry whose text contains ``needle``, checked on that entry's indexed text alone (looked up by
    key): for needles too short for the trigram index."""
    if connection.vendor == "sqlite":
        sql = (f"EXISTS (SELECT 1 FROM {TEXT_INDEX.table} kz_s WHERE kz_s.rowid = {_entry_table()}.id "  # noqa: S608
               "AND instr(kz_s.body, %s) > 0)")
    else:
        sql = (f"EXISTS (SELECT 1 FROM {TEXT_INDEX.table} kz_s WHERE kz_s.obj_id = {_entry_table()}.id "  # noqa: S608
               "AND strpos(kz_s.body, %s) > 0)")
    return RawSQL(sql, [needle], output_field=BooleanField())  # noqa: S611 - fixed names; the needle is a parameter


def _contains(needle: str) -> Q:
    if searchable(needle):
        return Q(pk__in=TEXT_INDEX.matching(needle))
    return Q(_probe(needle))


def _match_q(terms: tuple[str, ...], expansions: tuple[str, ...]) -> Q | None:
    """All the query's words, or any equivalent; None when there is nothing to search for."""
    branches: list[Q] = []
    if terms:
        every = Q()
        for term in terms:
            every &= _contains(term)
        branches.append(every)
    branches.extend(Q(pk__in=TEXT_INDEX.matching(e)) for e in expansions)
    if not branches:
        return None
    result = branches[0]
    for branch in branches[1:]:
        result |= branch
    return result


def _score(needles: tuple[str, ...]) -> Any:
    total: Any = Value(0)
    for needle in needles:
        total = total + Case(When(title_key__contains=needle, then=Value(2)), default=Value(0),
                             output_field=IntegerField())
        # Probed on each candidate's own text by key: the candidates are at most MAX_CANDIDATES rows, whereas the
        # index look-up of a common word reads a large part of the index again.
        total = total + Case(When(Q(_probe(needle)), then=Value(1)), default=Value(0), output_field=IntegerField())
    return total


def _encode(sort: Sort, value: str) -> str:
    return base64.urlsafe_b64encode(f"{sort}|{value}".encode()).decode().rstrip("=")


def _decode(cursor: str, sort: Sort) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, value = raw.split("|", 1)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        kind, value = "", ""
    if kind != sort:
        raise ServiceError(gettext("the page cursor is not valid; start again from the first page"), "cursor")
    return value


def _spec_by_key() -> dict[str, tuple[str, Searchable]]:
    return {s.key: (rt.model, s) for rt, s in registry.searchable_types()}


def _snippet(text: str, needles: tuple[str, ...]) -> SafeString:
    """A window of ``text`` around the first match of any needle, escaped, every match in it in ``<mark>``."""
    usable = [n for n in sorted(needles, key=len, reverse=True) if n]
    pattern = re.compile("|".join(re.escape(n) for n in usable), re.IGNORECASE) if usable else None
    first = pattern.search(text) if pattern else None
    start = max(0, first.start() - SNIPPET_BEFORE) if first else 0
    end = min(len(text), (first.end() if first else 0) + SNIPPET_AFTER)
    window = " ".join(text[start:end].split(" "))
    parts: list[str] = ["…" if start > 0 else ""]
    position = 0
    for match in pattern.finditer(window) if pattern else ():
        parts.append(escape(window[position : match.start()]))
        parts.append(f"<mark>{escape(match.group(0))}</mark>")
        position = match.end()
    parts.append(escape(window[position:]))
    parts.append("…" if end < len(text) else "")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of record text above is escaped


def _record_text(obj: Any, spec: Searchable) -> str:
    if spec.text is not None:
        return spec.text(obj)
    return "\n".join(str(getattr(obj, f, "") or "") for f in spec.fields)


def _hits(subject: Subject, entries: list[SearchEntry], needles: tuple[str, ...]) -> list[Hit]:
    """The page's entries as hits: each record read again from the enforcement point (``visible_to``), for its
    text (the snippet) and its page's URL."""
    specs = _spec_by_key()
    records: dict[tuple[str, int], Any] = {}
    by_kind: dict[str, list[int]] = {}
    for entry in entries:
        by_kind.setdefault(entry.kind, []).append(entry.record_id)
    for kind, ids in by_kind.items():
        if kind not in specs:
            continue
        model_name, spec = specs[kind]
        model: Any = apps.get_model(model_name)
        for obj in model.objects.visible_to(subject).select_related(*spec.select_related).filter(pk__in=ids):
            records[(kind, obj.pk)] = obj
    hits: list[Hit] = []
    for entry in entries:
        obj = records.get((entry.kind, entry.record_id))
        if obj is None:  # deleted since the entry was read (the same transaction would have removed the entry)
            continue
        spec = specs[entry.kind][1]
        hits.append(Hit(kind=entry.kind, kind_name=str(spec.name), record_id=entry.record_id, title=entry.title,
                        url=spec.url(obj), snippet=_snippet(_record_text(obj, spec), needles), label=entry.label,
                        date=entry.date, area=entry.area, nation=entry.nation))
    return hits


def _facets(matched: QuerySet[SearchEntry]) -> dict[str, list[FacetValue]]:
    specs = _spec_by_key()
    facets: dict[str, list[FacetValue]] = {}

    def counts(column: str, qs: Any) -> list[tuple[Any, int]]:
        rows = qs.values(column).annotate(n=Count("id")).order_by("-n", column)[:FACET_SIZE]
        return [(r[column], r["n"]) for r in rows]

    facets["type"] = [FacetValue(k, str(specs[k][1].name) if k in specs else k, n)
                      for k, n in counts("kind", matched)]
    areas = dict(FocusArea.choices)
    facets["area"] = [FacetValue(a, str(areas.get(a, a)), n) for a, n in counts("area", matched) if a]
    facets["nation"] = [FacetValue(c, c, n) for c, n in counts("nation", matched) if c]
    years = matched.annotate(year=ExtractYear("date"))
    facets["year"] = sorted((FacetValue(str(y), str(y), n) for y, n in counts("year", years)),
                            key=lambda f: f.value, reverse=True)
    label_counts = counts("label_id", matched)
    names = dict(LabelRecord.objects.filter(pk__in=[pk for pk, _n in label_counts]).values_list("pk", "display"))
    facets["label"] = [FacetValue(str(pk), names.get(pk, ""), n) for pk, n in label_counts]
    return facets


def _threats(subject: Subject, query: str) -> ThreatLink | None:
    """The threat search's count for the query (visible objects only: its own query applies the label rule)."""
    text = query.replace('"', " ").strip()
    if not text:
        return None
    found = threat_search(subject, text)
    count = len(found.objects.values_list("pk", flat=True)[: THREAT_COUNT_CAP + 1])
    if not count:
        return None
    return ThreatLink(min(count, THREAT_COUNT_CAP), count > THREAT_COUNT_CAP,
                      reverse("threats:cyber") + "?" + urlencode({"q": text}))


def find(
    subject: Subject,
    query: str,
    *,
    types: list[str] | None = None,
    area: str | None = None,
    nation: str | None = None,
    label: int | None = None,
    year: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sort: Sort = "relevance",
    cursor: str | None = None,
    limit: int = 20,
    facets: bool = True,
    threats: bool = True,
) -> Results:
    """One page of what ``query`` finds for ``subject`` (see the module docstring)."""
    if limit < 1 or limit > MAX_LIMIT:
        raise ServiceError(gettext("limit must be between 1 and %(max)d") % {"max": MAX_LIMIT}, "limit")
    if sort not in ("relevance", "date"):
        raise ServiceError(gettext("sort must be relevance or date"), "sort")
    text = clean(query)
    terms = terms_of(text)
    expansions: tuple[str, ...] = ()
    if text:
        lowered = [e.lower() for e in expand(subject, text)]
        expansions = tuple(e for e in dict.fromkeys(lowered) if searchable(e) and e not in terms)[:MAX_EXPANSIONS]
    empty = Results(text, terms, expansions, [], 0, None, sort)
    condition = _match_q(terms, expansions)
    if condition is None:
        return empty
    visible = visible_labels(subject).q("label")
    matched = SearchEntry.objects.filter(visible).filter(condition)
    filters = Q()
    if types:
        filters &= Q(kind__in=types)
    if area:
        filters &= Q(area=area)
    if nation:
        filters &= Q(nation=nation)
    if label is not None:
        filters &= Q(label_id=label)
    if year is not None:
        filters &= Q(date__year=year)
    if since is not None:
        filters &= Q(date__gte=since)
    if until is not None:
        filters &= Q(date__lt=until)
    # The cost bound: one query finds the newest MAX_CANDIDATES + 1 visible matches (label rule and text conditions
    # in the same SQL); the total, the relevance order and the facets are then computed over those keys only.
    pool_ids = _newest(matched.filter(filters))
    capped = len(pool_ids) > MAX_CANDIDATES
    pool_ids = pool_ids[:MAX_CANDIDATES]
    facet_ids = pool_ids if not filters else _newest(matched)[:MAX_CANDIDATES]
    pool = SearchEntry.objects.filter(visible).filter(pk__in=pool_ids)
    needles = terms + expansions
    next_cursor: str | None = None
    if sort == "date":
        page_qs = matched.filter(filters).order_by("-date", "-id")
        if cursor:
            stamp, _sep, pk = _decode(cursor, sort).rpartition("|")
            try:
                at, last = datetime.fromisoformat(stamp), int(pk)
            except ValueError:
                raise ServiceError(gettext("the page cursor is not valid; start again from the first page"),
                                   "cursor") from None
            page_qs = page_qs.filter(Q(date__lt=at) | Q(date=at, id__lt=last))
        rows = list(page_qs.select_related("label")[: limit + 1])
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = _encode(sort, f"{rows[-1].date.isoformat()}|{rows[-1].pk}")
    else:
        offset = 0
        if cursor:
            try:
                offset = int(_decode(cursor, sort))
            except ValueError:
                offset = -1
            if not 0 <= offset <= MAX_OFFSET:
                raise ServiceError(gettext("the page cursor is not valid; start again from the first page"), "cursor")
        ranked = pool.annotate(score=_score(needles)).order_by("-score", "-date", "-id")
        rows = list(ranked.select_related("label")[offset : offset + limit + 1])
        if len(rows) > limit:
            rows = rows[:limit]
            if offset + limit <= MAX_OFFSET:
                next_cursor = _encode(sort, str(offset + limit))
    results = Results(text, terms, expansions, _hits(subject, rows, needles), len(pool_ids), next_cursor, sort,
                      capped=capped)
    if facets:
        results.facets = _facets(SearchEntry.objects.filter(visible).filter(pk__in=facet_ids))
    if threats:
        results.threats = _threats(subject, text)
    return results


def _newest(matches: QuerySet[SearchEntry]) -> list[int]:
    """The keys of the newest ``MAX_CANDIDATES + 1`` entries of an already visible-filtered queryset."""
    return list(matches.order_by("-date", "-id").values_list("pk", flat=True)[: MAX_CANDIDATES + 1])
