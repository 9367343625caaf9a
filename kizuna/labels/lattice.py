"""The label lattice, in terms of the access decision (``may_see``): which labels may point at which, and the overall
marking of a document made of parts.

``dominates(a, b)``: everyone who may see ``b`` may also see ``a`` — a record labelled ``b`` may refer to a record
labelled ``a`` (its readers can already see the target). Sound with respect to ``may_see``: when it answers True,
``may_see(s, b)`` implies ``may_see(s, a)`` for every subject ``s``. When unsure it answers False (a reference left
out is safe; a reference past a label is a leak).

``least_upper_bound(labels)``: a label seen only by subjects who may see every part: the highest classification,
the union of restrictive categories, the intersection of permissive ones, the stricter TLP (TLP:RED: the recipients
named by every RED part). It is "least" among what one label can express.

Group values. A permissive value such as ``NATO`` or ``IP4`` stands for its member nations, but which nations are
members is directory data (``kizuna.directory``), not policy data. Without ``groups`` every value is an opaque atom
(exact for any subject). With ``groups`` (group code -> member codes) the caller asserts what ``subject_for`` and
``peer_subject`` guarantee: a subject that holds a member nation also holds every group containing it. Only that
direction is used — never "holds the group, so holds a member" (a peer may be granted ``IP4`` without a nation) —
so e.g. ``REL TO JPN`` may point at ``REL TO IP4``, and the bound of ``REL TO IP4`` and ``REL TO JPN`` is
``REL TO JPN``. Group expansion applies to categories over the ``nations`` subject attribute only.

Different policies: ``dominates`` is False unless the labels are equal; ``least_upper_bound`` raises LabelError.
TLP other than RED does not change who may see a label (``may_see``), so it does not change ``dominates``;
the bound still carries the stricter TLP (its handling rule). Labels under unknown policies, classifications or
categories are seen by no one: ``dominates`` answers False for them unless equal.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from kizuna.labels.messages import gettext_noop
from kizuna.labels.model import TLP, Label, LabelError
from kizuna.labels.policy import Category, CategoryType, Policy, PolicyRegistry

Groups = Mapping[str, Collection[str]]

TLP_ORDER: dict[TLP, int] = {TLP.CLEAR: 0, TLP.GREEN: 1, TLP.AMBER: 2, TLP.AMBER_STRICT: 3, TLP.RED: 4}


def _cover(values: Iterable[str], category: Category, groups: Groups | None) -> set[str]:
    """The values whose holders certainly satisfy a permissive category of ``values``: the values themselves and,
    over nations with ``groups`` known, the members of each group among them (a member's holder holds the group)."""
    out = set(values)
    if groups and category.subject_attribute == "nations":
        for value in list(out):
            out.update(groups.get(value, ()))
    return out


def _evaluable(label: Label, policy: Policy) -> bool:
    """Whether anyone at all can pass the label's policy checks (unknown level or category: no one)."""
    if not policy.has_classification(label.classification):
        return False
    return all(name in policy.categories for name, _ in label.categories)


def _held_by_every_reader(label: Label, policy: Policy, attribute: str) -> set[str]:
    """Values of ``attribute`` that every subject who may see ``label`` certainly holds: each restrictive value, and
    the single value of a one-valued permissive category."""
    held: set[str] = set()
    for name, values in label.categories:
        category = policy.categories[name]
        if category.subject_attribute != attribute:
            continue
        if category.type is CategoryType.RESTRICTIVE or (category.type is CategoryType.PERMISSIVE and len(values) == 1):
            held.update(values)
    return held


def dominates(a: Label, b: Label, registry: PolicyRegistry, groups: Groups | None = None) -> bool:
    """True when everyone who may see ``b`` may also see ``a`` (so a record labelled ``b`` may refer to one labelled
    ``a``). False when unsure."""
    if a == b:
        return True
    if a.policy != b.policy:
        return False
    policy = registry.get(a.policy)
    if policy is None or not _evaluable(a, policy) or not _evaluable(b, policy):
        return False
    if policy.rank(a.classification) > policy.rank(b.classification):
        return False
    for name, a_values in a.categories:
        category = policy.categories[name]
        if category.type is CategoryType.INFORMATIVE:
            continue
        if category.type is CategoryType.RESTRICTIVE:
            if not set(a_values) <= _held_by_every_reader(b, policy, category.subject_attribute):
                return False
            continue
        # PERMISSIVE: every reader of b must hold one of a's values. True if some permissive category of b over the
        # same attribute only admits holders of a's values, or every reader of b holds one of them.
        covered = _cover(a_values, category, groups)
        if covered & _held_by_every_reader(b, policy, category.subject_attribute):
            continue
        if not any(
            policy.categories[other].type is CategoryType.PERMISSIVE
            and policy.categories[other].subject_attribute == category.subject_attribute
            and set(b_values) <= covered
            for other, b_values in b.categories
        ):
            return False
    if a.tlp is TLP.RED:
        return b.tlp is TLP.RED and set(b.recipients) <= set(a.recipients)
    return True


def least_upper_bound(labels: Iterable[Label], registry: PolicyRegistry, groups: Groups | None = None) -> Label:
    """The overall marking of a document made of ``labels``: whoever may see it may see every part. Raises
    LabelError for no labels, labels of different or unknown policies, or parts whose releasability has no value in
    common (no single label says "those who may see every part"); see the module docstring for ``groups``."""
    parts = list(labels)
    if not parts:
        raise LabelError(gettext_noop("no labels to combine"))
    policies = {label.policy for label in parts}
    if len(policies) != 1:
        raise LabelError(gettext_noop("labels of different policies cannot be combined: %(policies)s"),
                         policies=", ".join(sorted(policies)))
    policy = registry.require(parts[0].policy)
    for label in parts:
        if not policy.has_classification(label.classification):
            raise LabelError(gettext_noop("%(classification)s is not a classification of policy %(policy)s"),
                             classification=repr(label.classification), policy=policy.identifier)
    classification = max((label.classification for label in parts), key=policy.rank)
    names = sorted({name for label in parts for name, _ in label.categories})
    categories: dict[str, set[str]] = {}
    for name in names:
        category = policy.categories.get(name)
        present = [set(label.category(name)) for label in parts if any(n == name for n, _ in label.categories)]
        if category is None:
            raise LabelError(gettext_noop("category %(category)s is not defined by policy %(policy)s"), category=repr(name),
                             policy=policy.identifier)
        if category.type is not CategoryType.PERMISSIVE:
            categories[name] = set().union(*present)  # restrictive: every value; informative: shown, all of them
            continue
        # Values whose holders satisfy every part (a part without the category does not restrict it).
        common = set.intersection(*(_cover(values, category, groups) for values in present))
        if groups and category.subject_attribute == "nations":
            # A member nation is redundant beside its group (its holders hold the group).
            common = {v for v in common if not any(v in groups.get(g, ()) for g in common if g != v)}
        if category.values:
            common &= set(category.values)
        if not common:
            raise LabelError(gettext_noop("the parts have no %(category)s value in common"), category=category.label or name)
        categories[name] = common
    tlp = max((label.tlp for label in parts), key=TLP_ORDER.__getitem__)
    recipients: list[str] = []
    if tlp is TLP.RED:
        named = [set(label.recipients) for label in parts if label.tlp is TLP.RED]
        recipients = sorted(set.intersection(*named))
        if not recipients:
            raise LabelError(gettext_noop("the TLP:RED parts name no recipient in common"))
    return Label.build(policy.identifier, classification, categories, tlp, recipients)


__all__ = ["TLP_ORDER", "dominates", "least_upper_bound"]
