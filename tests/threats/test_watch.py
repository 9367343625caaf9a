"""Sightings and watch filters obey the label rules: "Seen it too" issues a STIX sighting under the object's label,
counts by nation name only nations whose sighting the reader may see, and a watch filter notifies only watchers
who may see the new object (relationship rule included), by an inbox entry and an e-mail that names nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail

from kizuna.core.access import intern_label
from kizuna.core.models import AuditEntry
from kizuna.directory.subjects import subject_for
from kizuna.notifications.models import Notification
from kizuna.threats.models import StixObject
from kizuna.threats.watch import services
from kizuna.threats.watch.models import Sighting, WatchFilter
from tests.conftest import make_label
from tests.threats.test_views import REL_BOTH, REL_JPN, REL_KOR, body_of, client_for, put, relate, sight

pytestmark = pytest.mark.django_db


def watch_for(user: Any, **criteria: Any) -> WatchFilter:
    return services.do_save_watch_filter(user, services.WatchInput(name=criteria.pop("name", "w"), **criteria))


# --- sightings by nation ------------------------------------------------------------------------------------------------


def test_sightings_by_nation_never_name_a_nation_whose_sighting_is_invisible(
        jpn_user: Any, kor_user: Any, make_user: Any) -> None:
    nzl = make_user("aroha", "NZL", "NZL-NCSC")
    target = put(jpn_user, "indicator", make_label(releasable_to=["JPN", "KOR", "NZL"]), name="shared")
    sight(jpn_user, target, make_label(releasable_to=["JPN", "KOR", "NZL"]), count=2)
    sight(kor_user, target, make_label(**REL_KOR))  # only Korea may know that Korea saw it
    sight(nzl, target, make_label(releasable_to=["JPN", "NZL"]))

    body = body_of(client_for(jpn_user).get(f"/threats/objects/{target.stix_id}/"))
    table = body.split('data-testid="sightings-by-nation"')[1].split("</table>")[0]
    assert 'data-nation="JPN"' in table and 'data-nation="NZL"' in table
    assert 'data-nation="KOR"' not in table
    assert "Korea" not in table and kor_user.organisation.name not in body

    kr = body_of(client_for(kor_user).get(f"/threats/objects/{target.stix_id}/"))
    kr_table = kr.split('data-testid="sightings-by-nation"')[1].split("</table>")[0]
    assert 'data-nation="KOR"' in kr_table and 'data-nation="JPN"' in kr_table
    assert 'data-nation="NZL"' not in kr_table


def test_sightings_by_nation_sum_counts_over_visible_sightings_only(jpn_user: Any, kor_user: Any,
                                                                     make_user: Any) -> None:
    colleague_org = make_user("taro", "JPN", "JPN-NISC")
    target = put(jpn_user, "indicator", make_label(**REL_BOTH), name="shared")
    sight(jpn_user, target, make_label(**REL_BOTH), count=2)
    sight(colleague_org, target, make_label(**REL_BOTH), count=1)
    sight(colleague_org, target, make_label(releasable_to=["JPN"], communities=["SPACE"], tlp="RED",
                                            recipients=["org:JPN-NISC"]), count=5)
    rows, labels = services.sightings_by_nation(subject_for(jpn_user), target)
    assert [(r.code, r.count, r.sightings) for r in rows] == [("JPN", 3, 2)]
    assert len(labels) == 2


def test_sighting_of_an_invisible_object_is_not_counted_either(jpn_user: Any, kor_user: Any) -> None:
    hidden = put(kor_user, "indicator", make_label(**REL_KOR), name="KR")
    sighting = sight(kor_user, hidden, make_label(**REL_BOTH))  # a sighting labelled wider than what it sights
    assert client_for(jpn_user).get(f"/threats/objects/{sighting.stix_id}/").status_code == 404
    body = body_of(client_for(jpn_user).get("/threats/cyber/", {"tab": "sightings"}))
    assert sighting.stix_id not in body


# --- seen it too ------------------------------------------------------------------------------------------------------


def test_seen_it_too_stores_a_stix_sighting_under_the_objects_label(jpn_user: Any, kor_user: Any) -> None:
    label = make_label(communities=["CYBER"], **REL_BOTH)
    target = put(jpn_user, "malware", label, name="shared malware", data={"is_family": True})
    response = client_for(kor_user).post(f"/threats/objects/{target.stix_id}/seen/")
    assert response.status_code == 302
    assert response["Location"] == f"/threats/objects/{target.stix_id}/#sightings"
    stored = StixObject.objects.get(type="sighting", is_current=True)
    data = json.loads(stored.data)
    assert data["sighting_of_ref"] == target.stix_id and data["count"] == 1
    assert data["created_by_ref"] == services.organisation_identity_id(kor_user.organisation)
    assert stored.label_id == intern_label(label).pk
    assert stored.originator_id == kor_user.organisation_id
    assert stored.source_ref == target.stix_id
    assert Sighting.objects.filter(user=kor_user, object_stix_id=target.stix_id).exists()
    assert AuditEntry.objects.filter(action="sighting", actor=kor_user.username).exists()
    page = body_of(client_for(jpn_user).get(f"/threats/objects/{target.stix_id}/"))
    assert 'data-nation="KOR"' in page


def test_a_colleague_of_the_same_organisation_issues_a_new_version(kor_user: Any, make_user: Any) -> None:
    colleague = make_user("seoyeon", "KOR", "KOR-MND")
    target = put(kor_user, "indicator", make_label(**REL_KOR), name="kr")
    first = services.do_record_sighting(kor_user, target)
    second = services.do_record_sighting(colleague, target)
    assert second.stix_id == first.stix_id and second.modified > first.modified
    assert json.loads(second.data)["count"] == 2
    assert StixObject.objects.filter(stix_id=first.stix_id).count() == 2
    assert StixObject.objects.filter(stix_id=first.stix_id, is_current=True).count() == 1


def test_the_same_user_cannot_sight_twice(kor_user: Any) -> None:
    target = put(kor_user, "indicator", make_label(**REL_KOR), name="kr")
    services.do_record_sighting(kor_user, target)
    client = client_for(kor_user)
    response = client.post(f"/threats/objects/{target.stix_id}/seen/", follow=True)
    assert "you have already recorded that you saw this object" in body_of(response)
    assert StixObject.objects.filter(type="sighting").count() == 1
    assert 'data-testid="already-sighted"' in body_of(client.get(f"/threats/objects/{target.stix_id}/"))


def test_observables_cannot_be_sighted(kor_user: Any) -> None:
    target = put(kor_user, "ipv4-addr", make_label(**REL_KOR), name="198.51.100.7", data={"value": "198.51.100.7"})
    client = client_for(kor_user)
    assert 'data-testid="seen-it-too"' not in body_of(client.get(f"/threats/objects/{target.stix_id}/"))
    client.post(f"/threats/objects/{target.stix_id}/seen/")
    assert not StixObject.objects.filter(type="sighting").exists()


def test_viewer_has_no_seen_it_too_button(make_user: Any, kor_user: Any) -> None:
    viewer = make_user("jiho", "KOR", "KOR-MND", role="viewer")
    target = put(kor_user, "indicator", make_label(**REL_KOR), name="kr")
    client = client_for(viewer)
    assert 'data-testid="seen-it-too"' not in body_of(client.get(f"/threats/objects/{target.stix_id}/"))
    client.post(f"/threats/objects/{target.stix_id}/seen/")
    assert not StixObject.objects.filter(type="sighting").exists()


# --- watch filters ------------------------------------------------------------------------------------------------------


def test_watch_notifies_only_watchers_who_may_see_the_new_object(jpn_user: Any, kor_user: Any) -> None:
    jp_watch = watch_for(jpn_user, types=["indicator"])
    kr_watch = watch_for(kor_user, types=["indicator"])
    jpn_user.email, kor_user.email = "hanako@example.org", "minjun@example.org"
    jpn_user.save()
    kor_user.save()
    new = put(kor_user, "indicator", make_label(**REL_KOR), name="Korean C2 at 203.0.113.9")
    written = services.notify_new_objects([new.stix_id])
    assert written == 1
    assert Notification.objects.filter(user=kor_user, detail__watch_filter=kr_watch.pk, ref=new.stix_id).exists()
    assert not Notification.objects.filter(user=jpn_user).exists()
    assert not Notification.objects.filter(detail__watch_filter=jp_watch.pk).exists()
    assert [m.to for m in mail.outbox] == [["minjun@example.org"]]
    assert "203.0.113.9" not in mail.outbox[0].body and "Korean C2" not in mail.outbox[0].subject


def test_watch_skips_a_relationship_whose_end_the_watcher_cannot_see(jpn_user: Any, kor_user: Any) -> None:
    watch_for(jpn_user, types=["relationship"])
    mine = put(jpn_user, "indicator", make_label(**REL_BOTH), name="shared")
    hidden = put(kor_user, "threat-actor", make_label(**REL_KOR), name="Hidden actor")
    rel = relate(kor_user, mine, hidden, make_label(**REL_BOTH))
    assert services.notify_new_objects([rel.stix_id]) == 0
    assert not Notification.objects.exists()


def test_watch_criteria_value_area_and_label(jpn_user: Any) -> None:
    by_value = watch_for(jpn_user, name="value", value_contains="evil.example")
    by_area = watch_for(jpn_user, name="area", area_text="south china sea")
    by_label = watch_for(jpn_user, name="label", releasable_to="KOR", tlp="GREEN")
    a = put(jpn_user, "indicator", make_label(**REL_JPN), name="x", values=(("domain-name", "cdn.evil.example"),))
    b = put(jpn_user, "incident", make_label(**REL_JPN), name="y", data={"description": "Near the South China Sea"})
    c = put(jpn_user, "malware", make_label(releasable_to=["JPN", "KOR"], tlp="GREEN"), name="z")
    d = put(jpn_user, "malware", make_label(releasable_to=["JPN", "KOR"], tlp="AMBER"), name="no match")
    services.notify_new_objects([a.stix_id, b.stix_id, c.stix_id, d.stix_id])
    got = dict(Notification.objects.values_list("ref", "detail__watch_filter"))
    assert got == {a.stix_id: by_value.pk, b.stix_id: by_area.pk, c.stix_id: by_label.pk}


def test_a_filter_of_any_type_is_not_told_of_kizuna_records_or_definitions(jpn_user: Any) -> None:
    watch_for(jpn_user, name="japan", releasable_to="JPN")
    label = make_label(**REL_JPN)
    internal = [put(jpn_user, kind, label, name=f"internal {kind}")
                for kind in ("kizuna-meeting", "kizuna-report", "kizuna-action", "marking-definition",
                             "extension-definition")]
    threat = put(jpn_user, "malware", label, name="real malware")
    assert services.notify_new_objects([o.stix_id for o in internal] + [threat.stix_id]) == 1
    assert list(Notification.objects.values_list("ref", flat=True)) == [threat.stix_id]


def test_a_new_version_does_not_notify_again(jpn_user: Any) -> None:
    watch_for(jpn_user, types=["indicator"])
    obj = put(jpn_user, "indicator", make_label(**REL_JPN), name="x")
    assert services.notify_new_objects([obj.stix_id]) == 1
    assert services.notify_new_objects([obj.stix_id]) == 0
    assert Notification.objects.count() == 1


def test_inbox_hides_an_entry_once_its_object_is_no_longer_visible(jpn_user: Any, kor_user: Any) -> None:
    watch_for(jpn_user, types=["indicator"])
    obj = put(kor_user, "indicator", make_label(**REL_BOTH), name="Once shared")
    services.notify_new_objects([obj.stix_id])
    client = client_for(jpn_user)
    assert "Once shared" in body_of(client.get("/threats/inbox/"))
    assert 'data-testid="inbox-unread"' in body_of(client.get("/threats/"))
    # The originator narrows the label in a new version: the entry and the unread count disappear.
    StixObject.objects.filter(pk=obj.pk).update(is_current=False)
    put(kor_user, "indicator", make_label(**REL_KOR), stix_id=obj.stix_id, name="Now Korean only",
        modified="2026-04-01T00:00:00.000Z")
    inbox = body_of(client.get("/threats/inbox/"))
    assert "Once shared" not in inbox and "Now Korean only" not in inbox and obj.stix_id not in inbox
    assert services.unread_count(jpn_user) == 0
    assert 'data-testid="inbox-unread"' not in body_of(client.get("/threats/"))


def test_unread_count_shows_in_the_nav_until_marked_read(jpn_user: Any) -> None:
    watch_for(jpn_user, types=["indicator"])
    objs = [put(jpn_user, "indicator", make_label(**REL_JPN), name=f"i{i}") for i in range(3)]
    services.notify_new_objects([o.stix_id for o in objs])
    client = client_for(jpn_user)
    assert "3 new" in body_of(client.get("/reports/"))
    assert client.post("/threats/inbox/read/").status_code == 302
    assert 'data-testid="inbox-unread"' not in body_of(client.get("/reports/"))
    assert "i1" in body_of(client.get("/threats/inbox/"))


def test_watch_filter_form_saves_and_another_user_cannot_delete_it(jpn_user: Any, kor_user: Any) -> None:
    client = client_for(jpn_user)
    response = client.post("/threats/watch/", {"name": "Ransomware", "types": ["malware"], "value_contains": "",
                                               "area_text": "", "releasable_to": "", "community": "", "tlp": ""})
    assert response.status_code == 302
    watch = WatchFilter.objects.get(user=jpn_user)
    assert watch.types == ["malware"]
    assert client_for(kor_user).post(f"/threats/watch/{watch.pk}/delete/").status_code == 404
    assert "Ransomware" not in body_of(client_for(kor_user).get("/threats/watch/"))
    assert client.post(f"/threats/watch/{watch.pk}/delete/").status_code == 302
    assert not WatchFilter.objects.exists()


def test_a_watch_filter_without_criteria_is_refused(jpn_user: Any) -> None:
    response = client_for(jpn_user).post("/threats/watch/", {"name": "Everything"})
    assert response.status_code == 400
    assert "at least one criterion" in body_of(response)
    assert not WatchFilter.objects.exists()


def test_notification_failure_does_not_raise(jpn_user: Any, monkeypatch: Any) -> None:
    watch_for(jpn_user, types=["indicator"])
    obj = put(jpn_user, "indicator", make_label(**REL_JPN), name="x")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_fetch", broken)
    assert services.notify_new_objects([obj.stix_id]) == 0


def test_an_import_notifies_watchers_once_committed(jpn_user: Any, kor_user: Any,
                                                    django_capture_on_commit_callbacks: Any) -> None:
    from kizuna.threats.services import do_import_objects

    watch_for(jpn_user, value_contains="evil.example")
    watch_for(kor_user, value_contains="evil.example")
    indicator = {
        "type": "indicator", "spec_version": "2.1", "id": "indicator--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
        "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z", "name": "C2 domain",
        "pattern": "[domain-name:value = 'cdn.evil.example']", "pattern_type": "stix",
        "valid_from": "2026-03-01T00:00:00Z",
    }
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        summary = do_import_objects(jpn_user, [indicator], make_label(**REL_JPN), source="test")
        assert not Notification.objects.exists()  # nothing before the commit
    assert summary.accepted == 1 and len(callbacks) == 1
    assert list(Notification.objects.values_list("user__username", "ref")) == [
        (jpn_user.username, indicator["id"])]
