"""The label machinery the rest of Kizuna calls: the node's policies, interning labels, the set of label ids a
subject may see (cached per subject, never stale because label ids are content-addressed), and lookups that answer
404 alike for "missing" and "not yours"."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.expressions import CombinedExpression
from django.http import Http404
from django.utils.translation import gettext

from kizuna.core.errors import ServiceError
from kizuna.core.models import Labelled, LabelledQuerySet, LabelRecord, label_id_for
from kizuna.labels import Label, LabelError, PolicyRegistry, Subject, dominates, least_upper_bound, may_see
from kizuna.labels.decision import display, validate

T = TypeVar("T", bound=Labelled)

_CACHE_SIZE = 4096
logger = logging.getLogger("kizuna.access")


@lru_cache(maxsize=1)
def registry() -> PolicyRegistry:
    return PolicyRegistry.default()


class _LabelCache:
    """Process-wide: every known label (immutable, content-addressed) and, per subject, the decision for each."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.labels: dict[int, Label] = {}
        # Rows whose key does not parse or does not hash to their id: never visible, and not re-read on every call.
        self.unreadable: set[int] = set()
        self.decisions: OrderedDict[str, tuple[frozenset[int], frozenset[int]]] = OrderedDict()

    def clear(self) -> None:
        with self.lock:
            self.labels.clear()
            self.unreadable.clear()
            self.decisions.clear()


_cache = _LabelCache()


def clear_caches() -> None:
    _cache.clear()


def _known_labels() -> dict[int, Label]:
    """All labels in the database; only labels not yet seen by this process are fetched and parsed."""
    ids = set(LabelRecord.objects.values_list("id", flat=True))
    missing = ids.difference(_cache.labels, _cache.unreadable)
    if missing:
        fetched: dict[int, Label] = {}
        unreadable: set[int] = set()
        for pk, key in _fetch_keys(missing):
            label = _parse_row(pk, key)
            if label is None:
                unreadable.add(pk)
            else:
                fetched[pk] = label
        with _cache.lock:
            _cache.labels.update(fetched)
            _cache.unreadable.update(unreadable)
    return {pk: _cache.labels[pk] for pk in ids if pk in _cache.labels}


def _parse_row(pk: int, key: str) -> Label | None:
    """The label a row stands for, or None (deny) when the row cannot be trusted: a key that does not parse (one bad
    row must not break every read on the node) or one edited after interning, so it no longer hashes to its id."""
    try:
        label = Label.from_api_key(key)
    except ValueError:  # LabelError and json.JSONDecodeError are both ValueErrors
        logger.warning("label %s cannot be read; records carrying it are visible to no one", pk)
        return None
    if label_id_for(label) != pk:
        logger.warning("label %s does not match its content-addressed id; records carrying it are visible to no one", pk)
        return None
    return label


def _fetch_keys(ids: set[int]) -> list[tuple[int, str]]:
    rows: list[tuple[int, str]] = []
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        rows.extend(LabelRecord.objects.filter(id__in=ordered[start : start + 500]).values_list("id", "key"))
    return rows


def visible_label_ids(subject: Subject) -> frozenset[int]:
    labels = _known_labels()
    key = subject.cache_key()
    with _cache.lock:
        cached = _cache.decisions.get(key)
    if cached is not None and cached[0] == frozenset(labels):
        with _cache.lock:
            _cache.decisions.move_to_end(key)
        return cached[1]
    known, visible = cached if cached is not None else (frozenset(), frozenset())
    reg = registry()
    new_visible = {pk for pk in labels.keys() - known if may_see(subject, labels[pk], reg)}
    result = frozenset((visible & labels.keys()) | new_visible)
    with _cache.lock:
        _cache.decisions[key] = (frozenset(labels), result)
        _cache.decisions.move_to_end(key)
        while len(_cache.decisions) > _CACHE_SIZE:
            _cache.decisions.popitem(last=False)
    return result


def visible_among(subject: Subject, label_ids: Iterable[int]) -> set[int]:
    """Which of these label ids the subject may see: only the given labels are decided (a cached decision is reused
    when the subject has one), so the cost follows the ids asked about, not the number of labels on the node. For
    writes that must treat what the writer may not see as missing (``kizuna.threats.store``). An id with no label
    row, or a row that cannot be trusted, is not visible."""
    wanted = set(label_ids)
    if not wanted:
        return set()
    with _cache.lock:
        cached = _cache.decisions.get(subject.cache_key())
    result: set[int] = set()
    rest = wanted
    if cached is not None:
        known, visible = cached
        result = wanted & visible
        rest = wanted - known
    if rest:
        missing = rest.difference(_cache.labels, _cache.unreadable)
        if missing:
            for pk, key in _fetch_keys(missing):
                label = _parse_row(pk, key)
                with _cache.lock:
                    if label is None:
                        _cache.unreadable.add(pk)
                    else:
                        _cache.labels[pk] = label
        reg = registry()
        for pk in rest:
            label = _cache.labels.get(pk)
            if label is not None and may_see(subject, label, reg):
                result.add(pk)
    return result


def check_label(label: Label) -> None:
    """Raise LabelError unless the label conforms to its policy and is within the node's maximum classification."""
    reg = registry()
    validate(label, reg)
    policy = reg.require(label.policy)
    maximum = settings.KIZUNA_MAX_CLASSIFICATION.get(label.policy)
    if maximum is None or policy.rank(label.classification) > policy.rank(maximum):
        raise LabelError(gettext("this node may not hold %(policy)s %(classification)s information") % {
            "policy": label.policy, "classification": label.classification})


def intern_label(label: Label) -> LabelRecord:
    """The row for this label, created if new. Validates the label first."""
    check_label(label)
    pk = label_id_for(label)
    key = label.key()
    record = LabelRecord.objects.filter(pk=pk).first()
    if record is None:
        try:
            with transaction.atomic():
                record = LabelRecord.objects.create(
                    id=pk,
                    key=key,
                    policy=label.policy,
                    classification=label.classification,
                    display=display(label, registry())[:1000],
                )
        except IntegrityError:
            record = LabelRecord.objects.get(pk=pk)
    if record.key != key:  # a 63-bit collision: refuse rather than confuse two labels
        raise LabelError(gettext("label id collision; contact the node administrator"))
    with _cache.lock:
        _cache.labels.setdefault(pk, label)
    return record


def label_of(record: LabelRecord) -> Label:
    label = _cache.labels.get(record.pk)
    if label is None:
        label = Label.from_api_key(record.key)
        with _cache.lock:
            _cache.labels[record.pk] = label
    return label


def label_display(label: Label) -> str:
    return display(label, registry())


def visible_q(subject: Subject, path: str = "label") -> Q:
    """A filter, for use across joins, true for rows whose label at ``path`` the subject may see (the same set as
    ``visible_to``): ``visible_q(subject, "meeting__label")`` on a model that points at a meeting. ``path`` may also
    name a column annotated with ``unindexed_label``. Nothing visible gives a filter that matches no row."""
    return visible_labels(subject).q(path)


def unindexed_label(path: str = "label") -> CombinedExpression:
    """The label id at ``path`` written ``label_id + 0``, to annotate and then filter with ``visible_q`` on the
    annotation: the same set as ``visible_to``, but no database can answer it from an index on the label. Used inside
    an ``EXISTS`` looked up by another index (``kizuna.threats.queries``, ``kizuna.federation.taxii.reads``): without
    it SQLite, which has no statistics unless ANALYZE was run, may pick the label index and scan every row of a label
    for each outer row."""
    return F(f"{path}_id") + 0


def sees_nothing(subject: Subject) -> bool:
    """True when no label on the node is visible to the subject (every ``visible_to`` is empty)."""
    return not visible_label_ids(subject)


class VisibleLabels:
    """The labels a subject may see, decided once (one query), for checking rows already fetched — a related record
    named only when its own label is visible —, as part of a cache key, and for several ``visible_q`` filters from one
    decision (``q``). Iterates in id order."""

    __slots__ = ("_ids",)

    def __init__(self, ids: frozenset[int]) -> None:
        self._ids = ids

    def __contains__(self, label_id: object) -> bool:
        return label_id in self._ids

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._ids))

    def __len__(self) -> int:
        return len(self._ids)

    def __hash__(self) -> int:
        return hash(self._ids)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VisibleLabels) and other._ids == self._ids

    def q(self, path: str = "label") -> Q:
        """``visible_q`` with this decision: several filters (several joins) from one decision."""
        return Q(**{f"{path}__in": sorted(self._ids)})


def visible_labels(subject: Subject) -> VisibleLabels:
    return VisibleLabels(visible_label_ids(subject))


def get_visible_or_404(model_or_queryset: type[T] | LabelledQuerySet[T], subject: Subject, **lookup: object) -> T:
    """Fetch one record the subject may see; a missing record and one that is not theirs are the same 404. Takes a
    model or a queryset of one (``select_related``, ``select_for_update`` and other filters kept)."""
    qs: Any = model_or_queryset._default_manager.all() if isinstance(model_or_queryset, type) else model_or_queryset
    qs = qs.visible_to(subject)
    try:
        found: T = qs.get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404("not found") from None
    return found


def recheck_visible(obj: Labelled, subject: Subject) -> None:
    """The re-check after a write, inside its transaction: the subject must still see what it wrote (its label, as
    stored), else ServiceError on ``label`` and the caller's transaction rolls back."""
    if not type(obj)._default_manager.visible_to(subject).filter(pk=obj.pk).exists():  # type: ignore[attr-defined]
        raise ServiceError(gettext("you could not see the result of this change; nothing was saved"), "label")


def may_subject_see(subject: Subject, label: Label) -> bool:
    return may_see(subject, label, registry())


# Where the groups of nations come from: the directory registers its reader on start (``DirectoryConfig.ready``), so
# that core depends on nothing above it. Without a reader every group value is an opaque atom to the lattice.
GroupSource = Callable[[], dict[str, frozenset[str]]]
_group_source: list[GroupSource] = []


def set_group_source(source: GroupSource) -> None:
    """Install the reader of the directory's groups (code -> member nation codes)."""
    _group_source[:] = [source]


def nation_groups() -> dict[str, frozenset[str]]:
    """The directory's groups (code -> member nation codes), as the lattice reads them (``kizuna.labels.lattice``)."""
    return _group_source[0]() if _group_source else {}


def label_dominates(a: Label, b: Label, groups: dict[str, frozenset[str]] | None = None) -> bool:
    """True when everyone who may see ``b`` may see ``a``: a record labelled ``b`` may refer to one labelled ``a`` in
    a form served to others. Group values count as their member nations as the directory has them now (``groups``,
    read once by the caller for many calls, else read here); see ``kizuna.labels.lattice``."""
    return dominates(a, b, registry(), nation_groups() if groups is None else groups)


def label_lub(labels: list[Label]) -> Label:
    """The overall marking of a document made of parts labelled ``labels`` (LabelError when there is none)."""
    return least_upper_bound(labels, registry(), nation_groups())
