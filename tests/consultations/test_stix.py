"""Consultation records travel as six new STIX object types declared by one extension-definition of ours: every write
stores the record's STIX form as a new version under the record's own label (a deletion as a revoked version), drafts
never leave, attendees travel only as counts, and a received copy is never re-issued here. Objects received through
a real sync (from a medallion TAXII server, signed by a remote node) become read-only local rows with the label they
carried — once, however often read — in whatever order parent and child arrive."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import stix2
from django.core.management import call_command
from stix2validator import ValidationOptions, validate_instance

from kizuna.consultations import services
from kizuna.consultations.models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    Decision,
    Meeting,
    MeetingMode,
    MeetingStatus,
    MinutesPart,
    Series,
)
from kizuna.consultations.services import (
    MeetingInput,
    SeriesInput,
    do_add_agenda_item,
    do_cancel_meeting,
    do_create_action,
    do_create_meeting,
    do_create_series,
    do_publish,
    do_publish_all,
    do_update_meeting,
)
from kizuna.consultations.stix import (
    ACTION_TYPE,
    AGENDA_ITEM_TYPE,
    CONSULTATION_EXTENSION_ID,
    DECISION_TYPE,
    MEETING_TYPE,
    MINUTES_TYPE,
    SERIES_TYPE,
    consultation_extension_definition,
    is_received,
    stix_id_of,
)
from kizuna.core.access import label_of
from kizuna.core.models import AuditEntry
from kizuna.directory.models import Organisation
from kizuna.directory.subjects import subject_for
from kizuna.federation import sync
from kizuna.federation.models import Peer
from kizuna.stix.definitions import KIZUNA_IDENTITY_ID
from kizuna.threats.markings import label_marking, label_marking_id
from kizuna.threats.models import StixObject
from kizuna.threats.validate import timestamp_key, validate_object
from kizuna.threats.watch.services import organisation_identity_id
from tests.conftest import make_label
from tests.federation.test_sync_medallion import RemoteNode, medallion, post, remote  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

SHARED = make_label(releasable_to=["NATO", "IP4"])
JPN_ONLY = make_label(releasable_to=["JPN"])
START = datetime(2026, 6, 2, 7, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _own_data_dir(settings: Any, tmp_path: Path) -> Path:
    """Node keys are made on first use: each test keeps its own."""
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def author(make_user: Any) -> Any:
    return make_user("aiko", "JPN", "JPN-MOD")


def _series(user: Any, label: Any = SHARED) -> Series:
    return do_create_series(user, SeriesInput(
        title="NATO–Japan Space Dialogue", label=label, time_zone="Asia/Tokyo", rrule="FREQ=MONTHLY;BYDAY=1TU",
        first_date=date(2026, 6, 2), start_time=time(16, 0), duration_minutes=90, focus_areas=["space"],
        nations=["JPN", "BEL"]))


def _meeting(user: Any, label: Any = SHARED, series: Series | None = None, attendees: list[Any] | None = None) -> Meeting:
    return do_create_meeting(user, MeetingInput(
        title="Space Dialogue, round 4", label=label, start=START, end=START + timedelta(hours=2),
        time_zone="Europe/Brussels", mode=MeetingMode.HYBRID, place="NATO HQ, Brussels",
        link="https://vtc.example.org/room/4", series=series, attendees=attendees or []))


def _versions(record: Any) -> list[StixObject]:
    return list(StixObject.objects.filter(stix_id=stix_id_of(record)).order_by("pk"))


def _current(record: Any) -> tuple[StixObject, dict[str, Any]]:
    row = StixObject.objects.get(stix_id=stix_id_of(record), is_current=True)
    return row, json.loads(row.data)


def _valid(obj: dict[str, Any]) -> None:
    """Our own validator, the OASIS validator and the stix2 library all accept the object."""
    assert validate_object(obj) is None
    result = validate_instance(obj, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]
    parsed = stix2.parse(obj, allow_custom=True)
    assert parsed["id"] == obj["id"]


# ---- out ------------------------------------------------------------------------------------------------------------


def test_the_extension_definition_declares_new_sdos_and_passes_the_oasis_validator() -> None:
    definition = consultation_extension_definition()
    assert definition["extension_types"] == ["new-sdo"] and definition["created_by_ref"] == KIZUNA_IDENTITY_ID
    for stix_type in (SERIES_TYPE, MEETING_TYPE, AGENDA_ITEM_TYPE, MINUTES_TYPE, DECISION_TYPE, ACTION_TYPE):
        assert stix_type in definition["description"]
    result = validate_instance(definition, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]
    assert stix2.parse(definition, allow_custom=True).id == CONSULTATION_EXTENSION_ID
    assert definition == consultation_extension_definition()  # the same object every time, on every node


def test_a_series_and_its_meeting_are_stored_under_their_own_labels_with_references(
        author: Any, make_user: Any) -> None:
    guest = make_user("kenji", "JPN", "JPN-MOFA")
    series = _series(author)
    meeting = _meeting(author, label=JPN_ONLY, series=series, attendees=[author, guest])

    row, obj = _current(series)
    assert obj["id"] == f"kizuna-consultation-series--{series.uuid}" and row.type == SERIES_TYPE
    assert row.label_id == series.label_id and row.originator_id == series.originator_id
    assert obj["created_by_ref"] == organisation_identity_id(series.originator)
    assert (obj["name"], obj["rrule"], obj["time_zone"], obj["first_date"], obj["local_start_time"]) == (
        "NATO–Japan Space Dialogue", "FREQ=MONTHLY;BYDAY=1TU", "Asia/Tokyo", "2026-06-02", "16:00")
    assert obj["nations"] == ["BEL", "JPN"] and obj["focus_areas"] == ["space"]
    assert obj["extensions"] == {CONSULTATION_EXTENSION_ID: {"extension_type": "new-sdo"}}
    _valid(obj)

    row, obj = _current(meeting)
    assert obj["id"] == f"kizuna-meeting--{meeting.uuid}" and row.type == MEETING_TYPE
    assert label_of(row.label) == JPN_ONLY and row.label_id == meeting.label_id
    assert obj["series_ref"] == stix_id_of(series)
    assert (obj["start_time"], obj["end_time"], obj["time_zone"]) == (
        "2026-06-02T07:00:00.000Z", "2026-06-02T09:00:00.000Z", "Europe/Brussels")
    assert (obj["mode"], obj["place"], obj["link"], obj["status"]) == (
        "hybrid", "NATO HQ, Brussels", "https://vtc.example.org/room/4", "scheduled")
    assert (obj["ical_uid"], obj["ical_sequence"]) == (meeting.uid, 0)
    assert "agenda_published" not in obj and "minutes_published" not in obj
    # Attendees are local accounts: their number by answer travels, never who they are.
    assert obj["attendee_counts"] == {"total": 2, "pending": 2, "accepted": 0, "tentative": 0, "declined": 0}
    assert "aiko" not in row.data and "kenji" not in row.data
    _valid(obj)


def test_ids_are_stable_and_each_change_is_a_strictly_later_version(author: Any) -> None:
    meeting = _meeting(author)
    meeting = do_update_meeting(author, meeting, title="Space Dialogue, round 4 (moved)")
    meeting = do_update_meeting(author, meeting, label=JPN_ONLY)
    do_publish(meeting)  # nothing new to say: no version

    versions = _versions(meeting)
    assert len(versions) == 3 and [v.is_current for v in versions] == [False, False, True]
    assert {v.stix_id for v in versions} == {f"kizuna-meeting--{meeting.uuid}"}
    keys = [timestamp_key(v.modified) for v in versions]
    assert keys == sorted(keys) and len(set(keys)) == 3
    row, obj = _current(meeting)
    assert obj["name"] == "Space Dialogue, round 4 (moved)" and obj["ical_sequence"] == 2
    assert label_of(row.label) == JPN_ONLY and label_of(versions[0].label) == SHARED


def test_a_cancelled_meeting_is_a_new_version_not_a_revocation(author: Any) -> None:
    meeting = do_cancel_meeting(author, _meeting(author), reason="typhoon")
    row, obj = _current(meeting)
    assert obj["status"] == "cancelled" and obj["cancel_reason"] == "typhoon"
    assert not row.revoked and "revoked" not in obj and len(_versions(meeting)) == 2


def test_drafts_never_leave_and_publication_stores_them(author: Any) -> None:
    meeting = _meeting(author)
    opening = do_add_agenda_item(author, meeting, "Opening", SHARED, presenter="Chair")
    threat = do_add_agenda_item(author, meeting, "Threat picture", JPN_ONLY, duration_minutes=30)
    assert not _versions(opening) and not _versions(threat)  # a draft agenda is the organisers' only

    meeting = services.do_publish_agenda(author, meeting)
    _, obj = _current(meeting)
    assert "agenda_published" in obj
    row, item = _current(threat)
    assert label_of(row.label) == JPN_ONLY
    assert (item["name"], item["order"], item["duration_minutes"], item["meeting_ref"]) == (
        "Threat picture", 2, 30, stix_id_of(meeting))
    _valid(item)

    part = services.do_add_minutes(author, meeting, "We agreed to *share more*.", JPN_ONLY, agenda_item=threat)
    decision = services.do_record_decision(author, meeting, "Exchange liaison officers.", SHARED)
    assert not _versions(part) and not _versions(decision)  # draft minutes stay home
    services.do_publish_minutes(author, meeting)
    _, minutes = _current(part)
    assert (minutes["text"], minutes["text_format"], minutes["agenda_item_ref"]) == (
        "We agreed to *share more*.", "markdown", stix_id_of(threat))
    _, made = _current(decision)
    assert made["type"] == DECISION_TYPE and "agenda_item_ref" not in made
    _valid(minutes)
    _valid(made)


def test_an_action_owned_by_a_person_names_only_their_organisation(author: Any, make_user: Any) -> None:
    owner = make_user("minjun", "KOR", "KOR-MND")
    meeting = _meeting(author, series=_series(author))
    action = do_create_action(author, "Share the launch schedule", SHARED, meeting=meeting, owner_user=owner,
                              due=date(2026, 7, 1))
    org_action = do_create_action(author, "Host round 5", SHARED, meeting=meeting,
                                  owner_organisation=Organisation.objects.get(code="JPN-MOD"))

    row, obj = _current(action)
    assert (obj["owner_kind"], obj["owner_organisation"], obj["due"], obj["status"]) == (
        "person", "KOR-MND", "2026-07-01", "open")
    assert obj["meeting_ref"] == stix_id_of(meeting) and obj["series_ref"] == stix_id_of(meeting.series)
    assert "minjun" not in row.data
    _valid(obj)
    _, other = _current(org_action)
    assert (other["owner_kind"], other["owner_organisation"]) == ("organisation", "JPN-MOD")


def test_deleting_a_record_makes_a_revoked_version(author: Any) -> None:
    meeting = _meeting(author)
    item = do_add_agenda_item(author, meeting, "Any other business", SHARED)
    meeting = services.do_publish_agenda(author, meeting)
    decision = services.do_record_decision(author, meeting, "Meet again in July.", SHARED, agenda_item=item)
    services.do_publish_minutes(author, meeting)

    services.do_delete_agenda_item(author, item)

    row, obj = _current(item)
    assert row.revoked and obj["revoked"] is True and obj["name"] == "Any other business"
    # The decision under it stays, about the meeting as a whole: a new version without the reference.
    _, made = _current(decision)
    assert "agenda_item_ref" not in made and len(_versions(decision)) == 2
    services.do_delete_decision(author, decision)
    assert StixObject.objects.get(stix_id=stix_id_of(decision), is_current=True).revoked


def test_revoking_an_agenda_item_revokes_the_minutes_deleted_with_it(author: Any) -> None:
    meeting = _meeting(author)
    item = do_add_agenda_item(author, meeting, "Space debris", SHARED)
    meeting = services.do_publish_agenda(author, meeting)
    part = services.do_add_minutes(author, meeting, "Debris tracking data to be exchanged.", SHARED, agenda_item=item)
    services.do_publish_minutes(author, meeting)
    part_id = stix_id_of(part)

    do_publish(item, revoked=True)  # what a deletion that takes its minutes with it (CASCADE) publishes

    assert StixObject.objects.get(stix_id=part_id, is_current=True).revoked


def test_a_received_copy_is_never_published_here(author: Any) -> None:
    meeting = _meeting(author)
    copy_id = f"kizuna-meeting--{uuid.uuid4()}"
    Meeting.objects.filter(pk=meeting.pk).update(stix_id=copy_id)
    meeting.refresh_from_db()
    assert is_received(meeting)
    do_publish(meeting)
    do_publish(meeting, revoked=True)
    assert not StixObject.objects.filter(stix_id=copy_id).exists()


def test_publish_all_backfills_once(author: Any) -> None:
    meeting = _meeting(author, series=_series(author))
    action = do_create_action(author, "Circulate the summary", SHARED, meeting=meeting,
                              owner_organisation=Organisation.objects.get(code="JPN-MOD"))
    ids = [stix_id_of(r) for r in (meeting, meeting.series, action)]
    StixObject.objects.filter(stix_id__in=ids).delete()

    call_command("consultations_stix", "publish")

    assert StixObject.objects.filter(stix_id__in=ids, is_current=True).count() == 3
    assert do_publish_all() == (0, [])


# ---- in -------------------------------------------------------------------------------------------------------------

V1, V2 = "2026-03-01T00:00:00.000Z", "2026-03-02T00:00:00.000Z"
EXT = {CONSULTATION_EXTENSION_ID: {"extension_type": "new-sdo"}}


def remote_meeting(label: Any, *, stix_id: str | None = None, modified: str = V1, **extra: Any) -> dict[str, Any]:
    return {
        "type": MEETING_TYPE, "spec_version": "2.1", "id": stix_id or f"{MEETING_TYPE}--{uuid.uuid4()}",
        "created": V1, "modified": modified, "name": "Maritime security talks", "start_time": "2026-06-10T01:00:00.000Z",
        "end_time": "2026-06-10T03:00:00.000Z", "time_zone": "Asia/Tokyo", "mode": "virtual",
        "link": "https://vtc.example.org/m", "status": "scheduled", "ical_uid": f"{uuid.uuid4()}@kizuna",
        "ical_sequence": 0, "agenda_published": V1, "attendee_counts": {"total": 3},
        "object_marking_refs": [label_marking_id(label)], "extensions": EXT, **extra,
    }


def remote_record(stix_type: str, label: Any, meeting_id: str, *, stix_id: str | None = None,
                  modified: str = V1, **extra: Any) -> dict[str, Any]:
    return {
        "type": stix_type, "spec_version": "2.1", "id": stix_id or f"{stix_type}--{uuid.uuid4()}",
        "created": V1, "modified": modified, "meeting_ref": meeting_id,
        "object_marking_refs": [label_marking_id(label)], "extensions": EXT, **extra,
    }


def test_a_received_meeting_becomes_a_local_read_only_meeting_once(
        medallion: str, remote: tuple[RemoteNode, Peer], make_user: Any) -> None:  # noqa: F811 - fixtures
    node, peer = remote
    meeting = node.sign(remote_meeting(SHARED))
    post(medallion, [label_marking(SHARED), meeting])

    [result] = sync.sync_peer(peer)

    assert result.ok, result.error
    local = Meeting.objects.get(stix_id=meeting["id"])
    assert is_received(local)
    assert local.label_id == StixObject.objects.get(stix_id=meeting["id"]).label_id
    assert local.originator_id == peer.organisation_id and local.created_by_id == peer.account_id
    assert (local.title, local.start, local.end, local.time_zone, local.mode, local.link) == (
        "Maritime security talks", datetime(2026, 6, 10, 1, tzinfo=UTC), datetime(2026, 6, 10, 3, tzinfo=UTC),
        "Asia/Tokyo", "virtual", "https://vtc.example.org/m")
    assert local.uid == meeting["ical_uid"] and local.agenda_published_at is not None
    assert local.created_at.isoformat().startswith("2026-03-01T00:00:00")
    assert AuditEntry.objects.filter(actor=f"peer:{peer.name}", action="receive", target_type="meeting").exists()

    # Read again from the start: nothing changes, no second row.
    sync.SyncCursor.objects.filter(peer=peer).update(added_after=None, next_token="")
    [again] = sync.sync_peer(peer)
    assert again.ok and Meeting.objects.filter(stix_id=meeting["id"]).count() == 1

    # Who may see it is decided by its label, like any local meeting.
    jpn, kor = make_user("sakura", "JPN", "JPN-MOD"), make_user("jisoo", "KOR", "KOR-MND")
    assert Meeting.objects.visible_to(subject_for(jpn)).filter(pk=local.pk).exists()
    assert Meeting.objects.visible_to(subject_for(kor)).filter(pk=local.pk).exists()  # KOR is in IP4

    # The originator cancels it: a new version, the local copy follows.
    cancelled = node.sign(remote_meeting(SHARED, stix_id=meeting["id"], modified=V2, status="cancelled",
                                         cancel_reason="typhoon", ical_sequence=1))
    post(medallion, [cancelled])
    [third] = sync.sync_peer(peer)
    assert third.ok and third.received == 1
    local.refresh_from_db()
    assert (local.status, local.cancel_reason, local.sequence) == (MeetingStatus.CANCELLED, "typhoon", 1)


def test_children_arriving_before_their_meeting_become_rows_when_it_arrives(
        medallion: str, remote: tuple[RemoteNode, Peer], make_user: Any) -> None:  # noqa: F811 - fixtures
    node, peer = remote
    make_user("jisoo", "KOR", "KOR-MND")  # the owning organisation is known here
    meeting_id = f"{MEETING_TYPE}--{uuid.uuid4()}"
    item = node.sign(remote_record(AGENDA_ITEM_TYPE, SHARED, meeting_id, name="Port visits", order=1))
    part = node.sign(remote_record(MINUTES_TYPE, JPN_ONLY, meeting_id, text="Calm seas.", order=1,
                                   agenda_item_ref=item["id"]))
    action = node.sign(remote_record(ACTION_TYPE, SHARED, meeting_id, name="Send the schedule", owner_kind="person",
                                     owner_organisation="KOR-MND", due="2026-07-01", status="in_progress"))
    post(medallion, [label_marking(SHARED), label_marking(JPN_ONLY), item, part, action])
    [first] = sync.sync_peer(peer)
    assert first.ok, first.error
    # Stored (served by TAXII to whom the labels allow), but no rows without their meeting.
    assert StixObject.objects.filter(stix_id__in=[item["id"], part["id"], action["id"]]).count() == 3
    assert not AgendaItem.objects.exists() and not MinutesPart.objects.exists() and not ActionItem.objects.exists()

    # The meeting arrives later (say its label was widened only now): its children become rows with it.
    post(medallion, [node.sign(remote_meeting(SHARED, stix_id=meeting_id))])
    [second] = sync.sync_peer(peer)
    assert second.ok, second.error
    local = Meeting.objects.get(stix_id=meeting_id)
    [agenda] = AgendaItem.objects.filter(meeting=local)
    assert (agenda.title, agenda.stix_id) == ("Port visits", item["id"])
    [minutes] = MinutesPart.objects.filter(meeting=local)
    assert minutes.agenda_item_id == agenda.pk and label_of(minutes.label) == JPN_ONLY
    assert minutes.author_id == peer.account_id
    [made] = ActionItem.objects.filter(meeting=local)
    assert made.owner_organisation == Organisation.objects.get(code="KOR-MND") and made.owner_user is None
    assert (made.status, made.due) == (ActionStatus.IN_PROGRESS, date(2026, 7, 1))

    # A revoked version removes the local copy.
    post(medallion, [node.sign({**part, "modified": V2, "revoked": True})])
    [third] = sync.sync_peer(peer)
    assert third.ok and not MinutesPart.objects.filter(stix_id=part["id"]).exists()


def test_a_peer_cannot_attach_records_to_this_nodes_own_meeting(
        medallion: str, remote: tuple[RemoteNode, Peer], make_user: Any) -> None:  # noqa: F811 - fixtures
    node, peer = remote
    own = _meeting(make_user("aiko", "JPN", "JPN-MOD"))
    intruder = node.sign(remote_record(DECISION_TYPE, SHARED, stix_id_of(own), text="Decided elsewhere."))
    post(medallion, [label_marking(SHARED), intruder])
    [result] = sync.sync_peer(peer)
    assert result.ok, result.error
    assert not Decision.objects.filter(meeting=own).exists()


def test_received_records_unknown_owner_falls_back_to_the_sending_node(
        medallion: str, remote: tuple[RemoteNode, Peer]) -> None:  # noqa: F811 - fixtures
    node, peer = remote
    meeting = node.sign(remote_meeting(SHARED, link="javascript:alert(1)"))
    action = node.sign(remote_record(ACTION_TYPE, SHARED, meeting["id"], name="Draft the statement",
                                     owner_kind="organisation", owner_organisation="NOWHERE-ORG"))
    post(medallion, [label_marking(SHARED), meeting, action])
    [result] = sync.sync_peer(peer)
    assert result.ok, result.error
    assert Meeting.objects.get(stix_id=meeting["id"]).link == ""  # only https addresses become links
    assert ActionItem.objects.get(stix_id=action["id"]).owner_organisation_id == peer.organisation_id


# ---- serving and read-only copies ------------------------------------------------------------------------------------

TAXII = "application/taxii+json;version=2.1"
EVERYTHING = "6b697a75-6e61-4000-8000-000000000001"


def _taxii(path: str, user: Any) -> Any:
    from django.test import Client

    from kizuna.directory.services import create_token

    return Client().get(path, HTTP_ACCEPT=TAXII, HTTP_AUTHORIZATION=f"Bearer {create_token(user)[1]}")


def test_taxii_serves_a_meeting_only_to_readers_of_its_label(author: Any, make_user: Any) -> None:
    meeting = _meeting(author, label=JPN_ONLY)
    stix_id = stix_id_of(meeting)
    kor = make_user("jisoo", "KOR", "KOR-MND")

    served = _taxii(f"/taxii2/kizuna/collections/{EVERYTHING}/objects/{stix_id}/", author)
    assert served.status_code == 200
    [obj] = served.json()["objects"]
    assert label_marking_id(JPN_ONLY) in obj["object_marking_refs"]
    assert _taxii(f"/taxii2/kizuna/collections/{EVERYTHING}/objects/{stix_id}/", kor).status_code == 404
    listing = _taxii(f"/taxii2/kizuna/collections/{EVERYTHING}/objects/", kor).json()
    assert stix_id not in {o["id"] for o in listing.get("objects", [])}


def test_taxii_serves_the_extension_definition_by_id(author: Any) -> None:
    answer = _taxii(f"/taxii2/kizuna/collections/{EVERYTHING}/objects/{CONSULTATION_EXTENSION_ID}/", author)
    assert answer.status_code == 200 and answer.json()["objects"] == [consultation_extension_definition()]


def test_a_received_meeting_cannot_be_changed_here_even_by_a_coordinator_of_the_sending_nation(
        medallion: str, remote: tuple[RemoteNode, Peer], make_user: Any) -> None:  # noqa: F811 - fixtures
    from kizuna.core.errors import ServiceError

    node, peer = remote  # entitled to JPN: its organisation's nation is JPN
    meeting = node.sign(remote_meeting(SHARED))
    post(medallion, [label_marking(SHARED), meeting])
    [result] = sync.sync_peer(peer)
    assert result.ok, result.error
    local = Meeting.objects.get(stix_id=meeting["id"])
    coordinator = make_user("kenta", "JPN", "JPN-MOD", role="coordinator")
    with pytest.raises(ServiceError):
        do_update_meeting(coordinator, local, title="edited here")
