"""Issue 10, items 3 and 6: the forms this node builds of consultation records never point past their own label, and
what goes back to draft stops being served as current.

3. A visible record's STIX form names a hidden one: an IP4 action on a KOR-only meeting carried ``meeting_ref`` and
   ``series_ref``; minutes carried ``agenda_item_ref`` to a hidden item; a visible item's ``order`` (REST and STIX)
   showed that a hidden item stands before it.
6. Unpublishing an agenda (or minutes) left its items served as current STIX objects.

Each form is checked where readers get it: /api/v1/stix/objects (list and one), the export bundle and TAXII."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from kizuna.consultations import services
from kizuna.consultations.models import AgendaItem, Meeting, MeetingMode, Series
from kizuna.consultations.services import (
    MeetingInput,
    SeriesInput,
    do_add_agenda_item,
    do_create_action,
    do_create_meeting,
    do_create_series,
)
from kizuna.consultations.stix import AGENDA_ITEM_TYPE, DECISION_TYPE, MINUTES_TYPE, stix_id_of
from kizuna.directory.services import create_token
from kizuna.threats.models import StixObject
from tests.conftest import make_label
from tests.consultations.test_stix import _own_data_dir  # noqa: F401 - autouse: node keys per test

pytestmark = pytest.mark.django_db

IP4 = make_label(releasable_to=["IP4"])
KOR_ONLY = make_label(releasable_to=["KOR"])
START = datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
TAXII = "application/taxii+json;version=2.1"
EVERYTHING = "6b697a75-6e61-4000-8000-000000000001"


@pytest.fixture
def organiser(make_user: Any) -> Any:
    return make_user("minjun", "KOR", "KOR-MND")


@pytest.fixture
def reader(make_user: Any) -> Any:
    return make_user("hanako", "JPN", "JPN-MOD")


def _series(user: Any, label: Any) -> Series:
    return do_create_series(user, SeriesInput(title="Korea–NATO dialogue", label=label, time_zone="Asia/Seoul"))


def _meeting(user: Any, label: Any, series: Series | None = None) -> Meeting:
    return do_create_meeting(user, MeetingInput(
        title="Round 7", label=label, start=START, end=START + timedelta(hours=2), time_zone="Asia/Seoul",
        mode=MeetingMode.VIRTUAL, link="https://vtc.example.org/7", series=series, attendees=[]))


def _client(user: Any) -> tuple[Client, dict[str, str]]:
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {create_token(user)[1]}"}


def served(user: Any, stix_id: str) -> dict[str, dict[str, Any] | None]:
    """The object as ``user`` gets it on each path (None where it is not served to them as current)."""
    client, auth = _client(user)
    stix_type = stix_id.split("--", 1)[0]
    out: dict[str, dict[str, Any] | None] = {}
    one = client.get(f"/api/v1/stix/objects/{stix_id}", **auth)
    out["rest"] = one.json()["object"] if one.status_code == 200 and not one.json()["revoked"] else None
    listing = client.get(f"/api/v1/stix/objects?type={stix_type}&limit=200", **auth).json()["items"]
    out["list"] = next(({"id": i["id"]} for i in listing if i["id"] == stix_id and not i["revoked"]), None)
    bundle = json.loads(b"".join(client.get(f"/api/v1/stix/bundles?id={stix_id}", **auth).streaming_content))
    out["export"] = next((o for o in bundle.get("objects", []) if o["id"] == stix_id and not o.get("revoked")), None)
    taxii = client.get(f"/taxii2/kizuna/collections/{EVERYTHING}/objects/{stix_id}/", HTTP_ACCEPT=TAXII, **auth)
    objects = taxii.json().get("objects", []) if taxii.status_code == 200 else []
    out["taxii"] = next((o for o in objects if o["id"] == stix_id and not o.get("revoked")), None)
    return out


def stored(record: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(StixObject.objects.get(stix_id=stix_id_of(record), is_current=True).data)
    return data


def _forms(user: Any, record: Any) -> list[dict[str, Any]]:
    """Every full form the reader is served (the list gives no body), plus the stored one."""
    paths = served(user, stix_id_of(record))
    assert all(paths.values()), paths  # the reader may see the record on every path
    return [f for k, f in paths.items() if k != "list" and f is not None] + [stored(record)]


# --- item 3 ------------------------------------------------------------------------------------------------------------


def test_an_ip4_action_on_a_kor_only_meeting_names_neither_the_meeting_nor_the_series(
        organiser: Any, reader: Any) -> None:
    series = _series(organiser, KOR_ONLY)
    meeting = _meeting(organiser, KOR_ONLY, series)
    action = do_create_action(organiser, "Draft the joint statement", IP4, meeting=meeting,
                              owner_organisation=organiser.organisation)
    assert action.series_id == series.pk
    for form in _forms(reader, action):
        assert "meeting_ref" not in form and "series_ref" not in form
        assert stix_id_of(meeting) not in json.dumps(form) and stix_id_of(series) not in json.dumps(form)


def test_references_appear_once_the_target_is_relabelled_wider_and_go_when_narrowed(
        organiser: Any, reader: Any) -> None:
    from kizuna.consultations.services import do_update_meeting, do_update_series

    series = _series(organiser, KOR_ONLY)
    meeting = _meeting(organiser, KOR_ONLY, series)
    action = do_create_action(organiser, "Draft", IP4, meeting=meeting, owner_organisation=organiser.organisation)
    do_update_meeting(organiser, meeting, label=IP4)
    assert stored(action)["meeting_ref"] == stix_id_of(meeting) and "series_ref" not in stored(action)
    do_update_series(organiser, series, label=make_label(releasable_to=["NATO", "IP4"]))
    assert stored(action)["series_ref"] == stix_id_of(series)
    do_update_meeting(organiser, Meeting.objects.get(pk=meeting.pk), label=KOR_ONLY)
    assert "meeting_ref" not in stored(action) and stored(action)["series_ref"] == stix_id_of(series)


def _published_meeting(organiser: Any) -> tuple[Meeting, AgendaItem, AgendaItem]:
    meeting = _meeting(organiser, IP4)
    hidden = do_add_agenda_item(organiser, meeting, "Bilateral matters", KOR_ONLY)
    visible = do_add_agenda_item(organiser, meeting, "Maritime security", IP4)
    meeting = services.do_publish_agenda(organiser, meeting)
    return meeting, hidden, visible


def test_minutes_do_not_name_a_hidden_agenda_item(organiser: Any, reader: Any) -> None:
    meeting, hidden, _ = _published_meeting(organiser)
    part = services.do_add_minutes(organiser, meeting, "Agreed to meet again.", IP4, hidden)
    decision = services.do_record_decision(organiser, meeting, "Exercise in May.", IP4, hidden)
    services.do_publish_minutes(organiser, Meeting.objects.get(pk=meeting.pk))
    for record in (part, decision):
        for form in _forms(reader, record):
            assert "agenda_item_ref" not in form and stix_id_of(hidden) not in json.dumps(form)
            assert form["meeting_ref"] == stix_id_of(meeting)
    # REST: not pointed at either.
    client, auth = _client(reader)
    minutes = client.get(f"/api/v1/consultations/meetings/{meeting.pk}/minutes", **auth).json()
    assert [p["agenda_item"] for p in minutes["parts"]] == [None]
    assert [d["agenda_item"] for d in minutes["decisions"]] == [None]
    # Relabelled wider, the item is named again (the minutes' stored forms are published anew).
    services.do_update_agenda_item(organiser, AgendaItem.objects.get(pk=hidden.pk), label=IP4)
    assert stored(part)["agenda_item_ref"] == stix_id_of(hidden)
    assert stored(decision)["agenda_item_ref"] == stix_id_of(hidden)


def test_a_visible_item_is_numbered_among_what_its_readers_see(organiser: Any, reader: Any) -> None:
    meeting, hidden, visible = _published_meeting(organiser)
    assert AgendaItem.objects.get(pk=visible.pk).order == 2  # stored: after the hidden one
    for form in _forms(reader, visible):
        assert form["order"] == 1
    client, auth = _client(reader)
    agenda = client.get(f"/api/v1/consultations/meetings/{meeting.pk}/agenda", **auth).json()
    assert [(i["id"], i["order"]) for i in agenda["items"]] == [(visible.pk, 1)]
    # The organiser sees both, in their order.
    client, auth = _client(organiser)
    agenda = client.get(f"/api/v1/consultations/meetings/{meeting.pk}/agenda", **auth).json()
    assert [(i["id"], i["order"]) for i in agenda["items"]] == [(hidden.pk, 1), (visible.pk, 2)]
    answer = client.patch(f"/api/v1/consultations/agenda-items/{visible.pk}", data={"title": "Maritime"},
                          content_type="application/json", **auth).json()
    assert answer["order"] == 2
    # Relabelled wider, the hidden one now counts for every reader: the visible item's stored form moves to 2.
    services.do_update_agenda_item(organiser, AgendaItem.objects.get(pk=hidden.pk), label=IP4)
    assert stored(visible)["order"] == 2


def test_minutes_parts_are_numbered_among_what_readers_see(organiser: Any, reader: Any) -> None:
    meeting, _, _ = _published_meeting(organiser)
    services.do_add_minutes(organiser, meeting, "Korean statement.", KOR_ONLY)
    shown = services.do_add_minutes(organiser, meeting, "Common statement.", IP4)
    services.do_publish_minutes(organiser, Meeting.objects.get(pk=meeting.pk))
    for form in _forms(reader, shown):
        assert form["order"] == 1
    client, auth = _client(reader)
    minutes = client.get(f"/api/v1/consultations/meetings/{meeting.pk}/minutes", **auth).json()
    assert [(p["id"], p["order"]) for p in minutes["parts"]] == [(shown.pk, 1)]


# --- item 6 ------------------------------------------------------------------------------------------------------------


def test_an_unpublished_agenda_is_no_longer_served_and_republishing_makes_new_objects(
        organiser: Any, reader: Any) -> None:
    meeting, hidden, visible = _published_meeting(organiser)
    old_id = stix_id_of(visible)
    assert all(served(reader, old_id).values())
    services.do_unpublish_agenda(organiser, Meeting.objects.get(pk=meeting.pk))
    assert not any(served(reader, old_id).values())
    assert not any(served(organiser, stix_id_of(hidden)).values())
    row = StixObject.objects.get(stix_id=old_id, is_current=True)
    assert row.revoked and json.loads(row.data)["revoked"] is True
    # Published again: a new object (a STIX revocation is final), served as current; the old one stays revoked.
    services.do_publish_agenda(organiser, Meeting.objects.get(pk=meeting.pk))
    again = AgendaItem.objects.get(pk=visible.pk)
    assert stix_id_of(again) != old_id
    assert all(served(reader, stix_id_of(again)).values())
    assert StixObject.objects.get(stix_id=old_id, is_current=True).revoked


def test_unpublished_minutes_and_decisions_are_no_longer_served(organiser: Any, reader: Any) -> None:
    meeting, _, _ = _published_meeting(organiser)
    part = services.do_add_minutes(organiser, meeting, "Agreed.", IP4)
    decision = services.do_record_decision(organiser, meeting, "Decided.", IP4)
    services.do_publish_minutes(organiser, Meeting.objects.get(pk=meeting.pk))
    ids = [stix_id_of(part), stix_id_of(decision)]
    assert all(all(served(reader, i).values()) for i in ids)
    services.do_unpublish_minutes(organiser, Meeting.objects.get(pk=meeting.pk))
    for stix_id in ids:
        assert not any(served(reader, stix_id).values())
    client, auth = _client(reader)
    for stix_type in (AGENDA_ITEM_TYPE, MINUTES_TYPE, DECISION_TYPE):
        listing = client.get(f"/api/v1/stix/objects?type={stix_type}", **auth).json()["items"]
        assert not {i["id"] for i in listing} & set(ids)


def test_an_action_stops_naming_an_item_whose_agenda_went_back_to_draft(organiser: Any, reader: Any) -> None:
    meeting, _, visible = _published_meeting(organiser)
    action = do_create_action(organiser, "Follow up", IP4, meeting=meeting, agenda_item=visible,
                              owner_organisation=organiser.organisation)
    assert stored(action)["agenda_item_ref"] == stix_id_of(visible)
    services.do_unpublish_agenda(organiser, Meeting.objects.get(pk=meeting.pk))
    assert "agenda_item_ref" not in stored(action)
    services.do_publish_agenda(organiser, Meeting.objects.get(pk=meeting.pk))
    assert stored(action)["agenda_item_ref"] == stix_id_of(AgendaItem.objects.get(pk=visible.pk))


def test_the_printed_minutes_number_items_among_what_the_reader_sees(organiser: Any, reader: Any) -> None:
    from django.urls import reverse

    meeting, _, _ = _published_meeting(organiser)
    web = Client()
    web.force_login(reader)
    page = web.get(reverse("consultations_print:minutes_print", args=[meeting.pk])).content.decode()
    assert '<td class="num">1</td>' in page and '<td class="num">2</td>' not in page
    web.force_login(organiser)
    page = web.get(reverse("consultations_print:minutes_print", args=[meeting.pk])).content.decode()
    assert '<td class="num">1</td>' in page and '<td class="num">2</td>' in page
