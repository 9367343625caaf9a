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
facet filters. Threat objects are found by the threat search (``kizuna.threats.search``) and reported as a count with
a link to the threat search page rather than merged (they are paged and ranked by their own rules).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode

from django.apps import apps
from django.db import connection
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.expressions import RawSQL
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
from kizuna.glossary import expand
from kizuna.labels import Subject
from kizuna.search.index import TEXT_INDEX
from kizuna.search.models import SearchEntry
from kizuna.search.suggest import suggestion
from kizuna.threats.search import search as threat_search

MAX_QUERY = 200  # characters of the query read
MAX_TERMS = 10  # words (and phrases) searched
MAX_EXPANSIONS = 10  # glossary equivalents searched
MAX_LIMIT = 100
POOL = 200  # visible matches (newest first) that the total, the facets and the relevance order are computed over
MAX_OFFSET = POOL - MAX_LIMIT  # relevance pages beyond this are refused: refine, or sort by date
RARE = 1000  # texts a needle is found in, under which its whole match list is read (``_Match.rare``)
WINDOWS = (30_000, 100_000)  # entries walked newest first, window after window, before the whole index is read
WINDOW_SLACK = 1.5  # a window is walked when the density so far would fill the page in 1.5 times its size
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


def _probe(needle: str) -> RawSQL:
    """True for an entry whose text contains ``needle``, checked on that entry's indexed text alone (looked up by
    key): for needles too short for the trigram index, and for ranking a few candidates."""
    return TEXT_INDEX.probe(f"{_entry_table()}.{connection.ops.quote_name('id')}", every=(needle,))


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
                every &= Q(pk__in=TEXT_INDEX.matching(term)) if searchable(term) else Q(_probe(term))
            branches.append(every)
        branches.extend(Q(pk__in=TEXT_INDEX.matching(e)) for e in self.expansions)
        result = branches[0]
        for branch in branches[1:]:
            result |= branch
        return result

    def probe_q(self) -> Q:
        """Row by row: one look-up of each entry's text, for entries reached newest first."""
        return Q(TEXT_INDEX.probe(f"{_entry_table()}.{connection.ops.quote_name('id')}", self.terms,
                                  self.expansions))

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
    # The label rule, decided beforehand for the labels of the newest entries (most entries walked carry one of
    # them); any other label by the per-row EXISTS. The same set of rows as visible_q.
    recent_labels = SearchEntry.objects.order_by(*_NEWEST_FIRST).values_list("label_id", flat=True)[:WINDOWS[0]]
    visible = visible_labels(subject).q_known(recent_labels)
    scope = Q() if before is None else _before(before)
    if match.rare():
        rows = SearchEntry.objects.filter(scope, visible, filters, match.index_q())
        return list(rows.order_by(*_NEWEST_FIRST).values_list(*_ROW_FIELDS)[:count])
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
        rows = window.filter(visible, filters, match.probe_q())
        found.extend(rows.order_by(*_NEWEST_FIRST).values_list(*_ROW_FIELDS)[: count - len(found)])
        if len(found) >= count or not edges:  # enough, or the window reached the oldest entry
            return found
        scope &= _before(edges[0])
        walked += size
    rows = SearchEntry.objects.filter(scope, visible, filters, match.index_q())
    found.extend(rows.order_by(*_NEWEST_FIRST).values_list(*_ROW_FIELDS)[: count - len(found)])
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
        "type": [FacetValue(k, str(specs[k][1].name) if k in specs else k, n) for k, n in counts([r[1] for r in rows])],
        "area": [FacetValue(a, str(areas.get(a, a)), n) for a, n in counts([r[2] for r in rows])],
        "nation": [FacetValue(c, c, n) for c, n in counts([r[3] for r in rows])],
        "year": sorted((FacetValue(str(y), str(y), n)
                        for y, n in counts([timezone.localtime(r[4]).year for r in rows])),
                       key=lambda f: f.value, reverse=True),
        "label": [FacetValue(str(pk), names.get(pk, ""), n) for pk, n in label_counts],
    }


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
    if year is not None:
        filters &= Q(date__year=year)
    if since is not None:
        filters &= Q(date__gte=since)
    if until is not None:
        filters &= Q(date__lt=until)
    # The cost bound: the newest POOL + 1 visible matches (label rule and text conditions in the same SQL, the plan
    # chosen by _newest); the total, the relevance order and the facets are computed over those rows only.
    found = _newest(subject, match, filters, POOL + 1)
    capped = len(found) > POOL
    pool = found[:POOL]
    needles = terms + expansions
    next_cursor: str | None = None
    if sort == "date":
        if cursor:
            stamp, _sep, pk = _decode(cursor, sort).rpartition("|")
            try:
                at, last = datetime.fromisoformat(stamp), int(pk)
            except ValueError:
                raise ServiceError(gettext("the page cursor is not valid; start again from the first page"),
                                   "cursor") from None
            keys = [row[0] for row in _newest(subject, match, filters, limit + 1, before=(at, last))]
        elif len(found) > limit or not capped:  # the first page is the head of the pool
            keys = [row[0] for row in found[: limit + 1]]
        else:
            keys = [row[0] for row in _newest(subject, match, filters, limit + 1)]
        by_pk = SearchEntry.objects.filter(visible_labels(subject).q("label")).select_related("label").in_bulk(keys)
        rows = [by_pk[k] for k in keys if k in by_pk]
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
        candidates = SearchEntry.objects.filter(visible_labels(subject).q("label"), pk__in=[r[0] for r in pool])
        ranked = candidates.annotate(score=_score(needles)).order_by("-score", "-date", "-id")
        rows = list(ranked.select_related("label")[offset : offset + limit + 1])
        if len(rows) > limit:
            rows = rows[:limit]
            if offset + limit <= MAX_OFFSET:
                next_cursor = _encode(sort, str(offset + limit))
    results = Results(text, terms, expansions, _hits(subject, rows, needles), len(pool), next_cursor, sort,
                      capped=capped)
    if facets:
        # Before the facet filters, so that the other values stay reachable.
        results.facets = _facets(pool if not filters else _newest(subject, match, Q(), POOL))
    if threats:
        results.threats = _threats(subject, text)
    if suggest and not results.total and cursor is None:
        def finds(candidate: str) -> bool:
            return find(subject, candidate, types=types, area=area, nation=nation, label=label, year=year,
                        since=since, until=until, limit=1, facets=False, threats=False, suggest=False).total > 0

        results.suggestion = suggestion(subject, text, finds)
    return results
