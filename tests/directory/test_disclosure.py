"""The directory's visibility rule: anyone may learn who is in the directory and their organisation and nation; only
the person themself and the node's administrators learn their clearance and communities. Whether someone may see a
label is answered within that rule."""

from __future__ import annotations

from typing import Any

import pytest

from kizuna.directory.disclosure import Access, access_as_known_to, may_learn_private, people, refused
from tests.conftest import make_label

RESTRICTED_JPN = make_label(releasable_to=["JPN"], classification="RESTRICTED")
CYBER_IP4 = make_label(releasable_to=["IP4"], communities=["CYBER"])


@pytest.fixture
def office(make_user: Any) -> dict[str, Any]:
    return {
        "hanako": make_user("hanako", "JPN", "JPN-MOD"),
        "taro": make_user("taro", "JPN", "JPN-MOD", clearance="UNCLASSIFIED"),
        "kenji": make_user("kenji", "JPN", "JPN-NISC", communities=["MARITIME"]),
        "minjun": make_user("minjun", "KOR", "KOR-MND"),
        "boss": make_user("boss", "BEL", "NATO-IS", role="admin"),
    }


def test_a_colleague_may_not_learn_another_colleagues_clearance(office: dict[str, Any]) -> None:
    hanako, taro = office["hanako"], office["taro"]
    assert not may_learn_private(hanako, taro)
    assert access_as_known_to(hanako, taro, RESTRICTED_JPN) is Access.UNDISCLOSED
    # ... and the answer for a cleared colleague is the same: nothing to tell the two apart
    assert access_as_known_to(taro, hanako, RESTRICTED_JPN) is Access.UNDISCLOSED


def test_communities_are_not_disclosed_either(office: dict[str, Any]) -> None:
    assert access_as_known_to(office["hanako"], office["kenji"], CYBER_IP4) is Access.UNDISCLOSED
    assert access_as_known_to(office["minjun"], office["hanako"], CYBER_IP4) is Access.UNDISCLOSED


def test_nation_is_shared_so_releasability_is_answered(office: dict[str, Any]) -> None:
    assert access_as_known_to(office["hanako"], office["minjun"], RESTRICTED_JPN) is Access.NO
    assert refused(office["hanako"], [office["minjun"], office["taro"]], RESTRICTED_JPN) == [office["minjun"]]


def test_tlp_red_naming_is_shared(office: dict[str, Any]) -> None:
    red = make_label(releasable_to=["JPN"], tlp="RED", recipients=["user:hanako"])
    assert access_as_known_to(office["taro"], office["kenji"], red) is Access.NO
    assert access_as_known_to(office["taro"], office["hanako"], red) is Access.UNDISCLOSED


def test_a_person_and_the_administrators_learn_the_whole_answer(office: dict[str, Any]) -> None:
    taro, boss = office["taro"], office["boss"]
    assert access_as_known_to(taro, taro, RESTRICTED_JPN) is Access.NO
    assert access_as_known_to(boss, taro, RESTRICTED_JPN) is Access.NO
    assert access_as_known_to(boss, office["hanako"], RESTRICTED_JPN) is Access.YES
    assert refused(boss, [taro, office["hanako"]], RESTRICTED_JPN) == [taro]


def test_the_directory_lists_active_people_and_no_peer_accounts(office: dict[str, Any], make_user: Any) -> None:
    gone = make_user("gone", "JPN", "JPN-MOD")
    gone.is_active = False
    gone.save()
    names = set(people().values_list("username", flat=True))
    assert {"hanako", "taro", "minjun"} <= names and "gone" not in names
    assert access_as_known_to(office["boss"], gone, make_label(releasable_to=["JPN"])) is Access.NO
