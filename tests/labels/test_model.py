"""The Label value object and its API form, display strings, validation, `highest`, and policy files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kizuna.labels import TLP, CategoryType, Label, LabelError, PolicyRegistry, load_policy
from kizuna.labels.decision import display, highest, validate
from kizuna.labels.policy import POLICY_DIR, policy_from_dict

REG = PolicyRegistry.default()

API_FORM: dict[str, Any] = {
    "policy": "NATO",
    "classification": "UNCLASSIFIED",
    "categories": {"releasable_to": ["NATO", "IP4"], "communities": ["CYBER"]},
    "tlp": "AMBER",
    "recipients": [],
}


# --- the API form ---------------------------------------------------------------------------------------------------


def test_api_form_round_trips_exactly() -> None:
    label = Label.from_api(API_FORM)
    assert label.as_api() == {**API_FORM, "categories": {"communities": ["CYBER"], "releasable_to": ["IP4", "NATO"]}}
    assert Label.from_api(label.as_api()) == label


def test_equal_labels_have_equal_keys_whatever_the_order_of_values() -> None:
    a = Label.from_api({**API_FORM, "categories": {"releasable_to": ["NATO", "IP4"], "communities": ["CYBER"]}})
    b = Label.from_api({**API_FORM, "categories": {"communities": ["CYBER", "CYBER"], "releasable_to": ["IP4", "NATO"]}})
    assert a == b
    assert a.key() == b.key()
    assert Label.from_api_key(a.key()) == a


def test_different_labels_have_different_keys() -> None:
    a = Label.from_api(API_FORM)
    b = Label.from_api({**API_FORM, "tlp": "GREEN"})
    assert a.key() != b.key()


def test_empty_category_is_dropped_so_it_equals_no_category() -> None:
    assert Label.from_api({**API_FORM, "categories": {"communities": []}}) == Label.build("NATO", "UNCLASSIFIED", tlp="AMBER")


def test_tlp_defaults_to_amber_and_optional_fields_may_be_null() -> None:
    label = Label.from_api({"policy": "NATO", "classification": "UNCLASSIFIED", "categories": None, "recipients": None})
    assert label.tlp is TLP.AMBER
    assert label.categories == ()
    assert label.recipients == ()


def test_with_recipient_adds_once_and_keeps_order_canonical() -> None:
    red = Label.build("NATO", "UNCLASSIFIED", {}, "RED", ["user:hanako"])
    again = red.with_recipient("org:JPN-MOD").with_recipient("org:JPN-MOD")
    assert again.recipients == ("org:JPN-MOD", "user:hanako")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("NATO UNCLASSIFIED", "a label must be an object"),
        (["NATO"], "a label must be an object"),
        ({**API_FORM, "colour": "red"}, "unknown label field(s): colour"),
        ({k: v for k, v in API_FORM.items() if k != "policy"}, "label field 'policy' is required and must be a string"),
        ({**API_FORM, "policy": ""}, "label field 'policy' is required"),
        ({**API_FORM, "classification": 1}, "label field 'classification' is required and must be a string"),
        ({**API_FORM, "categories": ["releasable_to"]}, "label categories must map a category name to a list of strings"),
        ({**API_FORM, "categories": {"releasable_to": "JPN"}}, "label categories must map a category name to a list"),
        ({**API_FORM, "categories": {"releasable_to": [1]}}, "label categories must map a category name to a list"),
        ({**API_FORM, "recipients": "user:hanako"}, "label recipients must be a list of strings"),
        ({**API_FORM, "recipients": [None]}, "label recipients must be a list of strings"),
        ({**API_FORM, "recipients": False}, "label recipients must be a list of strings"),
        ({**API_FORM, "tlp": None}, "label tlp must be a string"),
        ({**API_FORM, "tlp": "WHITE"}, "unknown TLP 'WHITE'; use one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED"),
    ],
)
def test_from_api_refuses_bad_input_with_a_readable_message(data: Any, message: str) -> None:
    with pytest.raises(LabelError) as excinfo:
        Label.from_api(data)
    text = str(excinfo.value)
    assert message in text
    assert "\n" not in text and "Traceback" not in text


# --- display strings ------------------------------------------------------------------------------------------------


def test_display_of_the_design_example() -> None:
    assert display(Label.from_api(API_FORM), REG) == "NATO UNCLASSIFIED REL TO NATO, IP4 // CYBER // TLP:AMBER"


def test_display_orders_values_as_the_policy_lists_them() -> None:
    label = Label.build("NATO", "RESTRICTED", {"releasable_to": ["KOR", "JPN", "IP4"], "communities": ["SPACE", "CYBER"]})
    assert display(label, REG) == "NATO RESTRICTED REL TO IP4, JPN, KOR // CYBER, SPACE // TLP:AMBER"


def test_display_without_categories() -> None:
    assert display(Label.build("NATO", "UNCLASSIFIED", tlp="CLEAR"), REG) == "NATO UNCLASSIFIED // TLP:CLEAR"


def test_display_shows_amber_strict_and_informative_caveats() -> None:
    label = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["JPN"], "caveats": ["EXERCISE"]}, "AMBER+STRICT")
    assert display(label, REG) == "NATO UNCLASSIFIED REL TO JPN // EXERCISE // TLP:AMBER+STRICT"


def test_display_of_tlp_red_names_the_recipients() -> None:
    label = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["JPN"]}, "RED", ["user:hanako", "org:JPN-MOD"])
    assert display(label, REG) == "NATO UNCLASSIFIED REL TO JPN // TLP:RED (org:JPN-MOD, user:hanako)"


def test_display_of_label_under_unknown_policy_is_still_readable() -> None:
    label = Label.build("EU", "RESTREINT UE", {"rel": ["FRA"]}, "GREEN")
    assert display(label, REG) == "RESTREINT UE // rel: FRA // TLP:GREEN"


# --- validate -------------------------------------------------------------------------------------------------------


def test_valid_demo_label_passes_validation() -> None:
    validate(Label.from_api(API_FORM), REG)
    validate(Label.build("NATO", "RESTRICTED", {"caveats": ["DRAFT"]}, "RED", ["org:JPN-MOD"]), REG)


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (Label.build("EU", "UNCLASSIFIED"), "unknown policy 'EU'"),
        (Label.build("NATO", "SECRET"), "classification 'SECRET' is not defined by policy NATO"),
        (Label.build("NATO", "UNCLASSIFIED", {"sci": ["X"]}), "category 'sci' is not defined by policy NATO"),
        (Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["JPN", "XXX"]}), "XXX not allowed in category 'releasable_to'"),
        (Label.build("NATO", "UNCLASSIFIED", {"communities": ["NUCLEAR"]}), "NUCLEAR not allowed in category 'communities'"),
        (Label.build("NATO", "UNCLASSIFIED", {}, "RED"), "TLP:RED needs at least one named recipient"),
        (Label.build("NATO", "UNCLASSIFIED", {}, "AMBER", ["user:hanako"]), "recipients are only used with TLP:RED"),
    ],
)
def test_validate_refuses_labels_outside_the_policy(label: Label, message: str) -> None:
    with pytest.raises(LabelError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate(label, REG)


# --- highest (for the page banner) ----------------------------------------------------------------------------------


def test_highest_picks_the_highest_classification() -> None:
    low = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["JPN"]})
    high = Label.build("NATO", "RESTRICTED", {"releasable_to": ["JPN"]})
    assert highest([low, high, low], REG) == high
    assert highest([high, low], REG) == high


def test_highest_keeps_the_first_of_equal_labels() -> None:
    first = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["JPN"]})
    second = Label.build("NATO", "UNCLASSIFIED", {"releasable_to": ["KOR"]})
    assert highest([first, second], REG) == first


def test_highest_of_nothing_is_none() -> None:
    assert highest([], REG) is None


# --- policy files ---------------------------------------------------------------------------------------------------


def test_demo_policy_loads_with_order_and_category_types() -> None:
    policy = load_policy(POLICY_DIR / "nato.json")
    assert [c.name for c in policy.classifications] == ["UNCLASSIFIED", "RESTRICTED"]
    assert policy.rank("UNCLASSIFIED") < policy.rank("RESTRICTED")
    assert policy.categories["releasable_to"].type is CategoryType.PERMISSIVE
    assert policy.categories["communities"].type is CategoryType.RESTRICTIVE
    assert policy.categories["caveats"].type is CategoryType.INFORMATIVE
    assert {"NATO", "IP4", "JPN", "KOR", "USA"} <= set(policy.categories["releasable_to"].values)
    assert set(policy.categories["communities"].values) == {"CYBER", "MARITIME", "HADR", "SPACE", "EDT", "DISINFO", "INDUSTRY"}


def test_default_registry_knows_the_demo_policy_only() -> None:
    assert [p.identifier for p in REG] == ["NATO"]
    assert REG.get("EU") is None
    with pytest.raises(LabelError, match="unknown policy 'EU'"):
        REG.require("EU")


def test_rank_of_unknown_classification_is_a_readable_error() -> None:
    with pytest.raises(LabelError, match="classification 'SECRET' is not defined by policy NATO"):
        REG.require("NATO").rank("SECRET")


def _write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(content, encoding="utf-8")
    return path


MINIMAL = {"identifier": "P", "classifications": [{"name": "LOW"}, {"name": "HIGH"}]}


def test_minimal_policy_file_gets_defaults(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, json.dumps(MINIMAL)))
    assert policy.name == "P"
    assert policy.classification("HIGH").display == "HIGH"
    assert policy.categories == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "must hold a JSON object"),
        (json.dumps({"classifications": [{"name": "LOW"}]}), "required field 'identifier' is missing"),
        (json.dumps({"identifier": "P"}), "required field 'classifications' is missing"),
        (json.dumps({"identifier": "P", "classifications": []}), "policy P defines no classification"),
        (json.dumps({"identifier": "P", "classifications": [{"display": "x"}]}), "required field 'name' is missing"),
        (json.dumps({"identifier": "P", "classifications": [{"name": "A"}, {"name": "A"}]}), "more than once"),
        (json.dumps({**MINIMAL, "categories": {"c": {"type": "SOMETIMES"}}}), "'SOMETIMES' is not a valid CategoryType"),
        (json.dumps({**MINIMAL, "categories": {"c": {"values": []}}}), "required field 'type' is missing"),
        (json.dumps({**MINIMAL, "categories": ["c"]}), "policy file is malformed"),
        (json.dumps({**MINIMAL, "categories": {"c": {"type": "PERMISSIVE", "subject_attribute": "age"}}}),
         "category c: unknown subject_attribute 'age'"),
    ],
)
def test_bad_policy_file_is_one_readable_error(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(LabelError) as excinfo:
        load_policy(_write(tmp_path, content))
    assert message in str(excinfo.value)


def test_missing_policy_file_is_a_readable_error(tmp_path: Path) -> None:
    with pytest.raises(LabelError, match=r"cannot read policy file .*missing\.json"):
        load_policy(tmp_path / "missing.json")


def test_policy_from_dict_keeps_category_display_settings() -> None:
    policy = policy_from_dict(
        {
            **MINIMAL,
            "categories": {
                "rel": {"type": "PERMISSIVE", "subject_attribute": "nations", "display_prefix": "REL ",
                        "display_with_classification": True, "values": ["B", "A"]},
            },
        }
    )
    reg = PolicyRegistry([policy])
    assert display(Label.build("P", "HIGH", {"rel": ["A", "B"]}, "GREEN"), reg) == "HIGH REL B, A // TLP:GREEN"


def test_community_values_are_the_restrictive_community_values_of_every_policy_in_file_order() -> None:
    assert REG.community_values() == ["CYBER", "MARITIME", "HADR", "SPACE", "EDT", "DISINFO", "INDUSTRY"]
    # An informative category over communities (the caveats) is not something a person holds.
    assert "EXERCISE" not in REG.community_values()
    other = policy_from_dict({"identifier": "X", "classifications": [{"name": "OPEN"}], "categories": {
        "teams": {"type": "PERMISSIVE", "values": ["BLUE", "CYBER"], "subject_attribute": "communities"},
        "rel": {"type": "PERMISSIVE", "values": ["JPN"], "subject_attribute": "nations"}}})
    combined = PolicyRegistry([*REG, other])
    assert combined.community_values() == [*REG.community_values(), "BLUE"]
