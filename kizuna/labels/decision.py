"""The access decision: may this subject see this label? Deny by default.

``may_see`` is the oracle: ``kizuna.core.access`` writes the same decision as SQL over the label rows' attributes (so
a request costs the same with 30 labels or 100,000), and a property test checks that both select the same labels.
"""

from __future__ import annotations

from collections.abc import Iterable

from kizuna.labels.messages import gettext_noop
from kizuna.labels.model import TLP, Label, LabelError, Subject
from kizuna.labels.policy import CategoryType, PolicyRegistry


def may_see(subject: Subject, label: Label, registry: PolicyRegistry) -> bool:
    policy = registry.get(label.policy)
    if policy is None:
        return False
    clearance = subject.clearances.get(label.policy)
    if clearance is None or not policy.has_classification(clearance) or not policy.has_classification(label.classification):
        return False
    if policy.rank(clearance) < policy.rank(label.classification):
        return False
    for name, values in label.categories:
        category = policy.categories.get(name)
        if category is None:
            return False  # a category the policy does not define cannot be evaluated: deny
        held = subject.nations if category.subject_attribute == "nations" else subject.communities
        if category.type is CategoryType.PERMISSIVE and not held.intersection(values):
            return False
        if category.type is CategoryType.RESTRICTIVE and not held.issuperset(values):
            return False
    if label.tlp is TLP.RED and not subject.principals.intersection(label.recipients):
        return False
    return True


def visible_among_labels(subject: Subject, labels: Iterable[tuple[int, Label]], registry: PolicyRegistry) -> set[int]:
    return {label_id for label_id, label in labels if may_see(subject, label, registry)}


def validate(label: Label, registry: PolicyRegistry) -> None:
    """Raise LabelError with a readable reason if the label does not conform to its policy."""
    policy = registry.require(label.policy)
    policy.rank(label.classification)
    for name, values in label.categories:
        category = policy.categories.get(name)
        if category is None:
            raise LabelError(gettext_noop("category %(category)s is not defined by policy %(policy)s"), category=repr(name),
                             policy=policy.identifier)
        bad = [v for v in values if category.values and v not in category.values]
        if bad:
            raise LabelError(gettext_noop("%(values)s not allowed in category %(category)s of policy %(policy)s"),
                             values=", ".join(bad), category=repr(name), policy=policy.identifier)
    if label.tlp is TLP.RED and not label.recipients:
        raise LabelError(gettext_noop("TLP:RED needs at least one named recipient"))
    if label.tlp is not TLP.RED and label.recipients:
        # Recipients only mean something under TLP:RED; accepting them elsewhere would mislead the author.
        raise LabelError(gettext_noop("recipients are only used with TLP:RED; remove them or choose TLP:RED"))


def display(label: Label, registry: PolicyRegistry) -> str:
    """``NATO UNCLASSIFIED REL TO NATO, IP4 // CYBER // TLP:AMBER``"""
    policy = registry.get(label.policy)
    parts: list[str] = []
    head = label.classification
    if policy is not None and policy.has_classification(label.classification):
        head = policy.classification(label.classification).display
    order = list(policy.categories) if policy else []
    cats: list[str] = []
    for name, values in sorted(label.categories, key=lambda c: (order.index(c[0]) if c[0] in order else len(order), c[0])):
        category = policy.categories.get(name) if policy else None
        if category is not None:
            rank = {v: i for i, v in enumerate(category.values)}
            values = tuple(sorted(values, key=lambda v: (rank.get(v, len(rank)), v)))
        text = (category.display_prefix if category else f"{name}: ") + ", ".join(values)
        if category is not None and category.display_with_classification:
            head = f"{head} {text}"
        else:
            cats.append(text)
    parts.append(head)
    parts.extend(cats)
    parts.append(f"TLP:{label.tlp.value}")
    if label.tlp is TLP.RED and label.recipients:
        parts[-1] += f" ({', '.join(label.recipients)})"
    return " // ".join(parts)


def highest(labels: Iterable[Label], registry: PolicyRegistry) -> Label | None:
    """The label with the highest classification (for the page banner); ties keep the first seen."""
    best: Label | None = None
    best_rank = -1
    for label in labels:
        policy = registry.get(label.policy)
        rank = policy.rank(label.classification) if policy and policy.has_classification(label.classification) else 0
        if rank > best_rank:
            best, best_rank = label, rank
    return best


__all__ = ["LabelError", "display", "highest", "may_see", "validate", "visible_among_labels"]
