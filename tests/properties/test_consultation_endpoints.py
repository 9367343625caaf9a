"""Property: over random demo-policy labels on meetings, agenda items, minutes parts, decisions and actions, and random
users, no consultation endpoint shows a record not releasable to the caller — the calendar, the meeting page, its
.ics, the printable minutes, "my actions", the calendar feed and the REST API — compared with the pure-Python
`may_see` for a subject built from the drawn attributes. A record inside a meeting is shown only when both it and
the meeting may be seen; a hidden meeting's title appears nowhere, not even beside a visible action of it.
Invisible means 404, exactly like missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from kizuna.consultations.models import ActionItem, AgendaItem, Decision, Meeting, MinutesPart
from kizuna.consultations.notify import new_feed_token
from kizuna.core.access import clear_caches, intern_label, registry
from kizuna.labels import Label, may_see
from tests.properties.test_endpoints import (
    ENDPOINT_SETTINGS,
    MISSING_ID,
    USERNAMES,
    Caller,
    _api,
    _apply,
    callers,  # noqa: F401 - the fixture
    demo_labels,
    expected_subject,
    people,
)

MONTH = date(2027, 3, 1)


@dataclass
class World:
    meetings: list[tuple[Meeting, Label]]
    parts: list[tuple[Meeting, str, Label]]  # meeting, the text that must not leak, label
    actions: list[tuple[ActionItem, Label]]


records = st.lists(
    st.tuples(demo_labels(), st.lists(st.tuples(st.sampled_from(("agenda", "minutes", "decision", "action")),
                                                demo_labels()), max_size=4)),
    min_size=1,
    max_size=4,
)


def _build(callers_: list[Caller], drawn: list[tuple[Label, list[tuple[str, Label]]]]) -> World:
    world = World([], [], [])
    author = callers_[0].user
    now = timezone.now()
    for index, (label, inner) in enumerate(drawn):
        start = datetime(2027, 3, 3 + index * 5, 8, 0, tzinfo=UTC)
        meeting = Meeting.objects.create(
            title=f"M{index:03d}Z", label=intern_label(label), originator=author.organisation, created_by=author,
            start=start, end=start + timedelta(hours=1), time_zone="Asia/Tokyo", link="https://vtc.example/x",
            uid=f"m{index}@kizuna", agenda_published_at=now, minutes_published_at=now,
        )
        world.meetings.append((meeting, label))
        for number, (kind, inner_label) in enumerate(inner):
            text = f"{kind[0].upper()}{index:02d}{number:02d}Q"
            record = intern_label(inner_label)
            common: dict[str, Any] = {"meeting": meeting, "label": record, "originator": author.organisation}
            if kind == "agenda":
                AgendaItem.objects.create(order=number + 1, title=text, **common)
            elif kind == "minutes":
                MinutesPart.objects.create(order=number + 1, text=text, author=author, **common)
            elif kind == "decision":
                Decision.objects.create(order=number + 1, text=text, author=author, **common)
            else:
                owner = callers_[number % len(callers_)].user
                action = ActionItem.objects.create(title=text, owner_user=owner, due=date(2027, 3, 20), **common)
                world.actions.append((action, inner_label))
            world.parts.append((meeting, text, inner_label))
    return world


def _clean() -> None:
    for model in (ActionItem, Decision, MinutesPart, AgendaItem, Meeting):
        model.objects.all().delete()
    clear_caches()


@ENDPOINT_SETTINGS
@given(persons=st.lists(people, min_size=len(USERNAMES), max_size=len(USERNAMES)), drawn=records)
def test_no_consultation_endpoint_shows_a_record_not_releasable_to_the_caller(
    callers: list[Caller], persons: list[Any], drawn: list[tuple[Label, list[tuple[str, Label]]]]  # noqa: F811
) -> None:
    _clean()
    try:
        for caller, person in zip(callers, persons, strict=True):
            _apply(caller, person)
        world = _build(callers, drawn)
        for caller, person in zip(callers, persons, strict=True):
            subject = expected_subject(caller.user, person)

            def sees(label: Label, subject: Any = subject) -> bool:
                return may_see(subject, label, registry())

            _check(caller, world, sees)
    finally:
        _clean()


def _check(caller: Caller, world: World, sees: Any) -> None:
    visible_meetings = {m.pk for m, label in world.meetings if sees(label)}
    hidden_meeting_titles = [m.title for m, label in world.meetings if not sees(label)]
    shown_parts = {text for m, text, label in world.parts if m.pk in visible_meetings and sees(label)}
    hidden_parts = [text for m, text, label in world.parts if text not in shown_parts]

    def no_leak(text: str, allowed_parts: set[str] | None = None) -> None:
        for title in hidden_meeting_titles:
            assert title not in text
        for part in hidden_parts:
            if allowed_parts is None or part not in allowed_parts:
                assert part not in text

    # The calendar (month) and the list.
    month = caller.web.get(f"/consultations/?view=month&date={MONTH.isoformat()}")
    assert month.status_code == 200
    page = month.content.decode()
    no_leak(page)
    for meeting, label in world.meetings:
        assert (meeting.title in page) == sees(label)

    # Each meeting page, its .ics and its printable minutes: 404 alike for hidden and missing.
    missing = caller.web.get(f"/consultations/meetings/{MISSING_ID}/")
    assert missing.status_code == 404
    for meeting, _ in world.meetings:
        urls = [f"/consultations/meetings/{meeting.pk}/",
                reverse("consultations:meeting_ics", args=[meeting.pk]),
                reverse("consultations_print:minutes_print", args=[meeting.pk])]
        for url in urls:
            response = caller.web.get(url)
            if meeting.pk in visible_meetings:
                assert response.status_code == 200, url
                no_leak(response.content.decode())
            else:
                assert response.status_code == 404, url
                assert meeting.title not in response.content.decode()
        if meeting.pk in visible_meetings:
            page = caller.web.get(f"/consultations/meetings/{meeting.pk}/").content.decode()
            for m, text, _label in world.parts:
                if m.pk == meeting.pk:
                    assert (text in page) == (text in shown_parts), text

    # My actions: the caller's own visible actions, and never the title of a meeting the caller may not see.
    own = [a for a, label in world.actions if a.owner_user_id == caller.user.pk]
    mine = caller.web.get("/consultations/actions/?state=all")
    assert mine.status_code == 200
    page = mine.content.decode()
    visible_actions = {a.title for a, label in world.actions if sees(label)}
    no_leak(page, visible_actions)
    for action, label in [(a, lab) for a, lab in world.actions if a in own]:
        assert (action.title in page) == sees(label)

    # The REST API.
    listed = _api(caller, "/api/v1/consultations/meetings?start=2027-03-01T00:00:00Z&end=2027-04-01T00:00:00Z")
    assert listed.status_code == 200, listed.content
    body = listed.json()
    items = body["items"] if isinstance(body, dict) else body
    assert sorted(item["id"] for item in items) == sorted(visible_meetings)
    api_missing = _api(caller, f"/api/v1/consultations/meetings/{MISSING_ID}")
    for meeting, _ in world.meetings:
        for suffix in ("", "/agenda", "/minutes"):
            response = _api(caller, f"/api/v1/consultations/meetings/{meeting.pk}{suffix}")
            if meeting.pk in visible_meetings:
                assert response.status_code == 200
                no_leak(response.content.decode())
            else:
                assert response.status_code == 404
                assert response.content == api_missing.content
    api_actions = _api(caller, "/api/v1/consultations/actions?state=all")
    assert api_actions.status_code == 200
    no_leak(api_actions.content.decode(), visible_actions)

    # The calendar feed at its secret URL.
    token = new_feed_token(caller.user)
    feed = caller.web.get(reverse("consultations_inbox:feed", args=[token]))
    assert feed.status_code == 200
    calendar = icalendar.Calendar.from_ical(feed.content)
    uids = {str(event["UID"]) for event in calendar.walk("VEVENT")}
    assert uids == {m.uid for m, label in world.meetings if m.pk in visible_meetings}
