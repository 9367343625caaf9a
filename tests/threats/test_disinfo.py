"""Disinformation incidents: created through the form as STIX incidents with the Kizuna extension and DISARM tags
(uses relationships when DISARM is loaded, free-text ids when it is not), listed and filtered by tactic or technique,
404 for a reader who may not see them, banners noted, bad input shown as form errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from kizuna.directory.subjects import subject_for
from kizuna.threats.disinfo import disarm, services
from kizuna.threats.disinfo.services import DISINFO_EXTENSION_ID, IncidentInput, do_create_incident
from kizuna.threats.models import StixObject
from tests.conftest import make_label
from tests.threats.test_disarm import small_bundle

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(make_user: Any, tmp_path: Path) -> None:
    admin = make_user("nodeadmin", "JPN", "JPN-MOD", role="admin")
    path = tmp_path / "DISARM.json"
    path.write_text(json.dumps(small_bundle()))
    disarm.load(admin, path, "1.6")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Fabricated evacuation orders",
        "description": "Posts claim an evacuation of Okinawa.",
        "narratives": "The alliance abandons its partners\nEvacuation is imminent",
        "platforms": "X\nTelegram",
        "languages": "ja, en",
        "target_audiences": "Residents of Okinawa",
        "label_policy": "NATO", "label_preset": "custom", "label_classification": "UNCLASSIFIED",
        "label_releasable_to": ["JPN"], "label_tlp": "AMBER", "label_recipients": "",
    }
    data.update(overrides)
    return data


def create(user: Any, name: str = "Deepfake statement", techniques: list[str] | None = None,
           tactics: list[str] | None = None, **label_kwargs: Any) -> str:
    return do_create_incident(user, IncidentInput(
        name=name, label=make_label(**(label_kwargs or {"releasable_to": ["JPN"]})), platforms=["YouTube"],
        languages=["ja"], techniques=techniques or [], tactics=tactics or []))


def test_incident_created_through_the_form_is_a_stix_incident_with_the_extension(loaded: None, jpn_user: Any) -> None:
    response = client_for(jpn_user).post("/threats/disinformation/new/", form_data(tactics=["TA06"],
                                                                                   techniques=["T0015.001"]))
    assert response.status_code == 302, response.content.decode()[:2000]
    incident = StixObject.objects.get(type="incident", is_current=True)
    assert response["Location"] == f"/threats/disinformation/{incident.stix_id}/"
    data = json.loads(incident.data)
    ext = data["extensions"][DISINFO_EXTENSION_ID]
    assert ext["narratives"] == ["The alliance abandons its partners", "Evacuation is imminent"]
    assert (ext["platforms"], ext["languages"], ext["target_audiences"]) == (["X", "Telegram"], ["ja", "en"],
                                                                            ["Residents of Okinawa"])
    assert [r["external_id"] for r in data["external_references"]] == ["TA06", "T0015.001"]
    uses = StixObject.objects.get(type="relationship", source_ref=incident.stix_id)
    assert json.loads(uses.data)["relationship_type"] == "uses"
    assert uses.target_ref == "attack-pattern--3bc92e69-67e4-405a-a6fb-a2d742395c45"
    assert uses.label_id == incident.label_id
    definition = StixObject.objects.get(stix_id=DISINFO_EXTENSION_ID)
    assert json.loads(definition.data)["created_by_ref"] == "identity--4b697a75-6e61-4000-8000-000000004774"


def test_the_stix_form_validates_with_the_oasis_validator(loaded: None, jpn_user: Any) -> None:
    from stix2validator import ValidationOptions, validate_instance

    stix_id = create(jpn_user, techniques=["T0002"])
    objects = [json.loads(o.data) for o in StixObject.objects.filter(is_current=True).filter(
        stix_id__in=[stix_id, DISINFO_EXTENSION_ID]) | StixObject.objects.filter(source_ref=stix_id)]
    assert sorted(o["type"] for o in objects) == ["extension-definition", "incident", "relationship"]
    for obj in objects:
        result = validate_instance(obj, ValidationOptions(version="2.1"))
        assert result.is_valid, [str(e) for e in result.errors]


def test_list_filters_by_tactic_and_technique(loaded: None, jpn_user: Any) -> None:
    create(jpn_user, "Hashtag flooding", techniques=["T0015.001"])
    create(jpn_user, "State propaganda", techniques=["T0002"])
    client = client_for(jpn_user)
    by_tactic = client.get("/threats/disinformation/?tactic=TA06").content.decode()
    assert "Hashtag flooding" in by_tactic and "State propaganda" not in by_tactic
    parent = client.get("/threats/disinformation/?technique=T0015").content.decode()  # includes its sub-techniques
    assert "Hashtag flooding" in parent and "State propaganda" not in parent
    everything = client.get("/threats/disinformation/").content.decode()
    assert "Hashtag flooding" in everything and "State propaganda" in everything


def test_other_nations_reader_gets_404_and_an_empty_list(loaded: None, jpn_user: Any, kor_user: Any) -> None:
    stix_id = create(jpn_user, "Japan only")
    client = client_for(kor_user)
    assert client.get(f"/threats/disinformation/{stix_id}/").status_code == 404
    assert client.get("/threats/disinformation/incident--00000000-0000-4000-8000-000000000000/").status_code == 404
    assert "Japan only" not in client.get("/threats/disinformation/").content.decode()
    assert services.list_incidents(subject_for(kor_user)) == []


def test_detail_shows_tags_with_names_and_the_banner_shows_the_label(loaded: None, jpn_user: Any) -> None:
    stix_id = create(jpn_user, "Secret plan", techniques=["T0002"], releasable_to=["JPN"], classification="RESTRICTED")
    body = client_for(jpn_user).get(f"/threats/disinformation/{stix_id}/").content.decode()
    assert "Facilitate State Propaganda" in body and "YouTube" in body
    assert re.search(r'data-testid="banner-top">NATO RESTRICTED REL TO JPN // TLP:AMBER<', body)
    assert 'data-testid="disarm-not-loaded"' not in body


def test_a_maritime_incident_is_not_a_disinformation_incident(loaded: None, jpn_user: Any) -> None:
    from kizuna.threats.services import do_import_objects

    do_import_objects(jpn_user, [{"type": "incident", "spec_version": "2.1",
                                  "id": "incident--5f1e5b8c-0d2a-4e7a-9a55-1d2c3b4a5f60",
                                  "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
                                  "name": "Ship-to-ship transfer"}], make_label(["JPN"]))
    client = client_for(jpn_user)
    assert "Ship-to-ship transfer" not in client.get("/threats/disinformation/").content.decode()
    assert client.get("/threats/disinformation/incident--5f1e5b8c-0d2a-4e7a-9a55-1d2c3b4a5f60/").status_code == 404


def test_bad_input_is_shown_as_form_errors_and_nothing_is_stored(loaded: None, jpn_user: Any) -> None:
    client = client_for(jpn_user)
    response = client.post("/threats/disinformation/new/", form_data(name="", languages="日本語"))
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    response = client.post("/threats/disinformation/new/", form_data(languages="Japanese!"))
    assert response.status_code == 400 and "write languages as codes" in response.content.decode()
    response = client.post("/threats/disinformation/new/", form_data(techniques=["T9999"]))
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    response = client.post("/threats/disinformation/new/", form_data(label_releasable_to=["KOR"]))
    assert response.status_code == 400 and "you could not see an item with this label" in response.content.decode()
    assert not StixObject.objects.filter(type="incident").exists()


def test_a_viewer_may_not_create(loaded: None, make_user: Any) -> None:
    viewer = make_user("reader", "JPN", role="viewer")
    assert client_for(viewer).get("/threats/disinformation/new/").status_code == 403


# --- without DISARM ------------------------------------------------------------------------------------------------


def test_without_disarm_the_pages_say_so_and_accept_free_text_ids(jpn_user: Any) -> None:
    client = client_for(jpn_user)
    page = client.get("/threats/disinformation/new/").content.decode()
    assert 'data-testid="disarm-not-loaded"' in page and 'name="technique_ids"' in page
    response = client.post("/threats/disinformation/new/", form_data(tactic_ids="ta06", technique_ids="T0019.002, T0002"))
    assert response.status_code == 302
    incident = StixObject.objects.get(type="incident")
    refs = [r["external_id"] for r in json.loads(incident.data)["external_references"]]
    assert refs == ["TA06", "T0002", "T0019.002"]
    assert not StixObject.objects.filter(type="relationship").exists()  # nothing to point at
    listing = client.get("/threats/disinformation/?technique=T0019.002").content.decode()
    assert "Fabricated evacuation orders" in listing and 'data-testid="disarm-not-loaded"' in listing
    assert client.get("/threats/disinformation/disarm/").status_code == 200


def test_without_disarm_a_malformed_id_is_a_form_error(jpn_user: Any) -> None:
    response = client_for(jpn_user).post("/threats/disinformation/new/", form_data(technique_ids="T19, fake"))
    assert response.status_code == 400
    assert "not a DISARM id" in response.content.decode()
    assert client_for(jpn_user).get("/threats/disinformation/?tactic=X1").status_code == 400


def test_framework_page_lists_phases_tactics_and_techniques(loaded: None, jpn_user: Any) -> None:
    body = client_for(jpn_user).get("/threats/disinformation/disarm/").content.decode()
    assert "P01 Plan" in body and "TA06" in body and "T0015.001" in body and "Version 1.6" in body


def test_pages_and_refusals_render_in_japanese(jpn_user: Any) -> None:
    from django.conf import settings

    client = client_for(jpn_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    assert "偽情報インシデント" in client.get("/threats/disinformation/").content.decode()
    response = client.post("/threats/disinformation/new/", form_data(languages="Japanese!"))
    assert "言語は ja、ko、en、zh-Hant のようなコードで入力してください" in response.content.decode()


def test_a_tag_outside_the_loaded_version_still_filters(loaded: None, jpn_user: Any) -> None:
    from kizuna.threats.services import do_import_objects

    do_import_objects(jpn_user, [{
        "type": "incident", "spec_version": "2.1", "id": "incident--0b9c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
        "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z", "name": "Older tagging",
        "external_references": [{"source_name": "DISARM", "external_id": "T0019.002"}]}], make_label(["JPN"]))
    response = client_for(jpn_user).get("/threats/disinformation/?technique=t0019.002")
    assert response.status_code == 200 and "Older tagging" in response.content.decode()
