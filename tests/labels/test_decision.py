"""The pure access decision (`may_see`), case by case: the matrix the label rule in DESIGN.md describes."""

from __future__ import annotations

import pytest

from kizuna.labels import Label, PolicyRegistry, Subject, may_see, visible_among_labels
from kizuna.labels.policy import policy_from_dict

REG = PolicyRegistry.default()

ALL_COMMUNITIES = frozenset({"CYBER", "MARITIME", "HADR", "SPACE"})


def subject(
    nation: str = "JPN",
    groups: tuple[str, ...] = ("IP4",),
    clearance: str | None = "RESTRICTED",
    communities: frozenset[str] = ALL_COMMUNITIES,
    principals: tuple[str, ...] = ("user:hanako", "org:JPN-MOD"),
) -> Subject:
    """A subject as `subject_for` builds it: nationality plus the groups it belongs to."""
    return Subject(
        key=f"user:{nation}",
        nations=frozenset({nation, *groups}),
        communities=communities,
        clearances={"NATO": clearance} if clearance else {},
        principals=frozenset(principals),
    )


JPN = subject()
KOR = subject("KOR", principals=("user:minjun", "org:KOR-MND"))
USA = subject("USA", ("NATO",), principals=("user:john", "org:USA-DOD"))


def label(
    releasable_to: list[str] | None = None,
    communities: list[str] | None = None,
    classification: str = "UNCLASSIFIED",
    tlp: str = "AMBER",
    recipients: list[str] | None = None,
    policy: str = "NATO",
    **extra: list[str],
) -> Label:
    cats: dict[str, list[str]] = dict(extra)
    if releasable_to:
        cats["releasable_to"] = releasable_to
    if communities:
        cats["communities"] = communities
    return Label.build(policy, classification, cats, tlp, recipients)


# --- releasability (PERMISSIVE, over nations and groups) -----------------------------------------------------------


def test_same_nation_sees_label_releasable_to_its_nation() -> None:
    assert may_see(JPN, label(["JPN"]), REG)


def test_korean_user_cannot_see_label_releasable_to_japan() -> None:
    assert not may_see(KOR, label(["JPN"]), REG)


def test_group_value_ip4_releases_to_every_partner_and_no_nato_member() -> None:
    rel_ip4 = label(["IP4"])
    for nation in ("AUS", "JPN", "NZL", "KOR"):
        assert may_see(subject(nation), rel_ip4, REG), nation
    assert not may_see(USA, rel_ip4, REG)


def test_group_value_nato_releases_to_members_not_partners() -> None:
    rel_nato = label(["NATO"])
    assert may_see(USA, rel_nato, REG)
    assert may_see(subject("DEU", ("NATO",)), rel_nato, REG)
    assert not may_see(JPN, rel_nato, REG)


def test_permissive_category_needs_only_one_matching_value() -> None:
    assert may_see(KOR, label(["NATO", "KOR"]), REG)
    assert may_see(JPN, label(["NATO", "IP4"]), REG)
    assert may_see(USA, label(["NATO", "IP4"]), REG)


def test_subject_without_nation_cannot_see_releasable_label() -> None:
    stateless = Subject(key="x", clearances={"NATO": "RESTRICTED"}, communities=ALL_COMMUNITIES)
    assert not may_see(stateless, label(["NATO", "IP4"]), REG)


def test_label_without_releasability_is_open_to_every_cleared_subject() -> None:
    assert may_see(USA, label(), REG)
    assert may_see(KOR, label(), REG)


# --- clearance and classification order ----------------------------------------------------------------------------


def test_missing_clearance_denies() -> None:
    assert not may_see(subject(clearance=None), label(["JPN"]), REG)


def test_clearance_under_another_policy_does_not_count() -> None:
    other = Subject(key="x", nations=frozenset({"JPN", "IP4"}), clearances={"OTHER": "RESTRICTED"})
    assert not may_see(other, label(["JPN"]), REG)


def test_unknown_clearance_level_denies() -> None:
    assert not may_see(subject(clearance="COSMIC TOP SECRET"), label(["JPN"]), REG)


def test_classification_order_restricted_dominates_unclassified() -> None:
    low = subject(clearance="UNCLASSIFIED")
    assert may_see(low, label(["JPN"], classification="UNCLASSIFIED"), REG)
    assert not may_see(low, label(["JPN"], classification="RESTRICTED"), REG)
    assert may_see(JPN, label(["JPN"], classification="RESTRICTED"), REG)
    assert may_see(JPN, label(["JPN"], classification="UNCLASSIFIED"), REG)


def test_unknown_classification_denies_even_with_highest_clearance() -> None:
    assert not may_see(JPN, label(["JPN"], classification="SECRET"), REG)


def test_unknown_policy_denies() -> None:
    assert not may_see(JPN, label(["JPN"], policy="EU"), REG)
    empty = PolicyRegistry([])
    assert not may_see(JPN, label(["JPN"]), empty)


# --- communities (RESTRICTIVE), informative, unknown categories ----------------------------------------------------


def test_restrictive_communities_need_every_value() -> None:
    cyber_only = subject(communities=frozenset({"CYBER"}))
    assert may_see(cyber_only, label(["JPN"], ["CYBER"]), REG)
    assert not may_see(cyber_only, label(["JPN"], ["CYBER", "MARITIME"]), REG)
    assert may_see(JPN, label(["JPN"], ["CYBER", "MARITIME"]), REG)


def test_subject_without_communities_cannot_see_community_label() -> None:
    none = subject(communities=frozenset())
    assert not may_see(none, label(["JPN"], ["CYBER"]), REG)
    assert may_see(none, label(["JPN"]), REG)


def test_informative_category_has_no_effect_on_access() -> None:
    caveated = label(["JPN"], caveats=["EXERCISE", "DRAFT"])
    assert may_see(JPN, caveated, REG)
    assert not may_see(KOR, caveated, REG)  # the other categories still decide


def test_category_unknown_to_the_policy_denies() -> None:
    assert not may_see(JPN, label(["JPN"], sci=["X"]), REG)


def test_permissive_category_over_communities_needs_one_community() -> None:
    policy = policy_from_dict(
        {
            "identifier": "P",
            "classifications": [{"name": "LOW"}],
            "categories": {"any_of": {"type": "PERMISSIVE", "subject_attribute": "communities", "values": ["A", "B"]}},
        }
    )
    reg = PolicyRegistry([policy])
    holder = Subject(key="s", communities=frozenset({"B"}), clearances={"P": "LOW"})
    assert may_see(holder, Label.build("P", "LOW", {"any_of": ["A", "B"]}), reg)
    assert not may_see(holder, Label.build("P", "LOW", {"any_of": ["A"]}), reg)


def test_restrictive_category_over_nations_needs_every_nation() -> None:
    policy = policy_from_dict(
        {
            "identifier": "P",
            "classifications": [{"name": "LOW"}],
            "categories": {"joint": {"type": "RESTRICTIVE", "subject_attribute": "nations"}},
        }
    )
    reg = PolicyRegistry([policy])
    jpn = Subject(key="s", nations=frozenset({"JPN", "IP4"}), clearances={"P": "LOW"})
    assert may_see(jpn, Label.build("P", "LOW", {"joint": ["JPN", "IP4"]}), reg)
    assert not may_see(jpn, Label.build("P", "LOW", {"joint": ["JPN", "USA"]}), reg)


# --- TLP ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tlp", ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"])
def test_tlp_below_red_does_not_restrict_access(tlp: str) -> None:
    assert may_see(KOR, label(["IP4"], tlp=tlp), REG)


def test_tlp_red_visible_to_named_user_recipient() -> None:
    assert may_see(JPN, label(["IP4"], tlp="RED", recipients=["user:hanako"]), REG)


def test_tlp_red_visible_to_member_of_named_organisation() -> None:
    colleague = subject(principals=("user:taro", "org:JPN-MOD"))
    assert may_see(colleague, label(["IP4"], tlp="RED", recipients=["org:JPN-MOD"]), REG)


def test_tlp_red_hidden_from_anyone_not_named() -> None:
    red = label(["IP4"], tlp="RED", recipients=["user:hanako", "org:JPN-MOD"])
    assert not may_see(KOR, red, REG)
    assert not may_see(subject(principals=("user:ken", "org:JPN-NISC")), red, REG)


def test_tlp_red_recipient_still_needs_releasability_and_clearance() -> None:
    red = label(["KOR"], tlp="RED", recipients=["user:hanako"])
    assert not may_see(JPN, red, REG)
    restricted = label(["JPN"], classification="RESTRICTED", tlp="RED", recipients=["user:hanako"])
    assert not may_see(subject(clearance="UNCLASSIFIED"), restricted, REG)


def test_recipients_do_not_matter_below_red() -> None:
    assert may_see(KOR, label(["IP4"], tlp="AMBER", recipients=["user:hanako"]), REG)


# --- the set form used by the database filter ------------------------------------------------------------------------


def test_visible_label_ids_keeps_exactly_the_visible_labels() -> None:
    labels = [(1, label(["JPN"])), (2, label(["KOR"])), (3, label(["IP4"], ["SPACE"])), (4, label(policy="EU"))]
    assert visible_among_labels(JPN, labels, REG) == {1, 3}
    assert visible_among_labels(KOR, labels, REG) == {2, 3}
    assert visible_among_labels(USA, labels, REG) == set()


def test_anonymous_subject_sees_nothing() -> None:
    anonymous = Subject(key="anonymous")
    assert not may_see(anonymous, label(), REG)
    assert not may_see(anonymous, label(["NATO", "IP4"], tlp="CLEAR"), REG)
