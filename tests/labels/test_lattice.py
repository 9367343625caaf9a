"""The label lattice (`dominates`, `least_upper_bound`) against the access decision `may_see`: pure, no database.

Properties over random policies, labels and subjects (the strategies of tests/properties): `dominates(a, b)` implies
that every subject who sees `b` sees `a`; the bound of several labels is seen only by subjects who see every part;
`dominates` is reflexive and transitive. With nation groups, subjects are drawn as the directory builds them: a
subject holding a member nation holds the group too (a group may be held without any member, like a peer granted
`IP4`). Then examples on the demo NATO policy."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kizuna.labels import Label, LabelError, PolicyRegistry, Subject, dominates, least_upper_bound, may_see
from tests.properties.strategies import foreign_labels, registries, subjects, valid_labels

# G1 and G2 are the nation pool's group values (tests/properties/strategies.py).
GROUPS = {"G1": frozenset({"AAA", "BBB"}), "G2": frozenset({"BBB", "CCC"})}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def closed(subject: Subject) -> Subject:
    """The subject as the directory would build it: holding a member nation means holding its groups."""
    extra = {group for group, members in GROUPS.items() if members & subject.nations}
    return Subject(key=subject.key, nations=subject.nations | extra, communities=subject.communities,
                   clearances=subject.clearances, principals=subject.principals)


@st.composite
def worlds(draw: st.DrawFn, count: int = 3) -> tuple[PolicyRegistry, list[Label], list[Subject]]:
    registry = draw(registries())
    label = st.one_of(valid_labels(registry), valid_labels(registry), valid_labels(registry), foreign_labels(registry))
    labels = draw(st.lists(label, min_size=count, max_size=count))
    people = draw(st.lists(subjects(registry), min_size=1, max_size=6))
    return registry, labels, people


def _reader_of(draw: st.DrawFn, label: Label, registry: PolicyRegistry) -> Subject:
    """A subject holding little more than ``label`` asks for (one value of each permissive category, every
    restrictive value, one recipient): the readers most likely to be missed by a wrong `dominates`."""
    policy = registry.get(label.policy)
    nations: set[str] = set()
    communities: set[str] = set()
    for name, values in label.categories:
        category = policy.categories.get(name) if policy else None
        held = nations if category is None or category.subject_attribute == "nations" else communities
        if values:
            held.update(values if category is None or category.type.value != "PERMISSIVE"
                        else [draw(st.sampled_from(values))])
    principals = {draw(st.sampled_from(label.recipients))} if label.recipients else set()
    return Subject(key="witness", nations=frozenset(nations), communities=frozenset(communities),
                   clearances={label.policy: label.classification}, principals=frozenset(principals))


def _sound(a: Label, b: Label, registry: PolicyRegistry, people: list[Subject], groups: bool,
           draw: st.DrawFn | None = None) -> None:
    if dominates(a, b, registry, GROUPS if groups else None):
        if draw is not None:
            people = [*people, _reader_of(draw, b, registry), _reader_of(draw, b, registry)]
        for person in people:
            person = closed(person) if groups else person
            if may_see(person, b, registry):
                assert may_see(person, a, registry), (a, b, person)


@st.composite
def near_pairs(draw: st.DrawFn, registry: PolicyRegistry) -> tuple[Label, Label]:
    """Two labels of one policy where the second narrows the first now and then (more values in restrictive
    categories, fewer permissive values, fewer recipients), so that `dominates` often holds without equality."""
    a = draw(valid_labels(registry))
    b = draw(valid_labels(registry))
    if a.policy != b.policy or draw(st.booleans()):
        b = Label.build(a.policy, b.classification if b.policy == a.policy else a.classification,
                        {**dict(a.categories), **{n: v for n, v in b.categories if draw(st.booleans())}},
                        a.tlp, a.recipients[:1] if a.recipients else [])
    return a, b


@SETTINGS
@given(worlds(2), st.booleans(), st.data())
def test_dominates_implies_every_reader_of_b_reads_a(world: tuple[PolicyRegistry, list[Label], list[Subject]],
                                                     groups: bool, data: st.DataObject) -> None:
    registry, (a, b), people = world
    _sound(a, b, registry, people, groups, data.draw)
    _sound(b, a, registry, people, groups, data.draw)
    a, b = data.draw(near_pairs(registry))
    _sound(a, b, registry, people, groups, data.draw)
    _sound(b, a, registry, people, groups, data.draw)


@SETTINGS
@given(worlds(1), st.booleans())
def test_dominates_is_reflexive(world: tuple[PolicyRegistry, list[Label], list[Subject]], groups: bool) -> None:
    registry, (a,), _ = world
    assert dominates(a, a, registry, GROUPS if groups else None)


@SETTINGS
@given(worlds(3), st.booleans())
def test_dominates_is_transitive(world: tuple[PolicyRegistry, list[Label], list[Subject]], groups: bool) -> None:
    registry, (a, b, c), _ = world
    g = GROUPS if groups else None
    if dominates(a, b, registry, g) and dominates(b, c, registry, g):
        assert dominates(a, c, registry, g)


@SETTINGS
@given(worlds(3), st.integers(min_value=1, max_value=3), st.booleans())
def test_bound_is_seen_only_by_readers_of_every_part(world: tuple[PolicyRegistry, list[Label], list[Subject]],
                                                     size: int, groups: bool) -> None:
    registry, labels, people = world
    parts = [label for label in labels if label.policy == labels[0].policy][:size]
    g = GROUPS if groups else None
    try:
        bound = least_upper_bound(parts, registry, g)
    except LabelError:
        return
    for part in parts:
        assert dominates(part, bound, registry, g), (part, bound)
    for person in people:
        person = closed(person) if groups else person
        if may_see(person, bound, registry):
            assert all(may_see(person, part, registry) for part in parts), (parts, bound, person)


@SETTINGS
@given(worlds(1), st.booleans())
def test_bound_of_one_label_is_itself_when_valid(world: tuple[PolicyRegistry, list[Label], list[Subject]],
                                                 groups: bool) -> None:
    registry, (a,), _ = world
    policy = registry.get(a.policy)
    assume(policy is not None and policy.has_classification(a.classification)
           and all(name in policy.categories for name, _ in a.categories))
    bound = least_upper_bound([a], registry, GROUPS if groups else None)
    assert dominates(bound, a, registry, GROUPS if groups else None)
    assert dominates(a, bound, registry, GROUPS if groups else None)


# --- the demo policy ---------------------------------------------------------------------------------------------------

REG = PolicyRegistry.default()
NATO_GROUPS = {"IP4": frozenset({"AUS", "JPN", "KOR", "NZL"}), "NATO": frozenset({"USA", "GBR", "FRA", "DEU"})}


def lab(rel: list[str] | None = None, communities: list[str] | None = None, level: str = "UNCLASSIFIED",
        tlp: str = "AMBER", recipients: list[str] | None = None, policy: str = "NATO") -> Label:
    cats = {k: v for k, v in (("releasable_to", rel), ("communities", communities)) if v}
    return Label.build(policy, level, cats, tlp, recipients)


@pytest.mark.parametrize(("a", "b", "expected"), [
    (lab(["NATO", "IP4"]), lab(["IP4"]), True),  # wider releasability: the narrower record may point at it
    (lab(["IP4"]), lab(["NATO", "IP4"]), False),
    (lab(["IP4"]), lab(["KOR"]), False),  # without groups a group is an atom: unsure, so no
    (lab(["KOR"]), lab(["IP4"]), False),
    (lab(["IP4"]), lab(["KOR"], level="RESTRICTED"), False),
    (lab(["IP4"], level="RESTRICTED"), lab(["IP4"]), False),
    (lab(["IP4"]), lab(["IP4"], level="RESTRICTED"), True),
    (lab(["IP4"]), lab(["IP4"], ["CYBER"]), True),
    (lab(["IP4"], ["CYBER"]), lab(["IP4"]), False),
    (lab(["IP4"], ["CYBER"]), lab(["IP4"], ["CYBER", "MARITIME"]), True),
    (lab(["IP4"]), lab(["IP4"], tlp="RED", recipients=["user:a"]), True),
    (lab(["IP4"], tlp="RED", recipients=["user:a"]), lab(["IP4"]), False),
    (lab(["IP4"], tlp="RED", recipients=["user:a", "user:b"]), lab(["IP4"], tlp="RED", recipients=["user:a"]), True),
    (lab(["IP4"], tlp="RED", recipients=["user:a"]), lab(["IP4"], tlp="RED", recipients=["user:a", "user:b"]), False),
    (lab(["IP4"], tlp="CLEAR"), lab(["IP4"], tlp="AMBER+STRICT"), True),  # TLP below RED does not decide who sees
    (lab(["IP4"], policy="OTHER"), lab(["IP4"], policy="OTHER"), True),  # equal
    (lab(["IP4"]), lab(["IP4"], policy="OTHER"), False),
])
def test_dominates_examples(a: Label, b: Label, expected: bool) -> None:
    assert dominates(a, b, REG) is expected


def test_groups_count_as_their_members_in_one_direction_only() -> None:
    assert dominates(lab(["IP4"]), lab(["KOR"]), REG, NATO_GROUPS)  # a KOR reader holds IP4
    assert dominates(lab(["NATO", "IP4"]), lab(["JPN", "USA"]), REG, NATO_GROUPS)
    assert not dominates(lab(["KOR"]), lab(["IP4"]), REG, NATO_GROUPS)
    # A subject may hold IP4 without a member (a peer granted the group): the members do not stand for the group.
    assert not dominates(lab(["AUS", "JPN", "KOR", "NZL"]), lab(["IP4"]), REG, NATO_GROUPS)


def test_bound_examples() -> None:
    assert least_upper_bound([lab(["NATO", "IP4"], ["CYBER"]), lab(["IP4"], ["MARITIME"], "RESTRICTED", "GREEN")],
                             REG) == lab(["IP4"], ["CYBER", "MARITIME"], "RESTRICTED", "AMBER")
    assert least_upper_bound([lab(["IP4"]), lab(["JPN", "KOR"])], REG, NATO_GROUPS) == lab(["JPN", "KOR"])
    assert least_upper_bound([lab(["NATO", "IP4"]), lab(["NATO", "JPN"])], REG, NATO_GROUPS) == lab(["NATO", "JPN"])
    assert least_upper_bound([lab(["IP4"]), lab()], REG) == lab(["IP4"])  # no releasability: not restricted by it
    red = least_upper_bound([lab(tlp="RED", recipients=["user:a", "user:b"]), lab(tlp="RED", recipients=["user:b"]),
                             lab(tlp="GREEN")], REG)
    assert red == lab(tlp="RED", recipients=["user:b"])


@pytest.mark.parametrize("parts", [
    [],
    [lab(["IP4"]), lab(["IP4"], policy="OTHER")],
    [lab(["IP4"]), lab(["KOR"])],  # without groups: no value in common
    [lab(tlp="RED", recipients=["user:a"]), lab(tlp="RED", recipients=["user:b"])],
])
def test_bound_refuses_what_one_label_cannot_say(parts: list[Label]) -> None:
    with pytest.raises(LabelError):
        least_upper_bound(parts, REG)
