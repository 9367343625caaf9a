"""The label machinery the rest of Kizuna calls: the node's policies, interning labels, the access decision as SQL
over the label rows' indexed attributes (``visible_q``: its cost does not grow with the number of labels), and
lookups that answer 404 alike for "missing" and "not yours"."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import BooleanField, Expression, F, Q, QuerySet
from django.db.models.expressions import CombinedExpression
from django.db.models.lookups import In
from django.http import Http404
from django.utils.translation import gettext

from kizuna.core.errors import ServiceError
from kizuna.core.models import Labelled, LabelledQuerySet, LabelRecord, LabelTerm, label_id_for, parse_sound
from kizuna.labels import TLP, Label, LabelError, PolicyRegistry, Subject, dominates, least_upper_bound, may_see
from kizuna.labels.decision import display, validate
from kizuna.labels.policy import CategoryType

T = TypeVar("T", bound=Labelled)

logger = logging.getLogger("kizuna.access")


@lru_cache(maxsize=1)
def registry() -> PolicyRegistry:
    return PolicyRegistry.default()


class _LabelCache:
    """Process-wide: labels parsed so far (immutable, content-addressed), for ``label_of`` and ``visible_among``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.labels: dict[int, Label] = {}
        # Rows whose key does not parse or does not hash to their id: never visible, and not re-read on every call.
        self.unreadable: set[int] = set()

    def clear(self) -> None:
        with self.lock:
            self.labels.clear()
            self.unreadable.clear()


_cache = _LabelCache()


def clear_caches() -> None:
    _cache.clear()
    _DECISIONS.clear()


def _parse_row(pk: int, key: str) -> Label | None:
    """The label a row stands for, or None (deny) when the row cannot be trusted: a key that does not parse (one bad
    row must not break every read on the node) or one edited after interning, so it no longer hashes to its id."""
    label = parse_sound(pk, key)
    if label is None:
        logger.warning("label %s cannot be read or does not match its content-addressed id; records carrying it are "
                       "visible to no one", pk)
    return label


def _fetch_keys(ids: set[int]) -> list[tuple[int, str]]:
    rows: list[tuple[int, str]] = []
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        rows.extend(LabelRecord.objects.filter(id__in=ordered[start : start + 500]).values_list("id", "key"))
    return rows


# The decision in SQL per subject (and policy registry), written once: compiling it through the ORM for every use
# cost more than running it (a STIX page embeds it five times).
_DECISIONS: dict[tuple[str, int], tuple[str, tuple[str, ...]] | None] = {}
_DECISIONS_SIZE = 4096


def _in(column: str, values: list[str]) -> tuple[str, list[str]]:
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _decision(subject: Subject) -> tuple[str, tuple[str, ...]] | None:
    """The decision of ``may_see`` for this subject as an SQL condition on the label row ``kz_l`` (None: no label
    can be visible, the subject holds no usable clearance). Built from the subject and the node's policies only — a
    few conditions per policy and category —, never from the labels on the node, so its cost does not grow with their
    number; the database answers each condition from the primary key of the label and the unique index of its terms.
    Each clause mirrors one test of ``kizuna.labels.decision.may_see``, which stays the oracle
    (``tests/properties/test_db_filter.py``)."""
    reg = registry()
    key = (subject.cache_key(), id(reg))
    if key in _DECISIONS:
        return _DECISIONS[key]
    term = connection_table(LabelTerm)
    branches: list[str] = []
    params: list[str] = []

    def terms(extra: str = "") -> str:
        # Only the quoted table name and fixed text are interpolated; every value is a parameter.
        return f"SELECT 1 FROM {term} kz_t WHERE kz_t.label_id = kz_l.id AND kz_t.kind = %s{extra}"  # noqa: S608

    for policy_id, clearance in sorted(subject.clearances.items()):
        policy = reg.get(policy_id)
        if policy is None or not policy.has_classification(clearance):
            continue
        # The classification must be one the policy defines, at or below the clearance.
        allowed = [level.name for level in policy.classifications[: policy.rank(clearance) + 1]]
        in_sql, in_params = _in("kz_l.classification", allowed)
        parts = [f"kz_l.policy = %s AND {in_sql}"]
        params += [policy_id, *in_params]
        # A category the policy does not define cannot be evaluated: deny.
        if policy.categories:
            in_sql, in_params = _in("kz_t.category", sorted(policy.categories))
            parts.append(f"NOT EXISTS ({terms(f' AND NOT {in_sql}')})")
            params += [LabelTerm.CATEGORY, *in_params]
        else:
            parts.append(f"NOT EXISTS ({terms()})")
            params.append(LabelTerm.CATEGORY)
        for category in policy.categories.values():
            if category.type is CategoryType.INFORMATIVE:
                continue
            held = sorted(subject.nations if category.subject_attribute == "nations" else subject.communities)
            absent = f"NOT EXISTS ({terms(' AND kz_t.category = %s')})"
            if category.type is CategoryType.PERMISSIVE and held:
                # Absent, or at least one value the subject holds.
                in_sql, in_params = _in("kz_t.value", held)
                parts.append(f"({absent} OR EXISTS ({terms(f' AND kz_t.category = %s AND {in_sql}')}))")
                params += [LabelTerm.CATEGORY, category.name, LabelTerm.CATEGORY, category.name, *in_params]
            elif category.type is CategoryType.RESTRICTIVE and held:
                # No value the subject does not hold.
                in_sql, in_params = _in("kz_t.value", held)
                parts.append(f"NOT EXISTS ({terms(f' AND kz_t.category = %s AND NOT {in_sql}')})")
                params += [LabelTerm.CATEGORY, category.name, *in_params]
            else:  # a subject holding no value passes only where the category is absent
                parts.append(absent)
                params += [LabelTerm.CATEGORY, category.name]
        branches.append("(" + " AND ".join(parts) + ")")
    result: tuple[str, tuple[str, ...]] | None = None
    if branches:
        sql = f"kz_l.sound AND ({' OR '.join(branches)})"
        principals = sorted(subject.principals)
        if principals:
            in_sql, in_params = _in("kz_t.value", principals)
            sql += f" AND (kz_l.tlp <> %s OR EXISTS ({terms(f' AND {in_sql}')}))"
            params += [TLP.RED.value, LabelTerm.RECIPIENT, *in_params]
        else:
            sql += " AND kz_l.tlp <> %s"
            params.append(TLP.RED.value)
        result = (sql, tuple(params))
    if len(_DECISIONS) >= _DECISIONS_SIZE:
        _DECISIONS.clear()
    _DECISIONS[key] = result
    return result


def connection_table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


class _Visible(Expression):
    """``EXISTS (SELECT 1 FROM kizuna_label kz_l WHERE kz_l.id = <label column> AND <decision>)``: true for a row
    whose label the subject may see. The label column is resolved by the ORM (a join path, an annotation, an outer
    reference), so it can be used in any filter, subquery or join; the decision is the cached SQL of ``_decision``."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: Any, decision: tuple[str, tuple[str, ...]]) -> None:
        super().__init__()
        self.column = column
        self.decision = decision

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        column_sql, column_params = compiler.compile(self.column)
        sql, params = self.decision
        table = connection.ops.quote_name(LabelRecord._meta.db_table)
        return (f"EXISTS (SELECT 1 FROM {table} kz_l WHERE kz_l.id = ({column_sql}) AND {sql})",  # noqa: S608
                (*column_params, *params))


def visible_label_ids(subject: Subject) -> frozenset[int]:
    """Every label id on the node the subject may see, by the decision in SQL. Reads every label: for tests and
    administrators' tools, never on a request path (requests filter with ``visible_q``)."""
    decision = _decision(subject)
    if decision is None:
        return frozenset()
    sql, params = decision
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT kz_l.id FROM {connection_table(LabelRecord)} kz_l WHERE {sql}", params)  # noqa: S608
        return frozenset(row[0] for row in cursor.fetchall())


def visible_among(subject: Subject, label_ids: Iterable[int]) -> set[int]:
    """Which of these label ids the subject may see, decided in Python by ``may_see`` for only the given labels: the
    cost follows the ids asked about, not the number of labels on the node. For rows already fetched (a related
    record named only when its label is visible) and for writes that must treat what the writer may not see as
    missing (``kizuna.threats.store``). An id with no label row, or a row that cannot be trusted, is not visible."""
    wanted = set(label_ids)
    if not wanted:
        return set()
    missing = wanted.difference(_cache.labels, _cache.unreadable)
    if missing:
        for pk, key in _fetch_keys(missing):
            label = _parse_row(pk, key)
            with _cache.lock:
                if label is None:
                    _cache.unreadable.add(pk)
                else:
                    _cache.labels[pk] = label
    reg = registry()
    result: set[int] = set()
    for pk in wanted:
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


def label_by_marking(marking_id: str) -> Label | None:
    """The label of this node whose STIX marking-definition id is ``marking_id`` (the indexed ``marking`` column),
    or None. Not a visibility decision: for matching a marking a peer or a stored object names."""
    record = LabelRecord.objects.filter(marking=marking_id, sound=True).first()
    return label_of(record) if record is not None else None


def marking_of(label_id: int) -> str:
    """The STIX marking-definition id of the label row ``label_id`` (its ``marking`` column)."""
    return str(LabelRecord.objects.filter(pk=label_id).values_list("marking", flat=True).get())


def marking_and_tlp(label_id: int) -> tuple[str, str]:
    """The STIX marking-definition id and the TLP (``"GREEN"``, ``"AMBER+STRICT"`` ... or "") of the label row
    ``label_id``: what an object served under that label names in its ``object_marking_refs``."""
    marking, tlp = LabelRecord.objects.filter(pk=label_id).values_list("marking", "tlp").get()
    return str(marking), str(tlp)


def label_display(label: Label) -> str:
    return display(label, registry())


def visible_q(subject: Subject, path: str = "label") -> Q:
    """A filter, for use across joins, true for rows whose label at ``path`` the subject may see (the same set as
    ``visible_to``): ``visible_q(subject, "meeting__label")`` on a model that points at a meeting. ``path`` may also
    name a column annotated with ``unindexed_label``. Written as ``EXISTS`` over the label row (``_decision``): the
    database probes the label of each row it considers, by primary key, so a first page costs the same with 30 labels
    or 100,000. Nothing visible gives a filter that matches no row."""
    decision = _decision(subject)
    if decision is None:
        return Q(pk__in=[])
    return Q(_Visible(F(path), decision))


def visible_q_known(subject: Subject, known: QuerySet[Any], path: str = "label") -> Q:
    """``visible_q`` for a walk over many rows: the same set of rows, with the decision already taken for the labels
    of ``known`` (a queryset of label ids, ``values_list(..., flat=True)`` — e.g. the labels of the newest entries of
    the table walked). A row whose
    label is among them is decided by one look-up in the visible part of ``known`` (decided once per distinct label,
    in the same statement); any other row by the per-row ``EXISTS`` of ``visible_q``. For walks where the per-row
    ``EXISTS`` — several index probes a row — would dominate. ``known`` is read once per statement, so it must be
    bounded (a window, a range). The label column is compared as ``label_id + 0`` (``unindexed_label``): no database
    walks a label index instead of the caller's ordered one."""
    decision = _decision(subject)
    if decision is None:
        return Q(pk__in=[])
    allowed = LabelRecord.objects.filter(pk__in=known).filter(Q(_Visible(F("pk"), decision))).values("pk")
    column = unindexed_label(path)
    return Q(In(column, allowed)) | (~Q(In(column, known)) & Q(_Visible(F(path), decision)))


def unindexed_label(path: str = "label") -> CombinedExpression:
    """The label id at ``path`` written ``label_id + 0``, to annotate and then filter with ``visible_q`` on the
    annotation: the same set as ``visible_to``, but no database can answer it from an index on the label. Used inside
    an ``EXISTS`` looked up by another index (``kizuna.threats.queries``, ``kizuna.federation.taxii.reads``): without
    it SQLite, which has no statistics unless ANALYZE was run, may pick the label index and scan every row of a label
    for each outer row."""
    return F(f"{path}_id") + 0


def sees_nothing(subject: Subject) -> bool:
    """True when no label can be visible to the subject (every ``visible_to`` is empty): it holds no clearance in a
    policy of this node. Decided from the subject alone."""
    return _decision(subject) is None


class VisibleLabels:
    """What a subject may see, for checking rows already fetched — a related record named only when its own label is
    visible (``label_id in visible``: decided for the ids asked about, each once) —, as part of a cache key, and for
    several ``visible_q`` filters (``q``)."""

    __slots__ = ("_decided", "_key", "_none", "_subject")

    def __init__(self, subject: Subject) -> None:
        self._subject = subject
        self._key = subject.cache_key()
        self._none = sees_nothing(subject)
        self._decided: dict[int, bool] = {}

    def __contains__(self, label_id: object) -> bool:
        if not isinstance(label_id, int) or self._none:
            return False
        if label_id not in self._decided:
            self._decided[label_id] = bool(visible_among(self._subject, [label_id]))
        return self._decided[label_id]

    def __bool__(self) -> bool:
        return not self._none

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VisibleLabels) and other._key == self._key

    def q(self, path: str = "label") -> Q:
        """``visible_q`` for this subject."""
        return visible_q(self._subject, path)

    def q_known(self, known: QuerySet[Any], path: str = "label") -> Q:
        """``visible_q_known`` for this subject."""
        return visible_q_known(self._subject, known, path)


def visible_labels(subject: Subject) -> VisibleLabels:
    return VisibleLabels(subject)


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
