"""Best-practice notes, the worked example of a labelled module: services (label rules, re-check, versions, audit,
STIX form), pages, the REST API (checked against the OpenAPI document), TAXII, federation in, and the registration
that wires all of it without naming the app anywhere else."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from kizuna.core import registry
from kizuna.core.access import label_of
from kizuna.core.errors import ServiceError
from kizuna.core.models import AuditEntry, Version
from kizuna.directory.services import create_token
from kizuna.federation import sync
from kizuna.federation.models import Peer
from kizuna.practices import stix
from kizuna.practices.demo import PRACTICES, load_practices_demo
from kizuna.practices.models import Practice
from kizuna.practices.services import PracticeInput, do_create_practice, do_update_practice, may_edit, publish_all
from kizuna.threats.markings import label_marking, label_marking_id
from kizuna.threats.models import StixObject
from kizuna.threats.validate import validate_object
from tests.api.conftest import Api
from tests.conftest import make_label
from tests.federation.test_sync_medallion import RemoteNode, medallion, post, remote  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

TAXII = "application/taxii+json;version=2.1"
PRACTICES_COLLECTION = "6b697a75-6e61-4000-8000-000000000007"
SHARED = make_label(releasable_to=["NATO", "IP4"])
JPN_ONLY = make_label(releasable_to=["JPN"])
LABEL_FIELDS = {"label_policy": "NATO", "label_preset": "custom", "label_classification": "UNCLASSIFIED",
                "label_releasable_to": ["JPN"], "label_tlp": "AMBER", "label_recipients": ""}


@pytest.fixture(autouse=True)
def _own_data_dir(settings: Any, tmp_path: Path) -> Path:
    """Node keys are made on first use: each test keeps its own."""
    settings.DATA_DIR = tmp_path
    return tmp_path


def _create(user: Any, label: Any = SHARED, title: str = "Rehearse the reporting chain") -> Practice:
    return do_create_practice(user, PracticeInput(title=title, label=label, body="Practise *hand-overs*."))


def _current(practice: Practice) -> dict[str, Any]:
    return dict(json.loads(StixObject.objects.get(stix_id=stix.stix_id_of(practice), is_current=True).data))


def _taxii(path: str, user: Any) -> Any:
    return Client().get(path, HTTP_ACCEPT=TAXII, HTTP_AUTHORIZATION=f"Bearer {create_token(user)[1]}")


# ---- the registration --------------------------------------------------------------------------------------------


def test_the_module_is_registered_with_its_type_collection_pages_and_api() -> None:
    [module] = [m for m in registry.modules() if m.name == "practices"]
    [record_type] = module.types
    assert record_type.model == "practices.Practice" and record_type.stix_types == (stix.PRACTICE_TYPE,)
    assert registry.receivers()[stix.PRACTICE_TYPE] is record_type.receive
    assert PRACTICES_COLLECTION in {c.id for c in registry.collections()}
    assert stix.practice_extension_definition() in registry.extension_definitions()


def test_the_registry_refuses_a_stix_type_or_collection_id_registered_twice() -> None:
    twin = registry.Module(name="twin", display_name="Twin", types=(registry.RecordType(
        model="practices.Practice", stix_types=(stix.PRACTICE_TYPE,)),))
    with pytest.raises(registry.RegistryError, match=r"kizuna-practice.*already registered by module .practices."):
        registry.register(twin)
    [collection] = next(m for m in registry.modules() if m.name == "practices").types[0].collections
    twin = registry.Module(name="twin", display_name="Twin", types=(registry.RecordType(
        model="practices.Practice", stix_types=("x-twin",), collections=(collection,)),))
    with pytest.raises(registry.RegistryError, match=r"collection .* already registered"):
        registry.register(twin)
    assert "twin" not in {m.name for m in registry.modules()}


# ---- services ----------------------------------------------------------------------------------------------------


def test_creating_a_note_keeps_a_version_an_audit_entry_and_its_stix_form(jpn_user: Any) -> None:
    practice = _create(jpn_user)
    assert practice.originator_id == jpn_user.organisation_id and practice.author == jpn_user
    assert Version.objects.filter(content_type="practices.practice", object_id=practice.pk).count() == 1
    assert AuditEntry.objects.filter(action="create", target_type="practice").count() == 1
    obj = _current(practice)
    assert obj["id"] == f"kizuna-practice--{practice.uuid}" and obj["name"] == "Rehearse the reporting chain"
    assert obj["extensions"] == {stix.PRACTICE_EXTENSION_ID: {"extension_type": "new-sdo"}}
    assert validate_object(obj) is None
    assert stix.fields_from_stix(obj) == {"title": practice.title, "body": practice.body}


def test_a_label_the_author_could_not_see_is_refused_and_nothing_is_stored(jpn_user: Any) -> None:
    with pytest.raises(ServiceError) as refused:
        _create(jpn_user, make_label(releasable_to=["KOR"]))
    assert refused.value.field == "label"
    assert not Practice.objects.exists() and not StixObject.objects.filter(type=stix.PRACTICE_TYPE).exists()


def test_only_the_originating_organisation_changes_a_note(jpn_user: Any, make_user: Any) -> None:
    practice = _create(jpn_user)
    changed = do_update_practice(jpn_user, practice, title="Rehearse it twice", label=JPN_ONLY)
    assert (changed.title, changed.version, label_of(changed.label)) == ("Rehearse it twice", 2, JPN_ONLY)
    assert _current(changed)["practice_version"] == 2
    other = make_user("olivia", "AUS", "AUS-ACSC")
    assert not may_edit(other, changed)
    with pytest.raises(ServiceError, match="originating organisation"):
        do_update_practice(other, changed, title="taken over")


def test_publish_all_backfills_notes_without_a_stix_form_once(jpn_user: Any) -> None:
    practice = _create(jpn_user)
    StixObject.objects.filter(stix_id=stix.stix_id_of(practice)).delete()
    assert publish_all() == (1, [])
    assert publish_all() == (0, [])


def test_the_demo_notes_load_once(make_user: Any) -> None:
    users = {"sophie": make_user("sophie", "BEL", "NATO-IS"), "olivia": make_user("olivia", "AUS", "AUS-ACSC"),
             "hanako": make_user("hanako", "JPN", "JPN-MOD", communities=["HADR"])}
    assert load_practices_demo(users) == len(PRACTICES) == 3
    assert load_practices_demo(users) == 0


# ---- pages -------------------------------------------------------------------------------------------------------


def test_pages_list_show_and_create_notes_the_reader_may_see(jpn_user: Any, kor_user: Any) -> None:
    mine = _create(jpn_user, JPN_ONLY, title="Japan only")
    shared = _create(jpn_user, SHARED, title="For all partners")
    japanese, korean = Client(), Client()
    japanese.force_login(jpn_user)
    korean.force_login(kor_user)

    listing = japanese.get("/practices/").content.decode()
    assert "Japan only" in listing and "For all partners" in listing and 'class="label-chip' in listing
    assert "Japan only" not in korean.get("/practices/").content.decode()
    detail = japanese.get(f"/practices/{mine.pk}/")
    assert detail.status_code == 200 and "<em>hand-overs</em>" in detail.content.decode()
    assert 'data-testid="banner-top"' in detail.content.decode()
    assert korean.get(f"/practices/{mine.pk}/").status_code == 404
    assert korean.get(f"/practices/{shared.pk}/").status_code == 200

    form = japanese.get("/practices/new/")
    assert form.status_code == 200 and 'name="label_policy"' in form.content.decode()
    created = japanese.post("/practices/new/", {"title": "Share early", "body": "Now.", **LABEL_FIELDS})
    practice = Practice.objects.get(title="Share early")
    assert created.status_code == 302 and created["Location"] == f"/practices/{practice.pk}/"
    assert japanese.post("/practices/new/", {"title": "", **LABEL_FIELDS}).status_code == 400


def test_a_viewer_may_not_create_notes(make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("liam", "NZL", "NZL-NCSC", role="viewer"))
    assert client.get("/practices/new/").status_code == 403


# ---- API ---------------------------------------------------------------------------------------------------------


def test_the_api_lists_reads_creates_and_changes_notes(jpn_user: Any, kor_user: Any,
                                                       api_for: Any) -> None:
    japanese: Api = api_for(jpn_user)
    korean: Api = api_for(kor_user)
    created = japanese.post("practices", {"title": "Rotate the duty officer", "body": "Weekly.",
                                          "label": JPN_ONLY.as_api()})
    assert created.status_code == 201
    note = created.json()
    assert note["label"] == JPN_ONLY.as_api() and note["originator"]["code"] == "JPN-MOD" and note["version"] == 1
    assert japanese.get(f"practices/{note['id']}").json()["title"] == "Rotate the duty officer"
    assert [n["id"] for n in japanese.get("practices").json()["items"]] == [note["id"]]
    assert korean.get("practices").json() == {"items": [], "next_cursor": None}
    assert korean.get(f"practices/{note['id']}").status_code == 404
    assert korean.patch(f"practices/{note['id']}", {"title": "x"}).status_code == 404
    patched = japanese.patch(f"practices/{note['id']}", {"body": "Every Monday."})
    assert patched.status_code == 200 and patched.json()["version"] == 2
    assert japanese.post("practices", {"title": "x", "label": {"policy": "NATO", "classification": "SECRET"}}
                         ).status_code == 400
    assert japanese.post("practices", {"title": "x", "label": SHARED.as_api(), "extra": 1}).status_code in (400, 422)


# ---- TAXII and federation ----------------------------------------------------------------------------------------


def test_taxii_serves_a_note_in_its_collection_only_to_readers_of_its_label(jpn_user: Any, kor_user: Any) -> None:
    practice = _create(jpn_user, JPN_ONLY)
    stix_id = stix.stix_id_of(practice)
    collections = _taxii("/taxii2/kizuna/collections/", kor_user).json()["collections"]
    assert [c["title"] for c in collections][-1] == "Best practice"
    listing = _taxii(f"/taxii2/kizuna/collections/{PRACTICES_COLLECTION}/objects/", jpn_user).json()
    [served] = [o for o in listing["objects"] if o["id"] == stix_id]
    assert label_marking_id(JPN_ONLY) in served["object_marking_refs"]
    assert _taxii(f"/taxii2/kizuna/collections/{PRACTICES_COLLECTION}/objects/{stix_id}/", kor_user
                  ).status_code == 404
    everything = "6b697a75-6e61-4000-8000-000000000001"
    definition = _taxii(f"/taxii2/kizuna/collections/{everything}/objects/{stix.PRACTICE_EXTENSION_ID}/", kor_user)
    assert definition.json()["objects"] == [stix.practice_extension_definition()]


def _remote_note(label: Any, stix_id: str | None = None, modified: str = "2026-03-01T00:00:00.000Z",
                 title: str = "Typhoon drills") -> dict[str, Any]:
    return {
        "type": stix.PRACTICE_TYPE, "spec_version": "2.1", "id": stix_id or f"{stix.PRACTICE_TYPE}--{uuid.uuid4()}",
        "created": "2026-03-01T00:00:00.000Z", "modified": modified, "name": title, "body": "Drill in May.",
        "body_format": "markdown", "practice_version": 1, "object_marking_refs": [label_marking_id(label)],
        "extensions": {stix.PRACTICE_EXTENSION_ID: {"extension_type": "new-sdo"}},
    }


def test_a_received_note_becomes_a_read_only_copy_once_and_follows_new_versions(
        medallion: str, remote: tuple[RemoteNode, Peer]) -> None:  # noqa: F811 - fixtures
    node, peer = remote
    first = node.sign(_remote_note(SHARED))
    post(medallion, [label_marking(SHARED), first])
    [result] = sync.sync_peer(peer)
    assert result.ok, result.error
    copy = Practice.objects.get(stix_id=first["id"])
    assert (copy.title, label_of(copy.label), copy.originator_id) == ("Typhoon drills", SHARED, peer.organisation_id)
    [again] = sync.sync_peer(peer)
    assert again.ok and Practice.objects.filter(stix_id=first["id"]).count() == 1
    newer = node.sign(_remote_note(SHARED, first["id"], "2026-03-02T00:00:00.000Z", "Typhoon drills, revised"))
    post(medallion, [newer])
    [third] = sync.sync_peer(peer)
    assert third.ok
    copy.refresh_from_db()
    assert copy.title == "Typhoon drills, revised" and copy.version == 2


def test_the_pages_speak_japanese(jpn_user: Any, settings: Any) -> None:
    client = Client()
    client.force_login(jpn_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    body = client.get("/practices/new/").content.decode()
    assert "新しい優良事例ノート" in body, body
    assert "data-testid=\"nav-practices\">優良事例</a>" in body, body
