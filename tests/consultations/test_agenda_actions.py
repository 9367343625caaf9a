"""Agenda items and action items: organisers only, labels checked, linked reports and owners must be visible."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from kizuna.consultations.models import ActionItem, ActionStatus, AgendaItem, Meeting
from kizuna.consultations.services import (
    MeetingInput,
    do_add_agenda_item,
    do_create_action,
    do_create_meeting,
    do_set_action_status,
)
from kizuna.core.errors import ServiceError
from kizuna.core.models import AuditEntry
from kizuna.directory.models import Organisation
from kizuna.directory.subjects import subject_for
from kizuna.reports.services import ReportInput, do_create_report
from tests.conftest import make_label


def _meeting(user: Any) -> Meeting:
    start = datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
    return do_create_meeting(user, MeetingInput(
        title="Cyber", label=make_label(releasable_to=["IP4"]), start=start, end=start + timedelta(hours=2),
        time_zone="Europe/Brussels", link="https://meet.example.org/c"))


def test_agenda_items_are_ordered_and_link_only_visible_reports(jpn_user: Any, kor_user: Any) -> None:
    meeting = _meeting(jpn_user)
    mine = do_create_report(jpn_user, ReportInput(title="Ransomware trends", label=make_label(releasable_to=["JPN"])))
    theirs = do_create_report(kor_user, ReportInput(title="KOR only", label=make_label(releasable_to=["KOR"])))
    first = do_add_agenda_item(jpn_user, meeting, "Opening", make_label(releasable_to=["IP4"]), presenter="Chair")
    second = do_add_agenda_item(jpn_user, meeting, "Threat picture", make_label(releasable_to=["JPN"]), reports=[mine])
    assert (first.order, second.order) == (1, 2)
    assert list(second.reports.all()) == [mine]
    with pytest.raises(ServiceError, match="no such report") as err:
        do_add_agenda_item(jpn_user, meeting, "Leak", make_label(releasable_to=["IP4"]), reports=[theirs])
    assert err.value.field == "reports"
    with pytest.raises(ServiceError, match="organisers"):
        do_add_agenda_item(kor_user, meeting, "Mine", make_label(releasable_to=["IP4"]))
    with pytest.raises(ServiceError) as err:
        do_add_agenda_item(jpn_user, meeting, "Long", make_label(releasable_to=["IP4"]), duration_minutes=0)
    assert err.value.field == "duration_minutes"
    assert AgendaItem.objects.count() == 2
    # The JPN-only item is invisible to Korea even though the meeting is not.
    assert list(AgendaItem.objects.visible_to(subject_for(kor_user)).values_list("title", flat=True)) == ["Opening"]


def test_action_owner_must_see_its_label_and_status_moves(jpn_user: Any, kor_user: Any, make_user: Any) -> None:
    meeting = _meeting(jpn_user)
    with pytest.raises(ServiceError) as err:
        do_create_action(jpn_user, "Share IOCs", make_label(releasable_to=["JPN"]), meeting=meeting, owner_user=kor_user)
    assert err.value.field == "owner"
    with pytest.raises(ServiceError) as err:
        do_create_action(jpn_user, "Nobody", make_label(releasable_to=["IP4"]), meeting=meeting)
    assert err.value.field == "owner"
    with pytest.raises(ServiceError) as err:
        do_create_action(jpn_user, "Orphan", make_label(releasable_to=["IP4"]), owner_user=kor_user)
    assert err.value.field == "meeting"
    assert ActionItem.objects.count() == 0
    assert not AuditEntry.objects.filter(target_type="action").exists()

    action = do_create_action(jpn_user, "Share IOCs", make_label(releasable_to=["IP4"]), meeting=meeting,
                              owner_user=kor_user, due=date(2026, 6, 30))
    org_action = do_create_action(jpn_user, "Host next round", make_label(releasable_to=["IP4"]), meeting=meeting,
                                  owner_organisation=Organisation.objects.get(code="KOR-MND"))
    assert do_set_action_status(kor_user, action, ActionStatus.IN_PROGRESS).status == ActionStatus.IN_PROGRESS
    assert do_set_action_status(kor_user, org_action, ActionStatus.DONE).status == ActionStatus.DONE
    outsider = make_user("ken", "JPN", "JPN-NISC")
    with pytest.raises(ServiceError, match="owner or the organisers"):
        do_set_action_status(outsider, action, ActionStatus.DONE)
    with pytest.raises(ServiceError) as err:
        do_set_action_status(kor_user, action, "finished")
    assert err.value.field == "status"
    assert do_set_action_status(jpn_user, action, ActionStatus.DROPPED).status == ActionStatus.DROPPED
    assert AuditEntry.objects.filter(target_type="action", action="status").count() == 3


def test_an_action_is_created_with_its_agenda_item_and_notes_in_one_write(jpn_user: Any) -> None:
    from kizuna.core.models import Version

    meeting = _meeting(jpn_user)
    item = do_add_agenda_item(jpn_user, meeting, "Threat picture", make_label(releasable_to=["JPN"]))
    other = do_add_agenda_item(jpn_user, _meeting(jpn_user), "Elsewhere", make_label(releasable_to=["JPN"]))
    audits, versions = AuditEntry.objects.count(), Version.objects.count()
    with pytest.raises(ServiceError) as refused:
        do_create_action(jpn_user, "Share the IOCs", make_label(releasable_to=["JPN"]), meeting=meeting,
                         owner_user=jpn_user, agenda_item=other, notes="see annex")
    assert refused.value.field == "agenda_item"
    assert not ActionItem.objects.filter(title="Share the IOCs").exists()
    assert (AuditEntry.objects.count(), Version.objects.count()) == (audits, versions)

    action = do_create_action(jpn_user, "Share the IOCs", make_label(releasable_to=["JPN"]), meeting=meeting,
                              owner_user=jpn_user, agenda_item=item, notes="See **annex A**.")
    action.refresh_from_db()
    assert (action.agenda_item_id, action.notes) == (item.pk, "See **annex A**.")
    assert AuditEntry.objects.count() == audits + 1 and Version.objects.count() == versions + 1
