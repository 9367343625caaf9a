"""Property (issue 10, "a stored form never points past its own label"): for random labels on records that refer to
each other — an action and its meeting and agenda item, a minutes part and its meeting and agenda item, an agenda
item and its meeting, its sibling before it and the report linked to it — and a random reader:

- the STIX form this node stores, and every form served to the reader (/api/v1/stix/objects/{id}, the export bundle,
  TAXII), contains a reference exactly when the target's label dominates the referrer's (``label_dominates``), and
  then the reader may see the target (checked with the pure ``may_see`` for a subject built from the drawn
  attributes); an agenda item's ``order`` counts only the siblings before it whose label dominates its own; a
  linked report is never named in STIX;
- the REST answers (per reader) name a target only when the reader may see it, and number items and parts among
  what the reader sees (1..n, no gap);
- after the targets are relabelled (and the services' publication runs), the stored forms follow the new labels."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from hypothesis import event, given
from hypothesis import strategies as st

from kizuna.consultations import stix
from kizuna.consultations.models import ActionItem, AgendaItem, Decision, Meeting, MinutesPart
from kizuna.consultations.services import do_publish
from kizuna.core.access import clear_caches, intern_label, label_dominates, registry
from kizuna.labels import Label, may_see
from kizuna.reports.models import Report
from kizuna.threats.models import StixObject
from tests.consultations.test_stix_refs import served
from tests.properties.test_endpoints import (
    ENDPOINT_SETTINGS,
    USERNAMES,
    Caller,
    _api,
    _apply,
    callers,  # noqa: F401 - the fixture
    demo_labels,
    expected_subject,
    people,
)

START = datetime(2027, 5, 10, 1, 0, tzinfo=UTC)

# Simple labels collide often (equal, wider, narrower), so that both outcomes of `dominates` are common; the demo
# strategy adds the rest (TLP:RED recipients, caveats, several values).
simple_labels = st.builds(
    lambda level, rel, communities, tlp: Label.build("NATO", level, {"releasable_to": rel, "communities": communities},
                                                     tlp),
    st.sampled_from(("UNCLASSIFIED", "RESTRICTED")),
    st.sampled_from(([], ["NATO", "IP4"], ["IP4"], ["NATO"], ["JPN"], ["KOR"], ["JPN", "USA"])),
    st.sampled_from(([], [], ["CYBER"])),
    st.sampled_from(("CLEAR", "GREEN", "AMBER")),
)
some_labels = st.one_of(simple_labels, simple_labels, demo_labels())


def _clean() -> None:
    for model in (ActionItem, Decision, MinutesPart, AgendaItem, Meeting, Report):
        model.objects.all().delete()
    StixObject.objects.filter(type__startswith="kizuna-").delete()
    clear_caches()


def _stored(record: Any) -> dict[str, Any] | None:
    row = StixObject.objects.filter(stix_id=stix.stix_id_of(record), is_current=True).values_list("data", flat=True)
    data = row.first()
    return json.loads(data) if data is not None else None


def _check_form(form: dict[str, Any], refs: dict[str, tuple[Any, Label] | None], own: Label,
                sees: Any, reader_form: bool) -> None:
    """``refs``: property -> (target, its label), or None where the record refers to nothing there."""
    for prop, target in refs.items():
        if target is None:
            assert prop not in form
            continue
        record, label = target
        expected = label_dominates(label, own)
        assert (form.get(prop) == stix.stix_id_of(record)) is expected, (prop, label, own, form.get(prop))
        if prop not in form:
            assert stix.stix_id_of(record) not in json.dumps(form)
        elif reader_form:
            assert sees(label)  # the reader of the referrer may see what it points at


@ENDPOINT_SETTINGS
@given(persons=st.lists(people, min_size=2, max_size=2), labels=st.lists(some_labels, min_size=6, max_size=6),
       relabels=st.lists(some_labels, min_size=2, max_size=2), same=st.lists(st.booleans(), min_size=3, max_size=3))
def test_served_forms_refer_only_to_records_whose_label_dominates(
        callers: list[Caller], persons: list[Any], labels: list[Label], relabels: list[Label],  # noqa: F811
        same: list[bool]) -> None:
    _clean()
    try:
        author, reader = callers[0], callers[1]
        for caller, person in zip(callers[:2], persons, strict=True):
            _apply(caller, person)
        subject = expected_subject(reader.user, persons[1])

        def sees(label: Label) -> bool:
            return may_see(subject, label, registry())

        l_meeting, l_item1, l_item2, l_part, l_action, l_report = labels
        # Now and then a referrer under its target's label (the common case in use).
        l_action = l_meeting if same[0] else l_action
        l_part = l_item1 if same[1] else l_part
        l_item2 = l_item1 if same[2] else l_item2
        org = author.user.organisation
        now = timezone.now()
        meeting = Meeting.objects.create(
            title="M", label=intern_label(l_meeting), originator=org, created_by=author.user, start=START,
            end=START + timedelta(hours=1), time_zone="Asia/Tokyo", link="https://vtc.example/x", uid="m@kizuna",
            agenda_published_at=now, minutes_published_at=now)
        item1 = AgendaItem.objects.create(meeting=meeting, order=1, title="I1", label=intern_label(l_item1),
                                          originator=org)
        item2 = AgendaItem.objects.create(meeting=meeting, order=2, title="I2", label=intern_label(l_item2),
                                          originator=org)
        report = Report.objects.create(title="R", label=intern_label(l_report), originator=org, author=author.user)
        item2.reports.add(report)
        part = MinutesPart.objects.create(meeting=meeting, agenda_item=item1, order=1, text="P", author=author.user,
                                          label=intern_label(l_part), originator=org)
        action = ActionItem.objects.create(meeting=meeting, agenda_item=item1, title="A", label=intern_label(l_action),
                                           originator=org, owner_organisation=reader.user.organisation)
        do_publish(meeting)  # as the services do: the meeting and everything its publication shares
        event(f"action may name its meeting: {label_dominates(l_meeting, l_action)}")
        event(f"part may name its item: {label_dominates(l_item1, l_part)}")
        event(f"reader sees the action: {sees(l_action)}")

        expected_refs: list[tuple[Any, Label, dict[str, tuple[Any, Label] | None]]] = [
            (item1, l_item1, {"meeting_ref": (meeting, l_meeting)}),
            (item2, l_item2, {"meeting_ref": (meeting, l_meeting)}),
            (part, l_part, {"meeting_ref": (meeting, l_meeting), "agenda_item_ref": (item1, l_item1)}),
            (action, l_action, {"meeting_ref": (meeting, l_meeting), "agenda_item_ref": (item1, l_item1),
                                "series_ref": None}),
        ]
        for record, own, refs in expected_refs:
            form = _stored(record)
            assert form is not None
            _check_form(form, refs, own, sees, reader_form=False)
            paths = served(reader.user, stix.stix_id_of(record))
            assert all(f is not None for f in paths.values()) is sees(own), paths
            assert any(f is not None for f in paths.values()) is sees(own), paths
            for name, each in paths.items():
                if each is not None and name != "list":
                    _check_form(each, refs, own, sees, reader_form=True)
                    assert str(report.uuid) not in json.dumps(each)  # a linked report never travels as a reference
        stored_item2 = _stored(item2)
        assert stored_item2 is not None
        assert stored_item2["order"] == 1 + label_dominates(l_item1, l_item2)

        # REST, per reader: references only to what the reader may see; positions among what they see.
        if sees(l_meeting):
            agenda = _api(reader, f"/api/v1/consultations/meetings/{meeting.pk}/agenda").json()
            shown = [(i["id"], i["order"]) for i in agenda["items"]]
            expected_items = [pk for pk, label in ((item1.pk, l_item1), (item2.pk, l_item2)) if sees(label)]
            assert shown == [(pk, n) for n, pk in enumerate(expected_items, start=1)]
            for entry in agenda["items"]:
                assert ([r["id"] for r in entry["reports"]] == [report.pk]) is (entry["id"] == item2.pk
                                                                              and sees(l_report))
            minutes = _api(reader, f"/api/v1/consultations/meetings/{meeting.pk}/minutes").json()
            assert [(p["id"], p["order"], p["agenda_item"]) for p in minutes["parts"]] == (
                [(part.pk, 1, item1.pk if sees(l_item1) else None)] if sees(l_part) else [])
        else:
            assert _api(reader, f"/api/v1/consultations/meetings/{meeting.pk}/agenda").status_code == 404
        actions = _api(reader, "/api/v1/consultations/actions?state=all").json()["items"]
        assert [a["id"] for a in actions] == ([action.pk] if sees(l_action) else [])
        for entry in actions:
            assert (entry["meeting"] is not None) is sees(l_meeting)
            assert (entry["agenda_item"] is not None) is sees(l_item1)

        # Relabel the targets (as the services do: the record saved, then published): referrers follow.
        new_meeting, new_item1 = relabels
        meeting.label = intern_label(new_meeting)
        meeting.save()
        do_publish(meeting)
        item1.label = intern_label(new_item1)
        item1.save()
        do_publish(item1)
        for record, own, refs in [
            (item2, l_item2, {"meeting_ref": (meeting, new_meeting)}),
            (part, l_part, {"meeting_ref": (meeting, new_meeting), "agenda_item_ref": (item1, new_item1)}),
            (action, l_action, {"meeting_ref": (meeting, new_meeting), "agenda_item_ref": (item1, new_item1)}),
        ]:
            form = _stored(record)
            assert form is not None
            _check_form(form, refs, own, sees, reader_form=False)
        stored_item2 = _stored(item2)
        assert stored_item2 is not None and stored_item2["order"] == 1 + label_dominates(new_item1, l_item2)
    finally:
        _clean()


assert len(USERNAMES) >= 2
