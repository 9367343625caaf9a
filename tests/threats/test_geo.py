"""Maritime and strategic pages: the forms store STIX objects under the picked label, other nations see neither the
marker nor the detail, bad input stores nothing, and the maps make no reference outside the node."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kizuna.core.access import label_of
from kizuna.threats.geo import stix
from kizuna.threats.models import StixObject

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def _label_fields(releasable_to: list[str], tlp: str = "AMBER") -> dict[str, Any]:
    return {"label_policy": "NATO", "label_preset": "custom", "label_classification": "UNCLASSIFIED",
            "label_releasable_to": releasable_to, "label_tlp": tlp, "label_recipients": ""}


def _vessels(*rows: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"vessel-TOTAL_FORMS": "3", "vessel-INITIAL_FORMS": "0", "vessel-MIN_NUM_FORMS": "0",
                            "vessel-MAX_NUM_FORMS": "10"}
    for index, row in enumerate(rows):
        data.update({f"vessel-{index}-{k}": v for k, v in row.items()})
    return data


def maritime_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Suspected ship-to-ship transfer", "observation_type": "ship-to-ship-transfer",
        "observing_unit": "JMSDF P-3C", "observed_start": "2026-03-02T22:10", "observed_end": "",
        "latitude": "31.25", "longitude": "124.5", "position_text": "about 350 km east of Shanghai",
        "observed": "Two tankers alongside at night, hoses connected.", "evidence": "Photos taken by the P-3C.",
        "assessment": "Strongly suspects a transfer prohibited by UNSC resolutions.",
        "notified_to": "UN 1718 Committee, flag state",
        **_label_fields(["JPN"]),
        **_vessels({"name": "YU JONG 2", "imo": "9074729", "mmsi": "445539000", "flag": "PRK",
                    "sanctions_designation": "UN 1718 Committee"},
                   {"disguised_name": "HAI XING", "flag": "SLE", "flag_apparent": "on"}),
    }
    data.update(overrides)
    return data


def site_post(**overrides: Any) -> dict[str, Any]:
    data = {"name": "Silo field west of Yumen", "site_type": "missile-silo-field", "status": "under-construction",
            "latitude": "40.14", "longitude": "96.6", "country": "CN", "position_text": "", "description": "",
            "evidence": "Commercial imagery", **_label_fields(["JPN"])}
    data.update(overrides)
    return data


def event_post(**overrides: Any) -> dict[str, Any]:
    data = {"title": "Launch of a ballistic missile", "event_type": "missile-launch",
            "event_start": "2026-04-11T07:12", "event_end": "", "site": "", "latitude": "39.0", "longitude": "125.7",
            "position_text": "near Pyongyang", "description": "", "evidence": "", "assessment": "Likely an IRBM.",
            "confidence": "70", **_label_fields(["JPN"])}
    data.update(overrides)
    return data


@pytest.fixture
def jpn_client(jpn_user: Any) -> Client:
    client = Client()
    client.force_login(jpn_user)
    return client


@pytest.fixture
def kor_client(kor_user: Any) -> Client:
    client = Client()
    client.force_login(kor_user)
    return client


def _current(stix_id: str) -> StixObject:
    return StixObject.objects.get(stix_id=stix_id, is_current=True)


def _created_id(response: Any, prefix: str) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    match = re.search(r"/threats/(?:maritime|strategic)/([a-z-]+--[0-9a-f-]+)/$", response["Location"])
    assert match, response["Location"]
    assert match.group(1).startswith(prefix)
    return match.group(1)


def _geo_objects() -> int:
    """Objects other than the extension-definitions (stored once, on first use)."""
    return StixObject.objects.exclude(type="extension-definition").count()


# --- creating -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_maritime_form_stores_an_incident_with_the_picked_label(jpn_client: Client, jpn_user: Any) -> None:
    response = jpn_client.post("/threats/maritime/new/", maritime_post())
    stix_id = _created_id(response, "incident--")
    row = _current(stix_id)
    label = label_of(row.label)
    assert label.category("releasable_to") == ("JPN",)
    assert row.originator_id == jpn_user.organisation_id
    ext = json.loads(row.data)["extensions"][stix.MARITIME_EXTENSION_ID]
    assert ext["observation_type"] == "ship-to-ship-transfer"
    assert ext["latitude"] == 31.25 and ext["longitude"] == 124.5
    assert ext["vessels"][0] == {"name": "YU JONG 2", "imo": "9074729", "mmsi": "445539000", "flag": "PRK",
                                 "sanctions_designation": "UN 1718 Committee"}
    assert ext["vessels"][1] == {"disguised_name": "HAI XING", "flag": "SLE", "flag_apparent": True}
    assert ext["notified_to"] == ["UN 1718 Committee", "flag state"]
    assert ext["observed_start"] == "2026-03-02T22:10:00.000Z"


@pytest.mark.django_db
def test_extension_definitions_are_stored_once(jpn_client: Client) -> None:
    jpn_client.post("/threats/maritime/new/", maritime_post())
    jpn_client.post("/threats/maritime/new/", maritime_post(title="Second"))
    ids = sorted(StixObject.objects.filter(type="extension-definition").values_list("stix_id", flat=True))
    assert ids == sorted(d["id"] for d in stix.extension_definitions())
    assert StixObject.objects.filter(type="extension-definition", is_current=True).count() == 3


@pytest.mark.django_db
def test_photo_becomes_an_artifact_under_the_same_label(jpn_client: Client) -> None:
    photo = SimpleUploadedFile("sts.png", PNG, content_type="image/png")
    stix_id = _created_id(jpn_client.post("/threats/maritime/new/", {**maritime_post(), "photo": photo}),
                          "incident--")
    incident = _current(stix_id)
    refs = json.loads(incident.data)["extensions"][stix.MARITIME_EXTENSION_ID]["evidence_refs"]
    artifact = _current(refs[0])
    assert artifact.type == "artifact"
    assert artifact.label_id == incident.label_id
    body = jpn_client.get(f"/threats/maritime/{stix_id}/").content.decode()
    assert 'src="data:image/png;base64,' in body


@pytest.mark.django_db
def test_site_and_event_forms_store_location_and_incident(jpn_client: Client) -> None:
    site_id = _created_id(jpn_client.post("/threats/strategic/sites/new/", site_post()), "location--")
    site = json.loads(_current(site_id).data)
    assert (site["latitude"], site["longitude"], site["country"]) == (40.14, 96.6, "CN")
    assert site["extensions"][stix.SITE_EXTENSION_ID]["site_type"] == "missile-silo-field"
    event_id = _created_id(jpn_client.post("/threats/strategic/events/new/", event_post(
        site=site_id, latitude="", longitude="")), "incident--")
    event = json.loads(_current(event_id).data)
    assert event["confidence"] == 70
    ext = event["extensions"][stix.EVENT_EXTENSION_ID]
    assert ext["site_ref"] == site_id and ext["confidence_wording"] == "Probable"
    assert label_of(_current(event_id).label).category("releasable_to") == ("JPN",)
    page = jpn_client.get("/threats/strategic/").content.decode()
    assert "Launch of a ballistic missile" in page and 'datetime="2026-04"' in page
    assert "Probable (70)" in page


# --- who sees what ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_korean_viewer_sees_neither_marker_nor_detail_of_japan_only_incident(
    jpn_client: Client, kor_client: Client
) -> None:
    stix_id = _created_id(jpn_client.post("/threats/maritime/new/", maritime_post()), "incident--")
    own = jpn_client.get("/threats/maritime/").content.decode()
    assert stix_id in own and own.count('data-testid="geo-marker"') == 1
    other = kor_client.get("/threats/maritime/")
    assert other.status_code == 200
    body = other.content.decode()
    assert stix_id not in body and "YU JONG" not in body
    assert 'data-testid="geo-marker"' not in body
    assert kor_client.get(f"/threats/maritime/{stix_id}/").status_code == 404


@pytest.mark.django_db
def test_korean_viewer_sees_neither_site_nor_event_of_japan(jpn_client: Client, kor_client: Client) -> None:
    site_id = _created_id(jpn_client.post("/threats/strategic/sites/new/", site_post()), "location--")
    event_id = _created_id(jpn_client.post("/threats/strategic/events/new/", event_post()), "incident--")
    body = kor_client.get("/threats/strategic/").content.decode()
    assert site_id not in body and event_id not in body and 'data-testid="geo-marker"' not in body
    assert kor_client.get(f"/threats/strategic/{site_id}/").status_code == 404
    assert kor_client.get(f"/threats/strategic/{event_id}/").status_code == 404
    # Nor can an event form be pointed at a site Korea cannot see.
    response = kor_client.post("/threats/strategic/events/new/", event_post(site=site_id, **_label_fields(["KOR"])))
    assert response.status_code == 400
    assert StixObject.objects.filter(type="incident").count() == 1


@pytest.mark.django_db
def test_shared_incident_is_visible_to_both_and_banner_shows_its_label(
    jpn_client: Client, kor_client: Client
) -> None:
    stix_id = _created_id(jpn_client.post("/threats/maritime/new/", maritime_post(
        **_label_fields(["JPN", "KOR"]))), "incident--")
    response = kor_client.get(f"/threats/maritime/{stix_id}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "YU JONG 2" in body and "UN 1718 Committee" in body
    banner = re.search(r'data-testid="banner-top">([^<]*)<', body)
    assert banner and "REL TO JPN, KOR" in banner.group(1)


@pytest.mark.django_db
def test_maritime_detail_of_a_site_id_is_404(jpn_client: Client) -> None:
    site_id = _created_id(jpn_client.post("/threats/strategic/sites/new/", site_post()), "location--")
    assert jpn_client.get(f"/threats/maritime/{site_id}/").status_code == 404
    assert jpn_client.get("/threats/maritime/incident--00000000-0000-4000-8000-000000000000/").status_code == 404


# --- bad input ----------------------------------------------------------------------------------------------------


BAD_MARITIME = [
    ({"latitude": "91"}, "latitude"),
    ({"longitude": "-181"}, "longitude"),
    ({"latitude": "north"}, "latitude"),
    ({"observed_end": "2026-03-02T21:00"}, "observed_end"),
    ({"vessel-0-imo": "9074728"}, "check digit"),
    ({"vessel-0-imo": "12345"}, "seven digits"),
    ({"vessel-0-mmsi": "12345678"}, "MMSI"),
    ({"vessel-0-mmsi": "845539000"}, "MMSI"),
    ({"vessel-0-flag": "XXX"}, "ISO 3166"),
    ({"observation_type": "smuggling"}, "observation_type"),
    ({"title": ""}, "title"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "needle"), BAD_MARITIME, ids=[n for _c, n in BAD_MARITIME])
def test_bad_maritime_input_gives_a_form_error_and_stores_nothing(
    jpn_client: Client, change: dict[str, str], needle: str
) -> None:
    response = jpn_client.post("/threats/maritime/new/", maritime_post(**change))
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="errorlist' in body
    if needle in ("latitude", "longitude", "observed_end", "observation_type", "title"):
        assert re.search(rf'id="id_{needle}_error"', body), needle
    else:
        assert needle in body
    assert _geo_objects() == 0


@pytest.mark.django_db
def test_label_the_author_could_not_see_is_refused_on_the_label_field(jpn_client: Client) -> None:
    response = jpn_client.post("/threats/maritime/new/", maritime_post(**_label_fields(["KOR"])))
    assert response.status_code == 400
    assert 'data-testid="label-errors"' in response.content.decode()
    assert _geo_objects() == 0


@pytest.mark.django_db
def test_file_that_is_not_an_image_is_refused(jpn_client: Client) -> None:
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00 not an image", content_type="image/png")
    response = jpn_client.post("/threats/maritime/new/", {**maritime_post(), "photo": fake})
    assert response.status_code == 400
    assert "JPEG, PNG or WebP" in response.content.decode()
    assert _geo_objects() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("change", [
    {"event_end": "2026-04-10T07:00"}, {"confidence": "101"}, {"latitude": "39.0", "longitude": ""},
    {"site": "location--00000000-0000-4000-8000-000000000000"},
])
def test_bad_event_input_gives_a_form_error_and_stores_nothing(jpn_client: Client, change: dict[str, str]) -> None:
    response = jpn_client.post("/threats/strategic/events/new/", event_post(**change))
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert _geo_objects() == 0


@pytest.mark.django_db
def test_bad_site_country_gives_a_form_error(jpn_client: Client) -> None:
    response = jpn_client.post("/threats/strategic/sites/new/", site_post(country="ZZ"))
    assert response.status_code == 400
    assert 'id="id_country_error"' in response.content.decode()
    assert _geo_objects() == 0


@pytest.mark.django_db
def test_viewer_role_may_not_open_the_forms(make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("viewer1", "JPN", "JPN-MOD", role="viewer"))
    assert client.get("/threats/maritime/new/").status_code == 403
    assert client.post("/threats/strategic/sites/new/", site_post()).status_code == 403
    assert _geo_objects() == 0


# --- offline map --------------------------------------------------------------------------------------------------

_URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""", re.IGNORECASE)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/threats/maritime/", "/threats/maritime/?view=east-asia", "/threats/strategic/",
                                  "/threats/maritime/new/", "/threats/strategic/events/new/"])
def test_map_pages_make_no_external_references(jpn_client: Client, path: str) -> None:
    jpn_client.post("/threats/maritime/new/", maritime_post())
    jpn_client.post("/threats/strategic/sites/new/", site_post())
    response = jpn_client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert _URL.findall(body) == []
    assert "style=" not in body
    assert "<script>" not in body
    if "new" not in path:
        assert 'class="geo-land"' in body  # the base map is in the page itself


@pytest.mark.django_db
def test_detail_pages_make_no_external_references(jpn_client: Client) -> None:
    stix_id = _created_id(jpn_client.post("/threats/maritime/new/", maritime_post()), "incident--")
    body = jpn_client.get(f"/threats/maritime/{stix_id}/").content.decode()
    assert _URL.findall(body) == [] and "style=" not in body
    assert body.count('data-testid="geo-marker"') == 1


@pytest.mark.django_db
def test_marker_links_to_the_detail_and_names_the_incident(jpn_client: Client) -> None:
    stix_id = _created_id(jpn_client.post("/threats/maritime/new/", maritime_post()), "incident--")
    body = jpn_client.get("/threats/maritime/").content.decode()
    marker = re.search(r'<a href="([^"]+)" class="geo-marker geo-marker--maritime"[^>]*><circle[^>]*>'
                       r"<title>([^<]+)</title>", body)
    assert marker is not None
    assert marker.group(1) == f"/threats/maritime/{stix_id}/"
    assert "Suspected ship-to-ship transfer" in marker.group(2)
    # The markers are links inside the map, so the map is a named group, not an image (an image's children are
    # presentational: a focusable marker there has no name, WCAG 4.1.2); each link is named by its item.
    assert re.search(r'<svg class="geo-map"[^>]*role="group" aria-labelledby="geo-map-caption"', body)
    assert 'role="img"' not in body
    assert re.search(r'data-testid="geo-marker" aria-label="[^"]*Suspected ship-to-ship transfer', body)


@pytest.mark.django_db
def test_incident_outside_the_area_is_listed_not_drawn(jpn_client: Client) -> None:
    _created_id(jpn_client.post("/threats/maritime/new/", maritime_post(latitude="10", longitude="-30")), "incident--")
    body = jpn_client.get("/threats/maritime/").content.decode()
    assert 'data-testid="geo-marker"' not in body
    assert "Outside this area" in body


# --- Japanese -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_maritime_pages_render_in_japanese(jpn_client: Client) -> None:
    from django.conf import settings

    jpn_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    body = jpn_client.get("/threats/maritime/new/").content.decode()
    for text in ("海洋事案の新規登録", "確認した部隊", "IMO 番号", "制裁指定", "偽装・塗りつぶされた船名",
                 "瀬取り（船舶間の積替え）"):
        assert text in body, text
    response = jpn_client.post("/threats/maritime/new/", maritime_post(**{"vessel-0-imo": "9074728"}))
    assert "チェックディジット" in response.content.decode()
    assert "海洋事案・確認情報" in jpn_client.get("/threats/maritime/").content.decode()


@pytest.mark.django_db
def test_partner_object_with_odd_values_is_listed_without_a_marker(jpn_client: Client, kor_user: Any) -> None:
    from kizuna.threats.services import do_import_objects
    from tests.conftest import make_label

    odd = {"type": "incident", "spec_version": "2.1", "id": "incident--6d6f3b5e-9a53-4c1e-8a57-2b0f6b1d2c11",
           "created": "2026-01-05T00:00:00.000Z", "modified": "2026-01-05T00:00:00.000Z", "name": "Partner report",
           "extensions": {stix.MARITIME_EXTENSION_ID: {
               "extension_type": "property-extension", "latitude": 123, "longitude": "east", "vessels": "many",
               "observed_start": "2026-01-05T03:00:00", "notified_to": "everyone"}}}
    summary = do_import_objects(kor_user, [odd], make_label(releasable_to=["JPN", "KOR"]))
    assert summary.accepted == 1, summary.errors
    body = jpn_client.get("/threats/maritime/").content.decode()
    assert "Partner report" in body and 'data-testid="geo-marker"' not in body
    assert jpn_client.get(f"/threats/maritime/{odd['id']}/").status_code == 200


@pytest.mark.django_db
def test_switching_the_map_area_keeps_the_type_filter(jpn_client: Client) -> None:
    body = jpn_client.get("/threats/maritime/?type=piracy").content.decode()
    assert 'href="?type=piracy&amp;view=east-asia"' in body


@pytest.mark.django_db
def test_an_event_may_not_name_a_site_under_a_narrower_label(jpn_client: Client) -> None:
    """A stored form never points past its own label (issue 10): an event releasable to IP4 may not carry a site_ref
    to a Japan-only site (Korean readers of the event would learn of it); the author, who sees the site, is told."""
    site_id = _created_id(jpn_client.post("/threats/strategic/sites/new/", site_post()), "location--")
    response = jpn_client.post("/threats/strategic/events/new/", event_post(site=site_id, **_label_fields(["IP4"])))
    assert response.status_code == 400
    assert StixObject.objects.filter(type="incident").count() == 0
    # Under the site's own label (or a narrower one) it is stored with the reference.
    event_id = _created_id(jpn_client.post("/threats/strategic/events/new/", event_post(
        site=site_id, **_label_fields(["JPN"], tlp="RED") | {"label_recipients": "org:JPN-MOD"})), "incident--")
    assert json.loads(_current(event_id).data)["extensions"][stix.EVENT_EXTENSION_ID]["site_ref"] == site_id
