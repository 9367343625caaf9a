"""The lattice as the node uses it (`kizuna.core.access`): the node's policies and the directory's nation groups."""

from __future__ import annotations

from typing import Any

import pytest

from kizuna.core.access import label_dominates, label_lub, nation_groups
from kizuna.labels import LabelError
from tests.conftest import make_label


@pytest.mark.django_db
def test_groups_come_from_the_directory(directory: Any) -> None:
    groups = nation_groups()
    assert {"AUS", "JPN", "KOR", "NZL"} <= groups["IP4"] and "JPN" not in groups["NATO"]
    assert label_dominates(make_label(["IP4"]), make_label(["JPN"]))  # a JPN reader holds IP4
    assert not label_dominates(make_label(["JPN"]), make_label(["IP4"]))
    assert not label_dominates(make_label(["IP4"]), make_label(["JPN"]), groups={})  # without groups: unsure
    assert label_lub([make_label(["NATO", "IP4"]), make_label(["JPN", "USA"], ["CYBER"])]) == make_label(
        ["JPN", "USA"], ["CYBER"])
    with pytest.raises(LabelError):
        label_lub([make_label(["KOR"]), make_label(["JPN"])])
