"""Hypothesis strategies for the label rule: random policies (classification ladders, typed categories with values),
random labels under them (valid ones and ones that must be denied), and random subjects."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from kizuna.labels import TLP, Label, Policy, PolicyRegistry, Subject
from kizuna.labels.policy import policy_from_dict

# Small pools so that labels and subjects collide often: most examples then contain both matches and near misses.
NATION_POOL = ("AAA", "BBB", "CCC", "G1", "G2")  # G1, G2 play the part of nation groups (a subject holds them too)
COMMUNITY_POOL = ("X", "Y", "Z", "W")
PRINCIPAL_POOL = ("user:a", "user:b", "org:o1", "org:o2")
LEVEL_POOL = ("L0", "L1", "L2", "L3", "L4", "L5")
POLICY_IDS = ("P0", "P1")
UNKNOWN_POLICY = "PX"
UNKNOWN_LEVEL = "BOGUS"
UNKNOWN_CATEGORY = "undefined"


@st.composite
def policy_dicts(draw: st.DrawFn, identifier: str) -> dict[str, Any]:
    """A policy file: a random ladder of 1-4 levels in random order, and 0-3 categories of random types."""
    ladder = draw(st.lists(st.sampled_from(LEVEL_POOL), min_size=1, max_size=4, unique=True))
    names = draw(st.lists(st.sampled_from(("c0", "c1", "c2", "c3")), max_size=3, unique=True))
    categories: dict[str, Any] = {}
    for name in names:
        attribute = draw(st.sampled_from(("nations", "communities")))
        pool = NATION_POOL if attribute == "nations" else COMMUNITY_POOL
        categories[name] = {
            "type": draw(st.sampled_from(("PERMISSIVE", "RESTRICTIVE", "INFORMATIVE"))),
            "subject_attribute": attribute,
            "values": draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True)),
            "display_prefix": draw(st.sampled_from(("", "REL TO "))),
            "display_with_classification": draw(st.booleans()),
        }
    return {
        "identifier": identifier,
        "classifications": [{"name": level, "display": f"{identifier} {level}"} for level in ladder],
        "categories": categories,
    }


@st.composite
def registries(draw: st.DrawFn) -> PolicyRegistry:
    count = draw(st.integers(min_value=1, max_value=len(POLICY_IDS)))
    return PolicyRegistry([policy_from_dict(draw(policy_dicts(POLICY_IDS[i]))) for i in range(count)])


def _recipients(draw: st.DrawFn, tlp: TLP) -> list[str]:
    # Recipients belong to TLP:RED only (validate() refuses them elsewhere).
    return draw(st.lists(st.sampled_from(PRINCIPAL_POOL), min_size=1 if tlp is TLP.RED else 0,
                         max_size=2 if tlp is TLP.RED else 0, unique=True))


@st.composite
def valid_labels(draw: st.DrawFn, registry: PolicyRegistry) -> Label:
    """A label that conforms to one of the registry's policies (what `intern_label` accepts)."""
    policy: Policy = draw(st.sampled_from(list(registry)))
    level = draw(st.sampled_from([c.name for c in policy.classifications]))
    categories: dict[str, list[str]] = {}
    for name in draw(st.lists(st.sampled_from(sorted(policy.categories) or ["-"]), max_size=3, unique=True)):
        if name in policy.categories:
            values = policy.categories[name].values
            categories[name] = draw(st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True))
    tlp = draw(st.sampled_from(list(TLP)))
    return Label.build(policy.identifier, level, categories, tlp, _recipients(draw, tlp))


@st.composite
def foreign_labels(draw: st.DrawFn, registry: PolicyRegistry) -> Label:
    """A label no policy of the registry can evaluate: an unknown policy, level or category. Must always be denied."""
    base = draw(valid_labels(registry))
    kind = draw(st.sampled_from(("policy", "level", "category")))
    if kind == "policy":
        return Label.build(UNKNOWN_POLICY, base.classification, dict(base.categories), base.tlp, base.recipients)
    if kind == "level":
        return Label.build(base.policy, UNKNOWN_LEVEL, dict(base.categories), base.tlp, base.recipients)
    return Label.build(base.policy, base.classification, {**dict(base.categories), UNKNOWN_CATEGORY: ["AAA"]}, base.tlp,
                       base.recipients)


@st.composite
def subjects(draw: st.DrawFn, registry: PolicyRegistry) -> Subject:
    """A subject with random nations (incl. group values), communities, clearances (some missing or unknown) and
    principals."""
    clearances: dict[str, str] = {}
    for identifier in (*POLICY_IDS, UNKNOWN_POLICY):
        policy = registry.get(identifier)
        levels = [c.name for c in policy.classifications] if policy else list(LEVEL_POOL)
        choice = draw(st.one_of(st.none(), st.sampled_from(levels), st.just(UNKNOWN_LEVEL)))
        if choice is not None:
            clearances[identifier] = choice
    return Subject(
        key=draw(st.sampled_from(("s1", "s2", "s3"))),  # shared keys: the cache must still tell subjects apart
        nations=frozenset(draw(st.lists(st.sampled_from(NATION_POOL), max_size=3))),
        communities=frozenset(draw(st.lists(st.sampled_from(COMMUNITY_POOL), max_size=4))),
        clearances=clearances,
        principals=frozenset(draw(st.lists(st.sampled_from(PRINCIPAL_POOL), max_size=2))),
    )


@st.composite
def worlds(draw: st.DrawFn) -> tuple[PolicyRegistry, list[Label], list[Label], list[Subject]]:
    """Policies, the labels of two waves of records (the second arrives after decisions are cached), subjects."""
    registry = draw(registries())
    label = st.one_of(valid_labels(registry), valid_labels(registry), valid_labels(registry), foreign_labels(registry))
    first = draw(st.lists(label, min_size=1, max_size=8))
    second = draw(st.lists(label, max_size=5))
    people = draw(st.lists(subjects(registry), min_size=1, max_size=4))
    return registry, first, second, people
