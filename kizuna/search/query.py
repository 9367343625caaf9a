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

Cost bound: the newest ``POOL`` visible matches are found first (``_newest``: the whole match list when the query is
rare, else windows of the newest entries walked newest first, each window's labels decided once); the total, the
facets and the relevance order are computed over those rows only (``capped`` says when there were more: the page
then says "200+"). Sorting by date pages over every match (keyset), each page found the same way.

Relevance: a word in the title counts 2, in the text 1, summed over the query's words and equivalents; then newest
first. Date: newest first. Facets (type, area, nation, year, label) count the same visible matches, before the
facet filters.

Threat objects are among the hits (type ``threat``, area ``cyber``), found by the threat search
(``kizuna.threats.search.search``: the whole text as one substring of a name, description, alias or value, or an
exact value, a parent domain, a containing network, a hash of the same file — its own rules, not word by word nor
through the glossary). Its queryset applies the label and relationship rules in the query
(``kizuna.threats.queries.visible_objects``); Kizuna's own record types and the meta types are left out
(``queries.not_threat_types``: reports and the others are found as entries). The rule of merging:

- **Candidates**: the newest ``MAX_THREATS`` visible matches, by the cyber page's order (``created_at``, then id,
  newest first; ``created_at`` — when this node stored the current version — is the hit's date). The total, the
  facets and the relevance order count those only (``capped`` when there were more). Facet filters apply in the
  query: ``type`` other than ``threat`` or ``area`` other than ``cyber`` leaves none; ``nation`` is the originating
  organisation's nation (``NATO`` for a NATO body); ``label``, ``year``, ``since``, ``until`` as for entries.
- **Relevance**: a threat object scores like an entry whose title is its name and whose text is its name,
  description and aliases: per word and equivalent, 2 in the name, 1 in that text; at least 1 (it matched by a value,
  a network or a hash). Merged with the entries' ranking by score, then date, then entries before threat objects,
  then id (all newest first); the offset cursor pages the merged list.
- **Date**: one order over both sources, (date, source, id) newest first, entries before threat objects at the same
  instant; the cursor holds the last hit's date, source and id, and each source is read from there with its own
  keyset, so the date order pages over every visible match of both (not only the candidates).

``threats=False`` runs no threat search at all: no threat hit, facet count or link. The count and link to the
threat search page (``ThreatLink``, the same search) are kept.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Literal
from urllib.parse import urlencode

from django.apps import apps
from django.db import connection
from django.db.models import BooleanField, Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
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
from kizuna.directory.models import Organisation
from kizuna.glossary import expand
from kizuna.labels import Subject
from kizuna.search.index import TEXT_INDEX
from kizuna.search.models import SearchEntry
from kizuna.search.suggest import suggestion
from kizuna.threats.models import StixObject
from kizuna.threats.queries import not_threat_types
from kizuna.threats.search import Search as ThreatSearch
from kizuna.threats.search import search as threat_search

MAX_QUERY = 200  # characters of the query read
MAX_TERMS = 10  # words (and phrases) searched
MAX_EXPANSIONS = 10  # glossary equivalents searched
MAX_LIMIT = 100
POOL = 200  # visible matches (newest first) that the total, the facets and the relevance order are computed over
MAX_OFFSET = POOL - MAX_LIMIT  # relevance pages beyond this are refused: refine, or sort by date
RARE = 250  # texts a needle is found in, under which its whole match list is read (``_Match.rare``)
WINDOWS = (30_000, 70_000)  # entries walked newest first, window after window, before the whole index is read
KNOWN_LABELS = 5_000  # newest entries whose labels are decided once per statement (visible_q_known)
WINDOW_SLACK = 1.0  # a window is walked when the density so far would fill the page within it
FACET_SIZE = 20  # values shown per facet
THREAT_COUNT_CAP = 1000  # threat objects counted ("1000+" beyond)
MAX_THREATS = 200  # visible matching threat objects (newest first) merged into the hits, totals, facets and relevance
THREAT_KIND = "threat"  # the type key of a threat object among the hits (``type=threat``)
THREAT_AREA = FocusArea.CYBER.value  # the area of every threat object hit
SNIPPET_BEFORE, SNIPPET_AFTER = 60, 160
Sort = Literal["relevance", "date"]
_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
_MARKDOWN = re.compile(r"\*\*|__|^[ \t]*#{1,6}[ \t]+|^[ \t]*[-*+][ \t]+|^[ \t]*>[ \t]?", re.MULTILINE)


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
    stix_id: str = ""  # a threat object's STIX id ("" for other hits)


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
    capped: bool = False  # more than POOL visible matches: the total and the facets count the newest POOL
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    threats: ThreatLink | None = None
    suggestion: str | None = None  # "did you mean": only when nothing is found (kizuna.search.suggest)


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


def _key() -> str:
    """The entries' key column, quoted, as the text index's conditions name it."""
    return f"{_entry_table()}.{connection.ops.quote_name('id')}"


def _probe(needle: str) -> RawSQL:
    """True for an entry whose text contains ``needle``, checked on that entry's indexed text alone (looked up by
    key): for needles too short for the trigram index, and for ranking a few candidates."""
    return TEXT_INDEX.probe(_key(), every=(needle,))


@dataclass(frozen=True)
class _Match:
    """What a query matches: every one of ``terms``, or any one of ``expansions`` (each a lower-cased substring),
    written the two ways ``_newest`` uses."""

    terms: tuple[str, ...]
    expansions: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.terms or self.expansions)

    def index_q(self) -> Q:
        """From the trigram index: ``pk IN (look-up)`` per needle (a short term is probed row by row)."""
        branches: list[Q] = []
        if self.terms:
            every = Q()
            for term in self.terms:
                every &= Q(TEXT_INDEX.contains(_key(), term)) if searchable(term) else Q(_probe(term))
            branches.append(every)
        branches.extend(Q(TEXT_INDEX.contains(_key(), e)) for e in self.expansions)
        result = branches[0]
        for branch in branches[1:]:
            result |= branch
        return result

    def probe(self) -> RawSQL:
        """Row by row: one look-up of each entry's text, for entries reached newest first."""
        return TEXT_INDEX.probe(_key(), self.terms, self.expansions)

    @cached_property
    def rare(self) -> bool:
        """True when the whole match list is small (under ``RARE`` per branch): some term of the query, and every
        expansion, is found in fewer than ``RARE`` texts. Each count stops at ``RARE``, so asking costs little."""
        if self.terms and not any(searchable(t) and TEXT_INDEX.count_upto(t, RARE) < RARE for t in self.terms):
            return False
        return all(TEXT_INDEX.count_upto(e, RARE) < RARE for e in self.expansions)


_NEWEST_FIRST = ("-date", "-id")
Row = tuple[int, str, str, str, datetime, int]  # pk, kind, area, nation, date, label id
_ROW_FIELDS = ("pk", "kind", "area", "nation", "date", "label_id")


def _at_or_after(edge: tuple[datetime, int]) -> Q:
    # The range on date keeps the (date, id) index usable; the OR only breaks ties within one instant.
    return Q(date__gte=edge[0]) & (Q(date__gt=edge[0]) | Q(id__gte=edge[1]))


def _before(edge: tuple[datetime, int]) -> Q:
    return Q(date__lte=edge[0]) & (Q(date__lt=edge[0]) | Q(id__lt=edge[1]))


def _rows_of(matches: QuerySet[SearchEntry], count: int, visible: Q) -> list[Row]:
    """The newest ``count`` rows of an index read (the trigram index's matches): the keys first — on PostgreSQL each
    match's date and label are read from the key index (migration search/0004), not from its row —, then the rows
    of those keys."""
    # Ordered by an expression no index gives (COALESCE(date, date)), so that no database walks the (date, id) index
    # and probes each entry's text — what the windows did already — but reads the matches from the trigram index:
    # PostgreSQL chose the walk for a word in 1% of the entries, 203,000 entries for 201 matches (57 ms, against
    # 35 ms for the index read).
    newest = matches.order_by(Coalesce("date", "date").desc(), "-id")
    keys = list(newest.values_list("pk", flat=True)[:count])
    by_key = {row[0]: row for row in SearchEntry.objects.filter(visible, pk__in=keys).values_list(*_ROW_FIELDS)}
    return [by_key[k] for k in keys if k in by_key]


def _newest(subject: Subject, match: _Match, filters: Q, count: int,
            before: tuple[datetime, int] | None = None) -> list[Row]:
    """The newest ``count`` entries (before ``before``, in (date, id) order) that ``subject`` may see, that pass
    ``filters`` and that ``match`` finds — the label rule inside each query. Which plan, by cost:

    - a **rare** query (``_Match.rare``): every match read from the trigram index, the label probed on each —
      cheap because there are few;
    - otherwise **windows** of the newest entries (``WINDOWS``), walked newest first: the labels of a window decided
      once each (``visible_labels(...).within``), the text of each visible entry probed by key, stopping at
      ``count``. A common word is found in the first window; the next window is walked only when the matches of
      the windows before it say it should fill the page (``WINDOW_SLACK``);
    - what the windows did not fill: the index read over the entries older than the last window.
    """
    # The label rule, decided once per statement for the labels of the newest KNOWN_LABELS entries (most entries
    # walked carry one of them); any other label by the per-row EXISTS. The same set of rows as visible_q.
    recent_labels = SearchEntry.objects.order_by(*_NEWEST_FIRST).values_list("label_id", flat=True)[:KNOWN_LABELS]
    visible = visible_labels(subject).q_known(recent_labels)
    scope = Q() if before is None else _before(before)
    if match.rare:
        return _rows_of(SearchEntry.objects.filter(scope, visible, filters, match.index_q()), count, visible)
    found: list[Row] = []
    walked = 0
    for size in WINDOWS:
        # Walk the next window only when the matches found so far say it should fill the page: otherwise the
        # matches are too sparse for walking to pay, and the index read below costs less.
        if walked and (count - len(found)) * walked > size * len(found) * WINDOW_SLACK:
            break
        edges = list(SearchEntry.objects.filter(scope).order_by(*_NEWEST_FIRST)
                     .values_list("date", "id")[size - 1 : size])
        window = SearchEntry.objects.filter(scope)
        if edges:
            window = window.filter(_at_or_after(edges[0]))
        # The label first, the text only then (CASE fixes the order: SQLite evaluated the text probe of every
        # entry of the window first when the label was an IN of a subquery, 3 times the walk's cost).
        rows = window.filter(filters, Case(When(visible, then=match.probe()), default=Value(False),
                                           output_field=BooleanField()))
        found.extend(rows.order_by(*_NEWEST_FIRST).values_list(*_ROW_FIELDS)[: count - len(found)])
        if len(found) >= count or not edges:  # enough, or the window reached the oldest entry
            return found
        scope &= _before(edges[0])
        walked += size
    found.extend(_rows_of(SearchEntry.objects.filter(scope, visible, filters, match.index_q()), count - len(found),
                          visible))
    return found


def _score(needles: tuple[str, ...]) -> Any:
    total: Any = Value(0)
    for needle in needles:
        total = total + Case(When(title_key__contains=needle, then=Value(2)), default=Value(0),
                             output_field=IntegerField())
        # Probed on each candidate's own text by key: the candidates are at most POOL rows, whereas the
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
    """A window of ``text`` around the first match of any needle, escaped, every match in it in ``<mark>``. Markdown's
    markers (headings, list bullets, bold) are dropped first: a snippet is read as plain text."""
    text = _MARKDOWN.sub("", text)
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


def _hits(subject: Subject, entries: list[SearchEntry], needles: tuple[str, ...]) -> dict[int, Hit]:
    """The page's entries as hits, by entry id: each record read again from the enforcement point
    (``visible_to``), for its text (the snippet) and its page's URL."""
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
    hits: dict[int, Hit] = {}
    for entry in entries:
        obj = records.get((entry.kind, entry.record_id))
        if obj is None:  # deleted since the entry was read (the same transaction would have removed the entry)
            continue
        spec = specs[entry.kind][1]
        hits[entry.pk] = Hit(kind=entry.kind, kind_name=str(spec.name), record_id=entry.record_id, title=entry.title,
                             url=spec.url(obj), snippet=_snippet(_record_text(obj, spec), needles),
                             label=entry.label, date=entry.date, area=entry.area, nation=entry.nation)
    return hits


def _facets(rows: list[Row]) -> dict[str, list[FacetValue]]:
    """Type, area, nation, year and label counts of ``rows`` (entries a visible-filtered query returned), the most
    frequent ``FACET_SIZE`` of each, ties by value; years newest first."""
    specs = _spec_by_key()

    def counts(values: list[Any]) -> list[tuple[Any, int]]:
        tally = Counter(v for v in values if v not in ("", None))
        return sorted(tally.items(), key=lambda item: (-item[1], item[0]))[:FACET_SIZE]

    areas = dict(FocusArea.choices)
    label_counts = counts([r[5] for r in rows])
    names = dict(LabelRecord.objects.filter(pk__in=[pk for pk, _n in label_counts]).values_list("pk", "display"))
    return {
        "type": [FacetValue(k, _kind_name(k, specs), n) for k, n in counts([r[1] for r in rows])],
        "area": [FacetValue(a, str(areas.get(a, a)), n) for a, n in counts([r[2] for r in rows])],
        "nation": [FacetValue(c, c, n) for c, n in counts([r[3] for r in rows])],
        "year": sorted((FacetValue(str(y), str(y), n)
                        for y, n in counts([timezone.localtime(r[4]).year for r in rows])),
                       key=lambda f: f.value, reverse=True),
        "label": [FacetValue(str(pk), names.get(pk, ""), n) for pk, n in label_counts],
    }


def _kind_name(kind: str, specs: dict[str, tuple[str, Searchable]]) -> str:
    if kind == THREAT_KIND:
        return gettext("Threat object")
    return str(specs[kind][1].name) if kind in specs else kind


# --- threat objects among the hits (see the module docstring) ------------------------------------------------------


@dataclass(frozen=True)
class _ThreatRow:
    """A threat candidate as ranking, facets and paging need it (read from the visible query)."""

    pk: int
    date: datetime
    name: str = ""
    text: str = ""  # name, description and aliases, lower-cased (relevance only)
    label_id: int = 0
    nation: str = ""


def _threat_text(query: str) -> str:
    """The text handed to the threat search: the cleaned query, quotes dropped (its rules know no phrases)."""
    return query.replace('"', " ").strip()


def _threat_matches(found: ThreatSearch) -> QuerySet[StixObject]:
    """The threat search's visible current objects, without Kizuna's own record types (found as entries) and the
    meta types: the label and relationship rules are in the query (``queries.visible_objects``)."""
    return found.objects.exclude(type__in=not_threat_types())


def _organisations_of(nation: str) -> QuerySet[Organisation]:
    """The organisations whose records carry ``nation`` as originating nation (as ``kizuna.search.index`` sets it)."""
    if nation == "NATO":
        return Organisation.objects.filter(nation__isnull=True, is_nato_body=True)
    return Organisation.objects.filter(nation_id=nation)


def _period(field: str, year: int | None, since: datetime | None, until: datetime | None) -> Q:
    """The year, since and until filters on the date column ``field`` (the entries' or the threat objects')."""
    condition = Q()
    if year is not None:
        condition &= Q(**{f"{field}__year": year})
    if since is not None:
        condition &= Q(**{f"{field}__gte": since})
    if until is not None:
        condition &= Q(**{f"{field}__lt": until})
    return condition


def _threat_filter(types: list[str] | None, area: str | None, nation: str | None, label: int | None,
                   year: int | None, since: datetime | None, until: datetime | None) -> Q | None:
    """The facet filters as conditions on threat objects; None when they leave none (another type or area)."""
    if types and THREAT_KIND not in types:
        return None
    if area and area != THREAT_AREA:
        return None
    condition = Q()
    if nation:
        condition &= Q(originator_id__in=_organisations_of(nation).values("pk"))
    if label is not None:
        condition &= Q(label_id=label)
    return condition & _period("created_at", year, since, until)


def _newest_threats(matches: QuerySet[StixObject]) -> list[int]:
    """The keys of the newest ``MAX_THREATS + 1`` threat objects of a visible queryset (the cyber page's order; keys
    only, no join, as ``kizuna.core.paging.keyset_page`` reads them)."""
    return list(matches.order_by("-created_at", "-id").values_list("pk", flat=True)[: MAX_THREATS + 1])


def _origin(nation_id: str | None, is_nato_body: bool | None) -> str:
    return str(nation_id or ("NATO" if is_nato_body else ""))


def _threat_rows(matches: QuerySet[StixObject], pks: list[int], *, text: bool) -> list[_ThreatRow]:
    """The candidates ``pks`` read again through the visible queryset, newest first; ``text``: with the lower-cased
    name, description and aliases (for relevance)."""
    if not pks:
        return []
    columns = ["pk", "created_at", "name", "label_id", "originator__nation_id", "originator__is_nato_body"]
    rows: list[_ThreatRow] = []
    for values in matches.filter(pk__in=pks).values_list(*columns, *(["data"] if text else [])):
        pk, created_at, name, label_id, nation_id, nato = values[:6]
        body = ""
        if text:
            description, aliases = _description(values[6])
            body = "\n".join([name, description, *aliases]).lower()
        rows.append(_ThreatRow(pk, created_at, name, body, label_id, _origin(nation_id, nato)))
    return sorted(rows, key=lambda r: (r.date, r.pk), reverse=True)


def _description(data: str) -> tuple[str, list[str]]:
    """An object's description and aliases, from its JSON text ("" and [] when it has none)."""
    try:
        parsed = json.loads(data)
    except ValueError:
        return "", []
    if not isinstance(parsed, dict):
        return "", []
    description = parsed.get("description")
    aliases = parsed.get("aliases")
    return (description if isinstance(description, str) else "",
            [a for a in aliases if isinstance(a, str)] if isinstance(aliases, list) else [])


def _threat_score(row: _ThreatRow, needles: tuple[str, ...]) -> int:
    """As ``_score``: per needle 2 in the name (the title), 1 in the text (name, description, aliases); at least 1."""
    name = row.name.lower()
    total = sum((2 if n in name else 0) + (1 if n in row.text else 0) for n in needles)
    return max(total, 1)


def _threat_hits(matches: QuerySet[StixObject], pks: list[int], needles: tuple[str, ...]) -> dict[int, Hit]:
    """The page's threat objects as hits, read again through the visible queryset (label, originator)."""
    hits: dict[int, Hit] = {}
    if not pks:
        return hits
    kind_name = gettext("Threat object")
    for obj in matches.filter(pk__in=pks).select_related("label", "originator"):
        description, aliases = _description(obj.data)
        title = obj.name or obj.stix_id
        text = next((t for t in (description, title, *aliases) if t and _has_needle(t, needles)),
                    description or title)
        hits[obj.pk] = Hit(kind=THREAT_KIND, kind_name=kind_name, record_id=obj.pk, title=title,
                           url=reverse("threats:object", args=[obj.stix_id]), snippet=_snippet(text, needles),
                           label=obj.label, date=obj.created_at, area=THREAT_AREA,
                           nation=_origin(obj.originator.nation_id, obj.originator.is_nato_body),
                           stix_id=obj.stix_id)
    return hits


def _has_needle(text: str, needles: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(n and n in lowered for n in needles)


def _threats(found: ThreatSearch | None, text: str) -> ThreatLink | None:
    """The threat search's count for the query (visible objects only: its own query applies the label rule)."""
    if found is None:
        return None
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
    suggest: bool = True,
) -> Results:
    """One page of what ``query`` finds for ``subject`` (see the module docstring). When the first page finds
    nothing and ``suggest`` is true, ``suggestion`` may hold a corrected query that finds something for the same
    subject with the same filters (``kizuna.search.suggest``)."""
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
    match = _Match(terms, expansions)
    if not match:
        return Results(text, terms, expansions, [], 0, None, sort)
    filters = Q()
    if types:
        filters &= Q(kind__in=types)
    if area:
        filters &= Q(area=area)
    if nation:
        filters &= Q(nation=nation)
    if label is not None:
        filters &= Q(label_id=label)
    filters &= _period("date", year, since, until)
    # The cost bound: the newest POOL + 1 visible matches (label rule and text conditions in the same SQL, the plan
    # chosen by _newest); the total, the relevance order and the facets are computed over those rows only.
    found = _newest(subject, match, filters, POOL + 1)
    capped = len(found) > POOL
    pool = found[:POOL]
    needles = terms + expansions
    # Threat objects: the threat search's visible query, the newest MAX_THREATS matches as candidates.
    threat_text = _threat_text(text) if threats else ""
    threat_found = threat_search(subject, threat_text) if threat_text else None
    threat_all = _threat_matches(threat_found) if threat_found is not None else None
    threat_condition = _threat_filter(types, area, nation, label, year, since, until)
    threat_qs = threat_all.filter(threat_condition) if threat_all is not None and threat_condition is not None \
        else None
    threat_ids = _newest_threats(threat_qs) if threat_qs is not None else []
    capped = capped or len(threat_ids) > MAX_THREATS
    threat_ids = threat_ids[:MAX_THREATS]
    visible = visible_labels(subject).q("label")
    next_cursor: str | None = None
    # The page: ("e", entry id) or ("t", threat object id), in order.
    page: list[tuple[str, int]] = []
    entries: dict[int, SearchEntry] = {}
    if sort == "date":
        threat_page_qs = threat_qs.order_by("-created_at", "-id") if threat_qs is not None else None
        if cursor:
            at, source, last = _date_cursor(cursor)
            # One order over both sources, (date, source, id) newest first, entries before threat objects at the
            # same instant: after an entry, every threat object of its instant is still to come; after a threat
            # object, every entry of its instant has been shown.
            keys = [row[0] for row in _newest(subject, match, filters, limit + 1,
                                              before=(at, last if source == "e" else 0))]
            if threat_page_qs is not None:
                threat_page_qs = threat_page_qs.filter(created_at__lte=at) if source == "e" else \
                    threat_page_qs.filter(Q(created_at__lte=at), Q(created_at__lt=at) | Q(id__lt=last))
        elif len(found) > limit or not capped:  # the first page is the head of the pool
            keys = [row[0] for row in found[: limit + 1]]
        else:
            keys = [row[0] for row in _newest(subject, match, filters, limit + 1)]
        entries = SearchEntry.objects.filter(visible).select_related("label").in_bulk(keys)
        merged: list[tuple[datetime, int, int]] = [(entries[k].date, 0, k) for k in keys if k in entries]
        if threat_page_qs is not None:
            merged += [(at_, 1, pk) for pk, at_ in threat_page_qs.values_list("pk", "created_at")[: limit + 1]]
        merged.sort(key=lambda m: (m[0], -m[1], m[2]), reverse=True)  # date, entries first, id
        if len(merged) > limit:
            merged = merged[:limit]
            at_, source_rank, pk = merged[-1]
            next_cursor = _encode(sort, f"{at_.isoformat()}|{'et'[source_rank]}|{pk}")
        page = [("et"[source_rank], pk) for _at, source_rank, pk in merged]
    else:
        offset = 0
        if cursor:
            try:
                offset = int(_decode(cursor, sort))
            except ValueError:
                offset = -1
            if not 0 <= offset <= MAX_OFFSET:
                raise ServiceError(gettext("the page cursor is not valid; start again from the first page"), "cursor")
        candidates = SearchEntry.objects.filter(visible, pk__in=[r[0] for r in pool])
        ranked = candidates.annotate(score=_score(needles)).order_by("-score", "-date", "-id")
        # Merged with the threat candidates: the entries' ranking up to the page's end, then one order.
        ranking: list[tuple[int, datetime, int, int]] = [
            (score, at_, 0, pk) for pk, score, at_ in ranked.values_list("pk", "score", "date")[: offset + limit + 1]]
        if threat_qs is not None and threat_ids:
            ranking += [(_threat_score(row, needles), row.date, 1, row.pk)
                        for row in _threat_rows(threat_qs, threat_ids, text=True)]
        ranking.sort(key=lambda r: (r[0], r[1], -r[2], r[3]), reverse=True)  # score, date, entries first, id
        page = [("et"[r[2]], r[3]) for r in ranking[offset : offset + limit + 1]]
        entries = candidates.select_related("label").in_bulk([pk for source, pk in page if source == "e"])
        if len(page) > limit:
            page = page[:limit]
            if offset + limit <= MAX_OFFSET:
                next_cursor = _encode(sort, str(offset + limit))
    entry_hits = _hits(subject, [entries[pk] for source, pk in page if source == "e" and pk in entries], needles)
    threat_page = [pk for source, pk in page if source == "t"]
    threat_hits = _threat_hits(threat_qs, threat_page, needles) if threat_qs is not None and threat_page else {}
    hits = [h for h in (entry_hits.get(pk) if source == "e" else threat_hits.get(pk) for source, pk in page)
            if h is not None]
    results = Results(text, terms, expansions, hits, len(pool) + len(threat_ids), next_cursor, sort, capped=capped)
    if facets:
        # Before the facet filters, so that the other values stay reachable.
        facet_rows = pool if not filters else _newest(subject, match, Q(), POOL)
        if threat_all is not None:
            facet_threat_ids = threat_ids if threat_qs is not None and not threat_condition \
                else _newest_threats(threat_all)[:MAX_THREATS]
            facet_rows = facet_rows + [(row.pk, THREAT_KIND, THREAT_AREA, row.nation, row.date, row.label_id)
                                       for row in _threat_rows(threat_all, facet_threat_ids, text=False)]
        results.facets = _facets(facet_rows)
    if threats:
        results.threats = _threats(threat_found, threat_text)
    if suggest and not results.total and cursor is None:
        def finds(candidate: str) -> bool:
            return find(subject, candidate, types=types, area=area, nation=nation, label=label, year=year,
                        since=since, until=until, limit=1, facets=False, threats=False, suggest=False).total > 0

        results.suggestion = suggestion(subject, text, finds)
    return results


def _date_cursor(cursor: str) -> tuple[datetime, str, int]:
    """A date cursor's last hit: its date, source ("e" an entry, "t" a threat object) and id."""
    value = _decode(cursor, "date")
    parts = value.split("|")
    if len(parts) == 2:  # a cursor of entries only, as written before threat objects were merged
        parts.insert(1, "e")
    try:
        stamp, source, pk = parts
        at, last = datetime.fromisoformat(stamp), int(pk)
    except ValueError:
        raise ServiceError(gettext("the page cursor is not valid; start again from the first page"),
                           "cursor") from None
    if source not in ("e", "t") or at.tzinfo is None:
        raise ServiceError(gettext("the page cursor is not valid; start again from the first page"), "cursor")
    return at, source, last
