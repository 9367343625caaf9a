"""The label picker turns its fields into a Label, expands presets on the server, and says in plain words who will
be able to see an item before it is saved (the /reports/label-preview/ fragment)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from kizuna.labels import TLP, LabelError
from kizuna.web.labelpicker import (
    TLP_MEANINGS,
    LabelChoice,
    LabelPickerField,
    choice_to_label,
    describe,
    presets_for,
)
from tests.conftest import make_label

pytestmark = pytest.mark.django_db


def preview(user: Any, **params: Any) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/reports/label-preview/", {"label_policy": "NATO", **params})
    assert response.status_code == 200
    return response.content.decode()


def test_preview_names_the_nations_level_and_communities(jpn_user: Any) -> None:
    text = preview(jpn_user, label_classification="UNCLASSIFIED", label_releasable_to=["IP4"],
                   label_communities=["CYBER"], label_tlp="GREEN")
    assert "Visible to people of the IP4 nations (Australia, Japan, New Zealand, Republic of Korea)" in text
    assert "cleared to NATO UNCLASSIFIED or higher" in text
    assert "and belong to CYBER" in text
    assert "NATO UNCLASSIFIED REL TO IP4 // CYBER // TLP:GREEN" in text
    assert "You are included." in text


def test_preview_warns_when_the_author_would_be_left_out(jpn_user: Any) -> None:
    text = preview(jpn_user, label_classification="UNCLASSIFIED", label_releasable_to=["KOR"])
    assert "Republic of Korea" in text
    assert "you would not be able to see this item yourself" in text
    assert "You are included." not in text


def test_preview_warns_when_a_community_excludes_the_author(make_user: Any) -> None:
    user = make_user("sora", "JPN", "JPN-MOD", communities=["MARITIME"])
    text = preview(user, label_classification="UNCLASSIFIED", label_communities=["CYBER"])
    assert "and belong to CYBER" in text
    assert "you would not be able to see this item yourself" in text


def test_preview_expands_a_preset_chosen_without_javascript(jpn_user: Any) -> None:
    text = preview(jpn_user, label_classification="UNCLASSIFIED", label_preset="ip4", label_releasable_to=["USA"])
    assert "REL TO IP4" in text
    assert "United States" not in text


def test_preview_explains_an_invalid_label_instead_of_failing(jpn_user: Any) -> None:
    text = preview(jpn_user, label_classification="COSMIC", label_releasable_to=["JPN"])
    assert "This label cannot be used" in text
    assert "COSMIC" in text


def test_preview_of_tlp_red_lists_recipients_and_adds_own_organisation(jpn_user: Any, make_user: Any) -> None:
    make_user("taro", "JPN", "JPN-NISC")
    text = preview(jpn_user, label_classification="UNCLASSIFIED", label_releasable_to=["JPN"], label_tlp="RED",
                   label_recipients="taro")
    assert "org:JPN-MOD" in text
    assert "user:taro" in text
    assert "You are included." in text


def test_tlp_red_without_recipients_is_refused() -> None:
    with pytest.raises(LabelError, match="named recipient"):
        choice_to_label(LabelChoice(classification="UNCLASSIFIED", tlp="RED"), None)


def test_unknown_recipient_is_refused(directory: None) -> None:
    with pytest.raises(LabelError, match="no user nobody"):
        choice_to_label(LabelChoice(classification="UNCLASSIFIED", tlp="RED", recipients="user:nobody"), None)


def test_recipients_without_tlp_red_are_refused(jpn_user: Any) -> None:
    with pytest.raises(LabelError, match="only used with TLP:RED"):
        choice_to_label(LabelChoice(classification="UNCLASSIFIED", tlp="AMBER", recipients="hanako"), None)


def test_presets_include_own_nation_and_expand_to_groups(jpn_user: Any) -> None:
    presets = {p.key: p for p in presets_for(jpn_user)}
    assert presets["own_nation"].releasable_to == ("JPN",)
    label = choice_to_label(LabelChoice(classification="UNCLASSIFIED", preset="nato_ip4"), jpn_user)
    assert label.category("releasable_to") == ("IP4", "NATO")


def test_field_cleans_posted_fields_into_a_label(jpn_user: Any) -> None:
    field = LabelPickerField(user=jpn_user)
    data = {"label_policy": "NATO", "label_classification": "RESTRICTED", "label_releasable_to": "JPN",
            "label_tlp": "AMBER+STRICT"}
    label = field.clean(field.widget.value_from_datadict(data, {}, "label"))
    assert label == make_label(releasable_to=["JPN"], classification="RESTRICTED", tlp="AMBER+STRICT")


def test_field_reports_a_bad_classification_as_a_validation_error(jpn_user: Any) -> None:
    from django.core.exceptions import ValidationError

    field = LabelPickerField(user=jpn_user)
    with pytest.raises(ValidationError, match="This label cannot be used"):
        field.clean(LabelChoice(classification="SECRET"))


def test_amber_strict_meaning_says_only_own_organisation_may_pass_it_on() -> None:
    with translation.override("en"):
        meaning = str(TLP_MEANINGS[TLP.AMBER_STRICT.value])
    assert "Only the recipient's own organisation may pass it on" in meaning


def test_label_without_releasability_is_described_as_any_nation(jpn_user: Any) -> None:
    audience = describe(make_label(), jpn_user)
    assert audience.text.startswith("Visible to people of any nation")
    assert audience.includes_user


def test_picker_widget_renders_nation_names_and_tlp_meanings(jpn_user: Any) -> None:
    field = LabelPickerField(user=jpn_user)
    html = field.widget.render("label", make_label(releasable_to=["JPN"]))
    assert 'value="JPN" checked' in html
    assert "New Zealand" in html
    assert "TLP:AMBER+STRICT" in html
    assert 'hx-get="/reports/label-preview/"' in html
    assert "style=" not in html and "<script" not in html


def test_large_group_is_named_with_its_size_and_extra_nations_are_listed(jpn_user: Any) -> None:
    audience = describe(make_label(releasable_to=["NATO", "JPN"]), jpn_user)
    assert audience.text.startswith("Visible to people of all 32 NATO nations, Japan, if they are cleared to")
    assert len(audience.nations) == 33


def _red_preview(user: Any, recipients: str, classification: str = "RESTRICTED") -> str:
    return preview(user, label_classification=classification, label_releasable_to=["JPN", "KOR"], label_tlp="RED",
                   label_recipients=recipients)


def test_preview_answers_alike_for_a_cleared_and_an_uncleared_colleague(jpn_user: Any, make_user: Any) -> None:
    """The directory does not share clearances (kizuna/directory/disclosure.py): naming a colleague who lacks the
    clearance reads exactly like naming one who holds it, the name aside."""
    make_user("kenta", "JPN", "JPN-NISC", clearance="UNCLASSIFIED")
    make_user("yuki", "JPN", "JPN-NISC")
    low, high = _red_preview(jpn_user, "kenta"), _red_preview(jpn_user, "yuki")
    assert low.replace("kenta", "NAME") == high.replace("yuki", "NAME")
    assert "is not shown to you" in low and "would not be able to see it" not in low


def test_preview_names_a_recipient_left_out_by_nation(jpn_user: Any, make_user: Any) -> None:
    make_user("aroha", "NZL", "NZL-NCSC")
    text = _red_preview(jpn_user, "aroha")
    assert "These named recipients would not be able to see it: aroha" in text


def test_administrator_learns_the_whole_answer_in_the_preview(make_user: Any) -> None:
    boss = make_user("boss", "JPN", "JPN-MOD", role="admin")
    make_user("low", "JPN", "JPN-NISC", clearance="UNCLASSIFIED")
    text = _red_preview(boss, "low")
    assert "These named recipients would not be able to see it: low" in text


def test_inactive_and_peer_accounts_are_no_recipients(jpn_user: Any, make_user: Any) -> None:
    gone = make_user("gone", "JPN", "JPN-MOD")
    gone.is_active = False
    gone.save()
    with pytest.raises(LabelError, match="no user gone"):
        choice_to_label(LabelChoice(classification="UNCLASSIFIED", tlp="RED", recipients="user:gone"), jpn_user)
