"""The meeting cycle: only organisers write; drafts are read by organisers only and published parts by label, after
visible_to; the open actions of a series come back on its next meeting; action edits follow owner/organiser rules;
only invitees answer; bad input writes nothing; STIX and notifications are called from the writes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.http import Http404

from kizuna.consultations import queries, services
from kizuna.consultations.models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    Attendee,
    Decision,
    Meeting,
    MinutesPart,
    NotificationKind,
    Rsvp,
    Series,
)
from kizuna.consultations.notify import notify as real_notify
from kizuna.consultations.notify import ref_of
from kizuna.consultations.services import (
    MeetingInput,
    SeriesInput,
    do_add_agenda_item,
    do_cancel_meeting,
    do_create_action,
    do_create_meeting,
    do_create_series,
    do_set_action_status,
    do_update_meeting,
)
from kizuna.core.errors import NotFound, ServiceError
from kizuna.core.models import AuditEntry, LabelRecord, Version
from kizuna.directory.models import Organisation
from kizuna.notifications.models import Notification
from tests.conftest import make_label

IP4 = make_label(releasable_to=["IP4"])
JPN = make_label(releasable_to=["JPN"])
KOR = make_label(releasable_to=["KOR"])


@dataclass
class Calls:
    """What the services asked of the STIX and notification modules (replaced here: they have their own tests)."""

    published: list[tuple[str, int, bool]] = field(default_factory=list)
    notified: list[tuple[str, list[str], str]] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.notified]

    def to(self, kind: str) -> list[list[str]]:
        return [users for k, users, _ in self.notified if k == kind]


@pytest.fixture(autouse=True)
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    from kizuna.consultations import notify
    from kizuna.consultations.services import sharing

    seen = Calls()

    def publish(record: Any, *, revoked: bool = False) -> None:
        seen.published.append((type(record).__name__, record.pk, revoked))

    def record_notice(kind: str, users: Any, *, meeting: Any = None, action: Any = None, key: str = "") -> int:
        names = sorted(u.username for u in users)
        seen.notified.append((str(kind), names, key))
        return len(names)

    monkeypatch.setattr(sharing, "do_publish", publish)
    monkeypatch.setattr(notify, "notify", record_notice)
    yield seen


def _meeting(user: Any, label: Any = IP4, attendees: list[Any] | None = None, start: datetime | None = None,
             series: Series | None = None) -> Meeting:
    start = start or datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
    return do_create_meeting(user, MeetingInput(
        title="Cyber", label=label, start=start, end=start + timedelta(hours=2), time_zone="Europe/Brussels",
        link="https://meet.example.org/c", attendees=attendees or [], series=series))


def _counts() -> tuple[int, ...]:
    return (AgendaItem.objects.count(), MinutesPart.objects.count(), Decision.objects.count(),
            ActionItem.objects.count(), AuditEntry.objects.count(), Version.objects.count(),
            LabelRecord.objects.count())


def _fresh(meeting: Meeting) -> Meeting:
    return Meeting.objects.get(pk=meeting.pk)


# --- permissions ---------------------------------------------------------------------------------------------------

def test_non_organisers_may_not_change_agenda_minutes_or_publication(jpn_user: Any, kor_user: Any) -> None:
    meeting = _meeting(jpn_user, attendees=[kor_user])
    item = do_add_agenda_item(jpn_user, meeting, "Opening", IP4)
    part = services.do_add_minutes(jpn_user, meeting, "Opened.", IP4, item)
    decision = services.do_record_decision(jpn_user, meeting, "Agreed.", IP4)
    before = _counts()
    attempts = [
        lambda: services.do_publish_agenda(kor_user, meeting),
        lambda: services.do_unpublish_agenda(kor_user, meeting),
        lambda: services.do_update_agenda_item(kor_user, item, title="Mine"),
        lambda: services.do_delete_agenda_item(kor_user, item),
        lambda: services.do_add_minutes(kor_user, meeting, "Mine", IP4),
        lambda: services.do_update_minutes(kor_user, part, text="Mine"),
        lambda: services.do_delete_minutes(kor_user, part),
        lambda: services.do_record_decision(kor_user, meeting, "Mine", IP4),
        lambda: services.do_update_decision(kor_user, decision, text="Mine"),
        lambda: services.do_delete_decision(kor_user, decision),
        lambda: services.do_publish_minutes(kor_user, meeting),
        lambda: services.do_unpublish_minutes(kor_user, meeting),
    ]
    for attempt in attempts:
        with pytest.raises(ServiceError, match="organisers"):
            attempt()
    assert _counts() == before
    assert queries.may_read_drafts(jpn_user, meeting) and not queries.may_read_drafts(kor_user, meeting)


def test_a_meeting_that_is_not_visible_is_missing(jpn_user: Any, kor_user: Any) -> None:
    secret = _meeting(jpn_user, label=JPN)
    assert queries.get_meeting_or_404(jpn_user, secret.pk).pk == secret.pk
    with pytest.raises(Http404):
        queries.get_meeting_or_404(kor_user, secret.pk)
    with pytest.raises(Http404):
        queries.get_meeting_or_404(kor_user, secret.pk + 1000)
    # Even handed a meeting it cannot see, a read returns nothing of it.
    do_add_agenda_item(jpn_user, secret, "Opening", IP4)
    services.do_publish_agenda(jpn_user, secret)
    assert queries.agenda_for(kor_user, _fresh(secret)) == []
    assert queries.actions_for(kor_user, secret) == []


# --- drafts and publication ------------------------------------------------------------------------------------------

def test_draft_agenda_is_read_by_organisers_and_the_published_one_by_label(
    jpn_user: Any, kor_user: Any, make_user: Any, calls: Calls
) -> None:
    outsider = make_user("lee", "KOR", "KOR-NIS")
    meeting = _meeting(jpn_user, attendees=[kor_user])
    assert calls.to(NotificationKind.INVITATION) == [["minjun"]]
    with pytest.raises(ServiceError, match="no items") as err:
        services.do_publish_agenda(jpn_user, meeting)
    assert err.value.field == "agenda"
    assert _fresh(meeting).agenda_published_at is None

    opening = do_add_agenda_item(jpn_user, meeting, "Opening", IP4)
    national = do_add_agenda_item(jpn_user, meeting, "National briefing", JPN)
    assert queries.agenda_for(jpn_user, meeting) == [opening, national]
    assert queries.agenda_for(kor_user, meeting) == []

    published = services.do_publish_agenda(jpn_user, meeting)
    assert published.agenda_published_at is not None
    assert queries.agenda_for(kor_user, published) == [opening]  # the JPN-only item stays hidden from Korea
    assert queries.agenda_for(outsider, published) == [opening]  # whoever may see the meeting, by each item's label
    assert queries.agenda_for(jpn_user, published) == [opening, national]
    assert calls.to(NotificationKind.AGENDA_PUBLISHED) == [["minjun"]]
    assert ("Meeting", meeting.pk, False) in calls.published
    assert AuditEntry.objects.filter(action="publish_agenda", target_ids=str(meeting.pk)).count() == 1
    assert services.do_publish_agenda(jpn_user, published).agenda_published_at == published.agenda_published_at

    draft = services.do_unpublish_agenda(jpn_user, published)
    assert draft.agenda_published_at is None
    assert queries.agenda_for(kor_user, draft) == []
    assert queries.agenda_for(jpn_user, draft) == [opening, national]


def test_draft_minutes_and_decisions_then_published_parts_by_label(jpn_user: Any, kor_user: Any, calls: Calls) -> None:
    meeting = _meeting(jpn_user, attendees=[kor_user])
    item = do_add_agenda_item(jpn_user, meeting, "Threat picture", IP4)
    with pytest.raises(ServiceError, match="empty") as err:
        services.do_publish_minutes(jpn_user, meeting)
    assert err.value.field == "minutes"
    general = services.do_add_minutes(jpn_user, meeting, "The chair opened the meeting.", IP4)
    under_item = services.do_add_minutes(jpn_user, meeting, "Japan briefed on **ransomware**.", JPN, item)
    shared = services.do_record_decision(jpn_user, meeting, "Share indicators within 24 hours.", IP4, item)
    national = services.do_record_decision(jpn_user, meeting, "Brief the ministry.", JPN)
    assert (general.order, under_item.order, under_item.agenda_item_id) == (1, 2, item.pk)
    assert queries.minutes_for(jpn_user, meeting) == [general, under_item]
    assert queries.decisions_for(jpn_user, meeting) == [shared, national]
    assert queries.minutes_for(kor_user, meeting) == []
    assert queries.decisions_for(kor_user, meeting) == []

    published = services.do_publish_minutes(jpn_user, meeting)
    assert queries.minutes_for(kor_user, published) == [general]
    assert queries.decisions_for(kor_user, published) == [shared]
    assert calls.to(NotificationKind.MINUTES_PUBLISHED) == [["minjun"]]

    # A relabel of a published part follows the label at once.
    services.do_update_minutes(jpn_user, under_item, label=IP4, text="Japan briefed.")
    assert [p.text for p in queries.minutes_for(kor_user, published)] == ["The chair opened the meeting.",
                                                                         "Japan briefed."]
    services.do_update_decision(jpn_user, national, agenda_item=item)
    assert Decision.objects.get(pk=national.pk).agenda_item_id == item.pk

    back = services.do_unpublish_minutes(jpn_user, published)
    assert queries.minutes_for(kor_user, back) == [] and queries.decisions_for(kor_user, back) == []

    services.do_delete_minutes(jpn_user, general)
    services.do_delete_decision(jpn_user, shared)
    assert ("MinutesPart", general.pk, True) in calls.published
    assert ("Decision", shared.pk, True) in calls.published
    assert queries.minutes_for(jpn_user, back) == [MinutesPart.objects.get(pk=under_item.pk)]


def test_bad_minutes_write_nothing(jpn_user: Any, kor_user: Any) -> None:
    meeting = _meeting(jpn_user)
    other = _meeting(jpn_user)
    foreign_item = do_add_agenda_item(jpn_user, other, "Elsewhere", IP4)
    hidden_item = do_add_agenda_item(kor_user, _meeting(kor_user, label=KOR), "Korea only", KOR)
    part = services.do_add_minutes(jpn_user, meeting, "Kept.", IP4)
    before = _counts()
    cases: list[tuple[Any, str]] = [
        (lambda: services.do_add_minutes(jpn_user, meeting, "   ", IP4), "text"),
        (lambda: services.do_add_minutes(jpn_user, meeting, "x" * (services.MAX_TEXT + 1), IP4), "text"),
        (lambda: services.do_add_minutes(jpn_user, meeting, "Misplaced", IP4, foreign_item), "agenda_item"),
        (lambda: services.do_add_minutes(jpn_user, meeting, "Hidden", IP4, hidden_item), "agenda_item"),
        (lambda: services.do_add_minutes(jpn_user, meeting, "Not mine", KOR), "label"),
        (lambda: services.do_record_decision(jpn_user, meeting, "", IP4), "text"),
        (lambda: services.do_update_minutes(jpn_user, part, text=""), "text"),
        (lambda: services.do_update_minutes(jpn_user, part, label=KOR), "label"),
        (lambda: services.do_update_minutes(jpn_user, part, colour="red"), "colour"),
    ]
    for attempt, name in cases:
        with pytest.raises(ServiceError) as err:
            attempt()
        assert err.value.field == name
    assert _counts() == before
    assert MinutesPart.objects.get(pk=part.pk).text == "Kept."


def test_a_cancelled_meeting_takes_no_agenda_minutes_or_publication(jpn_user: Any, kor_user: Any,
                                                                     calls: Calls) -> None:
    meeting = _meeting(jpn_user, attendees=[kor_user])
    item = do_add_agenda_item(jpn_user, meeting, "Opening", IP4)
    cancelled = do_cancel_meeting(jpn_user, meeting, reason="typhoon")
    assert cancelled.cancel_reason == "typhoon"
    assert calls.to(NotificationKind.MEETING_CANCELLED) == [["minjun"]]
    before = _counts()
    for attempt in (
        lambda: do_add_agenda_item(jpn_user, cancelled, "Late", IP4),
        lambda: services.do_update_agenda_item(jpn_user, item, title="Late"),
        lambda: services.do_publish_agenda(jpn_user, cancelled),
        lambda: services.do_add_minutes(jpn_user, cancelled, "Nothing happened", IP4),
        lambda: services.do_record_decision(jpn_user, cancelled, "Nothing", IP4),
        lambda: services.do_publish_minutes(jpn_user, cancelled),
        lambda: services.do_rsvp(kor_user, cancelled, Rsvp.ACCEPTED),
        lambda: do_create_action(jpn_user, "Late", IP4, meeting=cancelled, owner_user=jpn_user),
    ):
        with pytest.raises(ServiceError, match="cancelled"):
            attempt()
    # A stale copy of the meeting does not get past the check either.
    with pytest.raises(ServiceError, match="cancelled"):
        services.do_add_minutes(jpn_user, meeting, "Stale copy", IP4)
    assert _counts() == before


# --- agenda items ----------------------------------------------------------------------------------------------------

def test_reorder_shifts_the_other_items_and_delete_closes_the_gap(jpn_user: Any, kor_user: Any,
                                                                   calls: Calls) -> None:
    meeting = _meeting(jpn_user)
    a, b, c, d = (do_add_agenda_item(jpn_user, meeting, title, IP4) for title in "ABCD")

    def titles() -> list[str]:
        return [i.title for i in queries.agenda_for(jpn_user, meeting)]

    def orders() -> list[int]:
        return [i.order for i in queries.agenda_for(jpn_user, meeting)]

    services.do_update_agenda_item(jpn_user, d, order=1)
    assert (titles(), orders()) == (list("DABC"), [1, 2, 3, 4])
    services.do_update_agenda_item(jpn_user, d, order=99)  # past the end: last
    assert (titles(), orders()) == (list("ABCD"), [1, 2, 3, 4])
    do_add_agenda_item(jpn_user, meeting, "E", IP4, order=2)
    assert (titles(), orders()) == (list("AEBCD"), [1, 2, 3, 4, 5])

    decision = services.do_record_decision(jpn_user, meeting, "Under B", IP4, b)
    services.do_delete_agenda_item(jpn_user, b)
    assert (titles(), orders()) == (list("AECD"), [1, 2, 3, 4])
    assert Decision.objects.get(pk=decision.pk).agenda_item_id is None  # the decision stays, about the meeting
    assert ("AgendaItem", b.pk, True) in calls.published

    services.do_add_minutes(jpn_user, meeting, "Under C", IP4, c)
    with pytest.raises(ServiceError, match="minutes") as err:
        services.do_delete_agenda_item(jpn_user, c)
    assert err.value.field == "agenda_item"
    assert AgendaItem.objects.filter(pk=c.pk).exists()

    before = _counts()
    for kwargs, name in (({"order": 0}, "order"), ({"duration_minutes": 0}, "duration_minutes"),
                         ({"title": ""}, "title"), ({"presenter": "x" * 201}, "presenter"),
                         ({"label": KOR}, "label"), ({"room": "B"}, "room")):
        with pytest.raises(ServiceError) as err:
            services.do_update_agenda_item(jpn_user, a, **kwargs)
        assert err.value.field == name
    assert _counts() == before
    assert AgendaItem.objects.get(pk=a.pk).order == 1


def test_agenda_item_edits_link_only_visible_reports(jpn_user: Any, kor_user: Any) -> None:
    from kizuna.reports.services import ReportInput, do_create_report

    meeting = _meeting(jpn_user)
    item = do_add_agenda_item(jpn_user, meeting, "Threat picture", IP4)
    mine = do_create_report(jpn_user, ReportInput(title="Ransomware trends", label=JPN))
    theirs = do_create_report(kor_user, ReportInput(title="KOR only", label=KOR))
    updated = services.do_update_agenda_item(jpn_user, item, title="Threat picture 2026", presenter="Japan",
                                          duration_minutes=40, reports=[mine], label=JPN)
    assert (updated.title, updated.presenter, updated.duration_minutes) == ("Threat picture 2026", "Japan", 40)
    assert list(updated.reports.all()) == [mine]
    with pytest.raises(ServiceError, match="no such report") as err:
        services.do_update_agenda_item(jpn_user, item, reports=[theirs])
    assert err.value.field == "reports"
    assert list(AgendaItem.objects.get(pk=item.pk).reports.all()) == [mine]
    assert AuditEntry.objects.filter(target_type="agenda_item", action="update").count() == 1
    versions = Version.objects.filter(content_type="consultations.agendaitem", object_id=item.pk)
    assert versions.count() == 2


# --- actions ---------------------------------------------------------------------------------------------------------

def test_review_of_actions_brings_open_actions_of_earlier_meetings(jpn_user: Any, kor_user: Any,
                                                                  make_user: Any) -> None:
    series = do_create_series(jpn_user, SeriesInput(title="NATO–Japan Cyber", label=IP4, time_zone="Asia/Tokyo"))
    first = _meeting(jpn_user, series=series, start=datetime(2026, 6, 2, 7, tzinfo=UTC))
    second = _meeting(jpn_user, series=series, start=datetime(2026, 7, 7, 7, tzinfo=UTC))
    elsewhere = _meeting(jpn_user, start=datetime(2026, 6, 9, 7, tzinfo=UTC))  # no series

    def action(title: str, label: Any = IP4, due: date | None = None, status: str | None = None,
               meeting: Meeting | None = first, **kw: Any) -> ActionItem:
        made = do_create_action(jpn_user, title, label, meeting=meeting, series=series if meeting is None else None,
                                owner_user=kw.get("owner", jpn_user), due=due)
        return do_set_action_status(jpn_user, made, status) if status else made

    late = action("Late", due=date(2026, 6, 10))
    undated = action("Undated")
    started = action("Started", due=date(2026, 6, 5), status=ActionStatus.IN_PROGRESS)
    action("Done", due=date(2026, 6, 1), status=ActionStatus.DONE)
    action("Dropped", due=date(2026, 6, 1), status=ActionStatus.DROPPED)
    japan_only = action("Japan only", label=JPN, due=date(2026, 6, 20))
    standing = action("Standing", meeting=None, due=date(2026, 6, 30))
    action("Raised at the second meeting", meeting=second)
    do_create_action(jpn_user, "Not this series", IP4, meeting=elsewhere, owner_user=jpn_user)

    do_add_agenda_item(jpn_user, second, "Opening", IP4)
    assert queries.review_of_actions(kor_user, second) == []  # a draft agenda, for someone who does not organise
    assert queries.review_of_actions(jpn_user, second) == [started, late, japan_only, standing, undated]
    services.do_publish_agenda(jpn_user, second)
    second = _fresh(second)
    assert queries.review_of_actions(kor_user, second) == [started, late, standing, undated]
    assert queries.review_of_actions(jpn_user, first) == [standing]  # the first meeting reviews only the standing one
    assert queries.review_of_actions(jpn_user, elsewhere) == []
    assert [a.title for a in queries.actions_for(kor_user, second)] == ["Raised at the second meeting"]

    # Done since: it leaves the review.
    do_set_action_status(jpn_user, late, ActionStatus.DONE)
    assert late not in queries.review_of_actions(kor_user, second)


def test_publishing_an_agenda_with_only_actions_to_review(jpn_user: Any) -> None:
    series = do_create_series(jpn_user, SeriesInput(title="NATO–Japan Space", label=IP4, time_zone="Asia/Tokyo"))
    first = _meeting(jpn_user, series=series, start=datetime(2026, 6, 2, 7, tzinfo=UTC))
    second = _meeting(jpn_user, series=series, start=datetime(2026, 7, 7, 7, tzinfo=UTC))
    do_create_action(jpn_user, "Follow up", IP4, meeting=first, owner_user=jpn_user)
    assert services.do_publish_agenda(jpn_user, second).agenda_published_at is not None


def test_overdue_means_open_after_the_due_day(jpn_user: Any) -> None:
    meeting = _meeting(jpn_user)
    action = do_create_action(jpn_user, "Share IOCs", IP4, meeting=meeting, owner_user=jpn_user,
                              due=date(2026, 6, 30))
    assert not queries.is_overdue(action, today=date(2026, 6, 30))
    assert queries.is_overdue(action, today=date(2026, 7, 1))
    action.status = ActionStatus.IN_PROGRESS
    assert queries.is_overdue(action, today=date(2026, 7, 1))
    for status in (ActionStatus.DONE, ActionStatus.DROPPED):
        action.status = status
        assert not queries.is_overdue(action, today=date(2026, 7, 1))
    action.status, action.due = ActionStatus.OPEN, None
    assert not queries.is_overdue(action, today=date(2030, 1, 1))
    action.due = date(2000, 1, 1)
    assert queries.is_overdue(action)  # today defaults to the UTC day


def test_owner_moves_status_and_notes_only(jpn_user: Any, kor_user: Any, calls: Calls) -> None:
    meeting = _meeting(jpn_user, attendees=[kor_user])
    action = do_create_action(jpn_user, "Share IOCs", IP4, meeting=meeting, owner_user=kor_user,
                              due=date(2026, 6, 30))
    assert calls.to(NotificationKind.ACTION_ASSIGNED) == [["minjun"]]
    moved = services.do_update_action(kor_user, action, status=ActionStatus.DONE, notes="Sent as a STIX bundle.")
    assert (moved.status, moved.notes) == (ActionStatus.DONE, "Sent as a STIX bundle.")
    assert moved.completed_at is not None
    reopened = services.do_update_action(kor_user, moved, status=ActionStatus.IN_PROGRESS)
    assert reopened.completed_at is None

    before = _counts()
    with pytest.raises(ServiceError, match="only its status and notes") as err:
        services.do_update_action(kor_user, action, title="Mine now", status=ActionStatus.DONE)
    assert err.value.field == "title"
    with pytest.raises(ServiceError) as err:
        services.do_update_action(kor_user, action, status="finished")
    assert err.value.field == "status"
    assert _counts() == before
    kept = ActionItem.objects.get(pk=action.pk)
    assert (kept.title, kept.status) == ("Share IOCs", ActionStatus.IN_PROGRESS)

    # An organiser changes the rest.
    changed = services.do_update_action(jpn_user, action, title="Share IOCs weekly", due=date(2026, 7, 15))
    assert (changed.title, changed.due) == ("Share IOCs weekly", date(2026, 7, 15))
    assert AuditEntry.objects.filter(target_type="action", action="update").count() == 3


def test_services_status_change_sets_completed_at(jpn_user: Any) -> None:
    meeting = _meeting(jpn_user)
    action = do_create_action(jpn_user, "Draft terms", IP4, meeting=meeting, owner_user=jpn_user)
    done = do_set_action_status(jpn_user, action, ActionStatus.DONE)
    assert done.completed_at is not None
    assert do_set_action_status(jpn_user, done, ActionStatus.DROPPED).completed_at == done.completed_at
    assert do_set_action_status(jpn_user, done, ActionStatus.OPEN).completed_at is None


def test_a_new_owner_must_see_the_label_and_is_told(jpn_user: Any, kor_user: Any, make_user: Any,
                                                     calls: Calls) -> None:
    colleague = make_user("taro", "JPN", "JPN-MOD")
    korean_colleague = make_user("seo", "KOR", "KOR-MND")
    meeting = _meeting(jpn_user)
    other = _meeting(jpn_user)
    secret = do_create_action(jpn_user, "Brief the minister", JPN, meeting=meeting, owner_user=colleague)
    shared = do_create_action(jpn_user, "Host next round", IP4, meeting=meeting, owner_user=kor_user)
    foreign_item = do_add_agenda_item(jpn_user, other, "Elsewhere", IP4)
    before = _counts()
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (secret, {"owner_user": kor_user}, "owner_user"),  # Korea may not see a JPN-only action
        (shared, {"label": JPN}, "owner_user"),  # nor keep one relabelled out of its reach
        (shared, {"owner_user": None}, "owner"),
        (shared, {"owner_user": kor_user, "owner_organisation": Organisation.objects.get(code="KOR-MND")}, "owner"),
        (shared, {"agenda_item": foreign_item}, "agenda_item"),
        (shared, {"due": "tomorrow"}, "due"),
        (shared, {"title": " "}, "title"),
        (shared, {"label": KOR}, "label"),  # the author could not see it
    ]
    for action, kwargs, name in cases:
        with pytest.raises(ServiceError) as err:
            services.do_update_action(jpn_user, action, **kwargs)
        assert err.value.field == name, kwargs
    assert _counts() == before
    assert ActionItem.objects.get(pk=secret.pk).owner_user_id == colleague.pk
    assert calls.to(NotificationKind.ACTION_ASSIGNED) == [["taro"], ["minjun"]]

    to_org = services.do_update_action(jpn_user, shared, owner_organisation=Organisation.objects.get(code="KOR-MND"))
    assert (to_org.owner_user_id, to_org.owner_organisation.code) == (None, "KOR-MND")
    assert calls.to(NotificationKind.ACTION_ASSIGNED)[-1] == ["minjun", "seo"]
    # A member of the owning organisation is an owner too.
    assert services.do_update_action(korean_colleague, to_org, status=ActionStatus.IN_PROGRESS).status == "in_progress"
    back = services.do_update_action(jpn_user, to_org, owner_user=colleague, label=JPN)
    assert (back.owner_user_id, back.owner_organisation_id) == (colleague.pk, None)
    assert calls.to(NotificationKind.ACTION_ASSIGNED)[-1] == ["taro"]
    item = do_add_agenda_item(jpn_user, meeting, "Next round", IP4)
    assert services.do_update_action(jpn_user, back, agenda_item=item).agenda_item_id == item.pk
    assert ("ActionItem", back.pk, False) in calls.published


# --- attendance -------------------------------------------------------------------------------------------------------

def test_only_invited_attendees_answer(jpn_user: Any, kor_user: Any, make_user: Any) -> None:
    uninvited = make_user("ji", "KOR", "KOR-MND")
    meeting = _meeting(jpn_user, attendees=[kor_user])
    secret = _meeting(jpn_user, label=JPN)
    attendee = services.do_rsvp(kor_user, meeting, Rsvp.ACCEPTED)
    assert Attendee.objects.get(pk=attendee.pk).rsvp == Rsvp.ACCEPTED
    assert AuditEntry.objects.filter(action="rsvp", actor="minjun").count() == 1
    assert services.do_rsvp(kor_user, meeting, Rsvp.DECLINED).rsvp == Rsvp.DECLINED
    before = _counts()
    with pytest.raises(ServiceError, match="invited") as err:
        services.do_rsvp(uninvited, meeting, Rsvp.ACCEPTED)
    assert err.value.field == "answer"
    for answer in (Rsvp.PENDING, "maybe"):
        with pytest.raises(ServiceError) as err:
            services.do_rsvp(kor_user, meeting, answer)
        assert err.value.field == "answer"
    with pytest.raises(NotFound):
        services.do_rsvp(kor_user, secret, Rsvp.ACCEPTED)
    assert _counts() == before
    assert Attendee.objects.get(pk=attendee.pk).rsvp == Rsvp.DECLINED


# --- notifications and STIX from the services --------------------------------------------------------------------------

def test_meeting_changes_tell_the_attendees(jpn_user: Any, kor_user: Any, make_user: Any, calls: Calls) -> None:
    newcomer = make_user("aiko", "JPN", "JPN-MOD")
    meeting = _meeting(jpn_user, attendees=[kor_user])
    assert calls.notified[-1] == (NotificationKind.INVITATION, ["minjun"], f"invitation:{meeting.pk}")
    updated = do_update_meeting(jpn_user, meeting, start=meeting.start + timedelta(hours=1),
                                end=meeting.end + timedelta(hours=1), attendees=[kor_user, newcomer])
    assert calls.to(NotificationKind.INVITATION)[-1] == ["aiko"]
    assert calls.notified[-1] == (NotificationKind.MEETING_CHANGED, ["minjun"],
                                  f"meeting_changed:{meeting.pk}:{updated.sequence}")
    count = len(calls.notified)
    do_update_meeting(jpn_user, updated, title="Cyber (renamed)")  # nothing a calendar needs to be told
    assert len(calls.notified) == count
    assert [kind for kind, pk, _ in calls.published if pk == meeting.pk] == ["Meeting"] * 3


def test_notifications_are_recorded_for_those_who_may_see(jpn_user: Any, kor_user: Any, make_user: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from kizuna.consultations import notify

    monkeypatch.setattr(notify, "notify", real_notify)  # the notifications module itself, not the recorder
    colleague = make_user("taro", "JPN", "JPN-MOD")
    meeting = _meeting(jpn_user, attendees=[kor_user, colleague])
    do_add_agenda_item(jpn_user, meeting, "Opening", IP4)
    services.do_publish_agenda(jpn_user, meeting)
    services.do_unpublish_agenda(jpn_user, meeting)
    services.do_publish_agenda(jpn_user, meeting)  # once per key: nobody is told twice
    told = Notification.objects.filter(kind=NotificationKind.AGENDA_PUBLISHED, ref=ref_of(meeting))
    assert sorted(told.values_list("user__username", flat=True)) == ["minjun", "taro"]
    japan_only = do_create_action(jpn_user, "Brief the minister", JPN, meeting=meeting,
                                  owner_organisation=Organisation.objects.get(code="JPN-MOD"))
    assigned = Notification.objects.filter(kind=NotificationKind.ACTION_ASSIGNED, ref=ref_of(japan_only))
    assert sorted(assigned.values_list("user__username", flat=True)) == ["hanako", "taro"]
    services.do_update_action(jpn_user, japan_only, owner_organisation=Organisation.objects.get(code="KOR-MND"),
                           label=IP4)
    assert Notification.objects.filter(kind=NotificationKind.ACTION_ASSIGNED, user=kor_user).count() == 1
