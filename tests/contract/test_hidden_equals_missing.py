"""The contract "hidden means missing, on every path" (docs/DESIGN.md, rule 4), applied to every labelled resource and
every path that takes an id, in the URL or in the body.

Each row of ``CASES`` says how to make a record the caller may not see (returning its id as it appears in the
request) and which request to send for an id. The test sends that request twice, once with the hidden id and once with
an id that names nothing, and asserts that the status, the ``Location``, the body (ids normalised) and the side
effects (the row count of every model: audit entries, STIX store rows, versions, notifications ...) are equal.
Adding a labelled type is one line in ``CASES``. Three meta-tests keep the table honest: every route of the project
that takes an id (Django's URL resolver and the published OpenAPI document) is named by a case or by ``NOT_LABELLED``
with its reason; every concrete ``Labelled`` model is made hidden by some case; and, as a control, each request sent
by the owner (who sees the record) answers otherwise than for a missing id, so no case passes by never looking the id
up. Writes whose refusal depends on the organisation are also tried by a caller of another nation (``FOREIGN_TOO``).
A case may carry ``xfail`` (strict) only while a known defect is being fixed; none does now.

The caller is the hardest one to hide from: ``taro``, a colleague of the owner in the same organisation (so an
organiser of the owner's meetings and an editor of the owner's reports), cleared only UNCLASSIFIED. Hidden records are
RESTRICTED REL TO JPN; the parents that a hidden child hangs under are UNCLASSIFIED REL TO JPN, visible to him.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from functools import cached_property
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from kizuna.consultations import services as consultations
from kizuna.consultations.models import AgendaItem, Meeting, Series
from kizuna.glossary.models import Term
from kizuna.glossary.services import TermInput, do_create_term
from kizuna.practices.models import Practice
from kizuna.practices.services import PracticeInput, do_create_practice
from kizuna.reports.models import Report
from kizuna.reports.services import ReportInput, do_add_attachment, do_create_report
from kizuna.threats.disinfo.services import IncidentInput, do_create_incident
from kizuna.threats.geo import stix as geo_stix
from kizuna.threats.geo.services import do_create_maritime, do_create_site
from kizuna.threats.models import ImportJob
from kizuna.threats.services import do_import_objects
from kizuna.threats.watch.services import WatchInput, do_save_watch_filter
from tests.api.conftest import Api, openapi_document
from tests.conftest import PASSWORD, make_label

HIDDEN = make_label(releasable_to=["JPN"], classification="RESTRICTED")
PARENT = make_label(releasable_to=["JPN"])  # visible to the caller: hidden children hang under it
PARENT_API = PARENT.as_api()
TAXII = "application/taxii+json;version=2.1"
EVERYTHING = "6b697a75-6e61-4000-8000-000000000001"
STAMP = "2026-02-01T00:00:00.000Z"
LATER = "2026-03-01T00:00:00.000Z"


def _basic(username: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()


class World:
    """The owner (hanako, JPN-MOD, RESTRICTED), the caller (taro, JPN-MOD, UNCLASSIFIED) and the records a case asks
    for, made on first use so that each case builds only what it needs."""

    def __init__(self, make_user: Callable[..., Any], api_for: Callable[[Any], Api], foreign: bool = False) -> None:
        self.owner = make_user("hanako", "JPN", "JPN-MOD")
        self.caller = (make_user("minjun", "KOR", "KOR-MND") if foreign
                       else make_user("taro", "JPN", "JPN-MOD", clearance="UNCLASSIFIED"))
        self.own_label = make_label(releasable_to=["KOR"]) if foreign else PARENT  # what the caller imports under
        self.api = api_for(self.caller)
        self.web = Client()
        self.web.force_login(self.caller)
        self.hidden_attachment = 0

    # --- reports ----------------------------------------------------------------------------------------------------
    def report(self, label: Any = HIDDEN) -> Report:
        return do_create_report(self.owner, ReportInput(title="Port visit", label=label))

    @cached_property
    def visible_report(self) -> Report:
        return self.report(PARENT)

    def attachment(self, report: Report) -> int:
        return int(do_add_attachment(self.owner, report, "note.txt", io.BytesIO(b"hello")).pk)

    # --- best-practice notes ---------------------------------------------------------------------------------------
    def practice(self) -> Practice:
        return do_create_practice(self.owner, PracticeInput(title="Hot wash-up", label=HIDDEN))

    # --- glossary terms (kept by coordinators: the owner is made one; the caller stays a contributor) -------------
    def term(self) -> Term:
        self.owner.role = "coordinator"
        self.owner.save(update_fields=["role"])
        return do_create_term(self.owner, TermInput(en="ship-to-ship transfer", ja="瀬取り", area="maritime",
                                                    label=HIDDEN))

    # --- STIX -------------------------------------------------------------------------------------------------------
    def stix(self, obj: dict[str, Any], label: Any = HIDDEN) -> str:
        summary = do_import_objects(self.owner, [obj], label)
        assert summary.accepted == 1, summary
        return str(obj["id"])

    def indicator(self, label: Any = HIDDEN) -> str:
        return self.stix(indicator(), label)

    @cached_property
    def visible_indicator(self) -> str:
        return self.indicator(PARENT)

    def maritime(self) -> str:
        return do_create_maritime(self.owner, geo_stix.MaritimeInput(
            title="Ship-to-ship transfer", observation_type="ship-to-ship-transfer", observing_unit="JMSDF P-3C",
            observed_start=datetime(2026, 3, 2, 22, 10, tzinfo=UTC), observed_end=None, latitude=31.25,
            longitude=124.5), HIDDEN)

    def site(self) -> str:
        return do_create_site(self.owner, geo_stix.SiteInput(
            name="Silo field", site_type="missile-silo-field", status="under-construction", latitude=40.14,
            longitude=96.6), HIDDEN)

    def incident(self) -> str:
        return do_create_incident(self.owner, IncidentInput(name="Fake evacuation order", label=HIDDEN))

    # --- consultations ----------------------------------------------------------------------------------------------
    def series(self, label: Any = HIDDEN) -> Series:
        return consultations.do_create_series(self.owner, consultations.SeriesInput(
            title="Cyber defence talks", label=label, time_zone="Asia/Tokyo", rrule="FREQ=MONTHLY",
            first_date=datetime(2027, 1, 12).date(), start_time=time(9, 0)))

    def meeting(self, label: Any = HIDDEN, series: Series | None = None) -> Meeting:
        return consultations.do_create_meeting(self.owner, consultations.MeetingInput(
            title="Space dialogue", label=label, start=datetime(2027, 4, 14, 0, 0, tzinfo=UTC),
            end=datetime(2027, 4, 14, 1, 30, tzinfo=UTC), time_zone="Asia/Tokyo",
            link="https://meet.example.org/space", attendees=[self.owner], series=series))

    def series_with_meeting(self) -> Series:
        series = self.series()
        self.meeting(series=series)
        return series

    @cached_property
    def visible_meeting(self) -> Meeting:
        return self.meeting(PARENT)

    def agenda_item(self, meeting: Meeting | None = None) -> AgendaItem:
        return consultations.do_add_agenda_item(self.owner, meeting or self.visible_meeting, "Item", HIDDEN)

    def minutes(self, label: Any = HIDDEN) -> int:
        return int(consultations.do_add_minutes(self.owner, self.visible_meeting, "Said", label).pk)

    def decision(self) -> int:
        return int(consultations.do_record_decision(self.owner, self.visible_meeting, "Agreed", HIDDEN).pk)

    def action(self, label: Any = HIDDEN) -> int:
        return int(consultations.do_create_action(self.owner, "Send the paper", label, meeting=self.visible_meeting,
                                                  owner_user=self.owner).pk)

    # --- not labelled, owned by one user ----------------------------------------------------------------------------
    def watch_filter(self) -> int:
        return int(do_save_watch_filter(self.owner, WatchInput(name="Mine", types=["indicator"])).pk)

    def digest(self) -> int:
        from kizuna.notifications.models import Notification
        from kizuna.notifications.services import DIGEST_MODULE

        return int(Notification.objects.create(user=self.owner, module=DIGEST_MODULE, kind="daily", ref="digest:1",
                                               key="daily:1", detail={"ids": []}).pk)

    def import_job(self) -> int:
        return int(ImportJob.objects.create(user=self.owner, source="x.json", default_label_key="").pk)

    # --- requests ---------------------------------------------------------------------------------------------------
    def taxii(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"HTTP_ACCEPT": TAXII, "HTTP_AUTHORIZATION": _basic(self.caller.username),
                   "HTTP_X_KIZUNA_DEFAULT_LABEL": json.dumps(self.own_label.as_api())}
        url = f"/taxii2/kizuna/collections/{EVERYTHING}/{path}"
        if method == "GET":
            return Client().get(url, **headers)
        return Client().post(url, data=json.dumps(body), content_type=TAXII, **headers)

    def bundle(self, *objects: dict[str, Any]) -> Any:
        body = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}
        return self.api.post(f"stix/bundles?label={json.dumps(self.own_label.as_api())}", body)


def indicator(sid: str | None = None, modified: str = STAMP, **extra: Any) -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1", "id": sid or f"indicator--{uuid.uuid4()}",
            "created": STAMP, "modified": modified, "pattern": "[ipv4-addr:value = '203.0.113.9']",
            "pattern_type": "stix", "valid_from": "2026-02-01T00:00:00Z", **extra}


def marking() -> dict[str, Any]:
    return {"type": "marking-definition", "spec_version": "2.1", "id": f"marking-definition--{uuid.uuid4()}",
            "created": STAMP, "name": "Handling caveat", "definition_type": "statement",
            "definition": {"statement": "Not for release outside the ministry"}}


def relationship(source: str, target: str) -> dict[str, Any]:
    return {"type": "relationship", "spec_version": "2.1", "id": f"relationship--{uuid.uuid4()}", "created": STAMP,
            "modified": STAMP, "relationship_type": "indicates", "source_ref": source, "target_ref": target}


def sighting(of: str) -> dict[str, Any]:
    return {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}", "created": STAMP,
            "modified": STAMP, "sighting_of_ref": of, "count": 1}


# --- the table ------------------------------------------------------------------------------------------------------

Make = Callable[[World], Any]
Send = Callable[[World, str], Any]



@dataclass(frozen=True)
class Case:
    """``make`` builds a record the caller may not see and returns its id as the request carries it; ``send`` is the
    request for an id; ``routes`` are the "METHOD route" keys of the URL patterns the case exercises."""

    name: str
    make: Make
    send: Send
    routes: tuple[str, ...] = ()
    xfail: str = ""
    foreign: bool = False  # the caller is of another nation (minjun, KOR-MND) rather than the owner's colleague
    no_control: str = ""  # why the owner's request cannot tell a seen id from a missing one either


def _id_of(value: Any) -> str:
    return str(getattr(value, "pk", value))


def api(method: str, path: str, body: Any = None) -> Send:
    """An API call; ``{id}`` in ``path`` and ``"{id}"``/``"{int}"`` in ``body`` stand for the id."""

    def send(w: World, record_id: str) -> Any:
        raw = None if body is None else json.dumps(body).replace('"{int}"', record_id).replace("{id}", record_id)
        return w.api.call(method, path.replace("{id}", record_id), raw=raw)

    return send


def web(method: str, path: str, data: dict[str, Any] | None = None) -> Send:
    """A page of the signed-in caller; ``{id}`` in ``path`` or in a form value stands for the id."""

    def send(w: World, record_id: str) -> Any:
        url = path.replace("{id}", record_id)
        if method == "GET":
            return w.web.get(url)
        form = {k: (v.replace("{id}", record_id) if isinstance(v, str) else v) for k, v in (data or {}).items()}
        return w.web.post(url, form)

    return send


NOT_ITS_REPORT = "the attachment belongs to another report: 404 for everyone"
STORED_EITHER_WAY = "the owner's new version and a new id are both accepted, with the same answer"
DANGLING_OK = "STIX allows a reference to an id this node does not hold: accepted either way"

R = "api/v1/"
C = "api/v1/consultations/"
M = "consultations/meetings/<int:pk>/"
LABEL_FIELDS = {"label_policy": "NATO", "label_preset": "custom", "label_classification": "UNCLASSIFIED",
                "label_releasable_to": ["JPN"], "label_tlp": "AMBER", "label_recipients": ""}


def _hidden_report(w: World) -> Any:
    return w.report()


def _hidden_report_with_attachment(w: World) -> str:
    """A hidden report with a file; both requests name that file's id, and the hidden or a missing report."""
    report = w.report()
    w.hidden_attachment = w.attachment(report)
    return str(report.pk)


CASES: list[Case] = [
    # reports: API
    Case("report read", _hidden_report, api("GET", "reports/{id}"), ("GET " + R + "reports/<id>",)),
    Case("report edit", _hidden_report, api("PATCH", "reports/{id}", {"title": "taken over"}),
         ("PATCH " + R + "reports/<id>",)),
    Case("report withdraw", _hidden_report, api("DELETE", "reports/{id}"), ("DELETE " + R + "reports/<id>",)),
    Case("report versions", _hidden_report, api("GET", "reports/{id}/versions"), ("GET " + R + "reports/<id>/versions",)),
    Case("report comments", _hidden_report, api("GET", "reports/{id}/comments"), ("GET " + R + "reports/<id>/comments",)),
    Case("report comment add", _hidden_report, api("POST", "reports/{id}/comments", {"body": "hello"}),
         ("POST " + R + "reports/<id>/comments",)),
    Case("report attachment add", _hidden_report,
         lambda w, i: w.api.upload(f"reports/{i}/attachments", "a.txt", b"hello"),
         ("POST " + R + "reports/<id>/attachments",)),
    Case("report attachment download (hidden report)", _hidden_report_with_attachment,
         lambda w, i: w.api.get(f"reports/{i}/attachments/{w.hidden_attachment}"),
         ("GET " + R + "reports/<id>/attachments/<att_id>",)),
    Case("report attachment download (visible report, another's attachment)",
         lambda w: w.attachment(w.report()),
         lambda w, i: w.api.get(f"reports/{w.visible_report.pk}/attachments/{i}"),
         ("GET " + R + "reports/<id>/attachments/<att_id>",), no_control=NOT_ITS_REPORT),
    Case("agenda item create linking a report", lambda w: w.report(),
         lambda w, i: w.api.post(f"consultations/meetings/{w.visible_meeting.pk}/agenda/items",
                                 {"title": "Item", "label": PARENT_API, "reports": [int(i)]}),
         ("POST " + C + "meetings/<id>/agenda/items",)),
    # reports: pages
    Case("report page", _hidden_report, web("GET", "/reports/{id}/"), ("GET reports/<int:pk>/",)),
    Case("report edit page", _hidden_report, web("GET", "/reports/{id}/edit/"), ("GET reports/<int:pk>/edit/",)),
    Case("report edit post", _hidden_report, web("POST", "/reports/{id}/edit/", {"title": "x", **LABEL_FIELDS}),
         ("POST reports/<int:pk>/edit/",)),
    Case("report withdraw post", _hidden_report, web("POST", "/reports/{id}/withdraw/", {"reason": "x"}),
         ("POST reports/<int:pk>/withdraw/",)),
    Case("report comment post", _hidden_report, web("POST", "/reports/{id}/comments/", {"body": "hello"}),
         ("POST reports/<int:pk>/comments/",)),
    Case("report attachment post", _hidden_report,
         lambda w, i: w.web.post(f"/reports/{i}/attachments/", {"file": io.BytesIO(b"hello")}),
         ("POST reports/<int:pk>/attachments/",)),
    Case("report attachment page (hidden report)", _hidden_report_with_attachment,
         lambda w, i: w.web.get(f"/reports/{i}/attachments/{w.hidden_attachment}/"),
         ("GET reports/<int:pk>/attachments/<int:att_id>/",)),
    Case("report attachment page (visible report, another's attachment)", lambda w: w.attachment(w.report()),
         lambda w, i: w.web.get(f"/reports/{w.visible_report.pk}/attachments/{i}/"),
         ("GET reports/<int:pk>/attachments/<int:att_id>/",), no_control=NOT_ITS_REPORT),
    # best-practice notes
    Case("practice read", lambda w: w.practice(), api("GET", "practices/{id}"), ("GET " + R + "practices/<id>",)),
    Case("practice edit", lambda w: w.practice(), api("PATCH", "practices/{id}", {"title": "taken over"}),
         ("PATCH " + R + "practices/<id>",)),
    Case("glossary term read", lambda w: w.term(), api("GET", "glossary/{id}"), ("GET " + R + "glossary/<id>",)),
    Case("glossary term edit", lambda w: w.term(), api("PATCH", "glossary/{id}", {"en": "taken over"}),
         ("PATCH " + R + "glossary/<id>",)),
    Case("glossary term delete", lambda w: w.term(), api("DELETE", "glossary/{id}"),
         ("DELETE " + R + "glossary/<id>",)),
    Case("glossary term page", lambda w: w.term(), web("GET", "/glossary/{id}/"), ("GET glossary/<int:pk>/",)),
    Case("glossary term edit form", lambda w: w.term(), web("GET", "/glossary/{id}/edit/"),
         ("GET glossary/<int:pk>/edit/",)),
    Case("glossary term edit page", lambda w: w.term(),
         web("POST", "/glossary/{id}/edit/", {"en": "taken over", "area": "maritime", **LABEL_FIELDS}),
         ("POST glossary/<int:pk>/edit/",)),
    Case("glossary term delete page", lambda w: w.term(), web("POST", "/glossary/{id}/delete/"),
         ("POST glossary/<int:pk>/delete/",)),
    Case("practice page", lambda w: w.practice(), web("GET", "/practices/{id}/"), ("GET practices/<int:pk>/",)),
    # STIX objects
    Case("STIX object read", lambda w: w.indicator(), api("GET", "stix/objects/{id}"),
         ("GET " + R + "stix/objects/<stix_id>",)),
    Case("STIX object versions", lambda w: w.indicator(), api("GET", "stix/objects/{id}/versions"),
         ("GET " + R + "stix/objects/<stix_id>/versions",)),
    Case("STIX object page", lambda w: w.indicator(), web("GET", "/threats/objects/{id}/"),
         ("GET threats/objects/<str:stix_id>/",)),
    Case("seen it too", lambda w: w.indicator(), web("POST", "/threats/objects/{id}/seen/"),
         ("POST threats/objects/<str:stix_id>/seen/",)),
    Case("STIX export by id", lambda w: w.indicator(), api("GET", "stix/bundles?id={id}")),
    Case("TAXII objects matched by id", lambda w: w.indicator(), lambda w, i: w.taxii("GET", f"objects/?match[id]={i}")),
    Case("TAXII manifest matched by id", lambda w: w.indicator(),
         lambda w, i: w.taxii("GET", f"manifest/?match[id]={i}")),
    Case("strategic event form preset with a hidden site", lambda w: w.site(),
         web("GET", "/threats/strategic/events/new/?site={id}")),
    Case("TAXII object", lambda w: w.indicator(), lambda w, i: w.taxii("GET", f"objects/{i}/"),
         ("GET taxii2/<str:api_root>/collections/<str:collection_id>/objects/<str:object_id>/",)),
    Case("TAXII object versions", lambda w: w.indicator(), lambda w, i: w.taxii("GET", f"objects/{i}/versions/"),
         ("GET taxii2/<str:api_root>/collections/<str:collection_id>/objects/<str:object_id>/versions/",)),
    Case("import: a new version of a hidden id", lambda w: w.indicator(),
         lambda w, i: w.bundle(indicator(i, LATER)), no_control=STORED_EITHER_WAY),
    Case("import: a new version of a hidden id, from another nation", lambda w: w.indicator(),
         lambda w, i: w.bundle(indicator(i, LATER)), foreign=True, no_control=STORED_EITHER_WAY),
    Case("import: the same version of a hidden id", lambda w: w.indicator(),
         lambda w, i: w.bundle(indicator(i))),
    Case("import: a relationship to a hidden id", lambda w: w.indicator(),
         lambda w, i: w.bundle(relationship(w.visible_indicator, i)), no_control=DANGLING_OK),
    Case("import: a sighting of a hidden id", lambda w: w.indicator(), lambda w, i: w.bundle(sighting(i)),
         no_control=DANGLING_OK),
    Case("TAXII POST: a new version of a hidden id", lambda w: w.indicator(),
         lambda w, i: w.taxii("POST", "objects/", {"objects": [indicator(i, LATER)]}),
         no_control=STORED_EITHER_WAY),
    Case("import: an object marked with a hidden marking-definition", lambda w: w.stix(marking()),
         lambda w, i: w.bundle(indicator(object_marking_refs=[i]))),
    Case("TAXII POST: a new version of a hidden id, from another nation", lambda w: w.indicator(),
         lambda w, i: w.taxii("POST", "objects/", {"objects": [indicator(i, LATER)]}), foreign=True,
         no_control=STORED_EITHER_WAY),
    Case("seen it too, from another nation", lambda w: w.indicator(), web("POST", "/threats/objects/{id}/seen/"),
         foreign=True),
    Case("TAXII POST: the same version of a hidden id", lambda w: w.indicator(),
         lambda w, i: w.taxii("POST", "objects/", {"objects": [indicator(i)]})),
    Case("maritime record", lambda w: w.maritime(), web("GET", "/threats/maritime/{id}/"),
         ("GET threats/maritime/<str:stix_id>/",)),
    Case("strategic record", lambda w: w.site(), web("GET", "/threats/strategic/{id}/"),
         ("GET threats/strategic/<str:stix_id>/",)),
    Case("strategic event at a hidden site", lambda w: w.site(), web("POST", "/threats/strategic/events/new/", {
        "title": "Launch", "event_type": "missile-launch", "event_start": "2026-04-11T07:12", "event_end": "",
        "site": "{id}", "latitude": "39.0", "longitude": "125.7", "position_text": "", "description": "",
        "evidence": "", "assessment": "", "confidence": "70", **LABEL_FIELDS})),
    Case("disinformation incident", lambda w: w.incident(), web("GET", "/threats/disinformation/{id}/"),
         ("GET threats/disinformation/<str:stix_id>/",)),
    # series
    Case("series read", lambda w: w.series(), api("GET", "consultations/series/{id}"), ("GET " + C + "series/<id>",)),
    Case("series edit", lambda w: w.series(), api("PATCH", "consultations/series/{id}", {"title": "x"}),
         ("PATCH " + C + "series/<id>",)),
    Case("series occurrences", lambda w: w.series(), api("GET", "consultations/series/{id}/occurrences"),
         ("GET " + C + "series/<id>/occurrences",)),
    Case("series actions", lambda w: w.series(), api("GET", "consultations/series/{id}/actions"),
         ("GET " + C + "series/<id>/actions",)),
    Case("meeting create in a hidden series", lambda w: w.series(), api("POST", "consultations/meetings", {
        "title": "x", "label": PARENT_API, "start": "2027-05-01T09:00:00+09:00", "end": "2027-05-01T10:00:00+09:00",
        "time_zone": "Asia/Tokyo", "link": "https://meet.example.org/x", "series": "{int}"})),
    Case("action create in a hidden series", lambda w: w.series(), api("POST", "consultations/actions", {
        "title": "x", "label": PARENT_API, "series": "{int}", "owner_organisation": "JPN-MOD"})),
    Case("meeting form in a hidden series", lambda w: w.series(), web("POST", "/consultations/meetings/new/", {
        "title": "x", "series": "{id}", "time_zone": "Asia/Tokyo", "start": "2027-05-01T09:00",
        "end": "2027-05-01T10:00", "mode": "virtual", "link": "https://meet.example.org/x", **LABEL_FIELDS})),
    Case("meetings of a hidden series", lambda w: w.series_with_meeting(),
         api("GET", "consultations/meetings?series={id}&start=2027-01-01T00:00:00Z&end=2027-12-31T00:00:00Z")),
    Case("meeting form preset from a hidden series", lambda w: w.series(),
         web("GET", "/consultations/meetings/new/?series={id}")),
    Case("schedule of a hidden series", lambda w: w.series(), web("GET", "/consultations/schedule/?series={id}")),
    Case("series page", lambda w: w.series(), web("GET", "/consultations/series/{id}/"),
         ("GET consultations/series/<int:pk>/",)),
    Case("series edit page", lambda w: w.series(), web("POST", "/consultations/series/{id}/edit/", {"title": "x"}),
         ("POST consultations/series/<int:pk>/edit/", "GET consultations/series/<int:pk>/edit/")),
    # meetings
    Case("meeting read", lambda w: w.meeting(), api("GET", "consultations/meetings/{id}"),
         ("GET " + C + "meetings/<int:id>",)),
    Case("meeting edit", lambda w: w.meeting(), api("PATCH", "consultations/meetings/{id}", {"title": "x"}),
         ("PATCH " + C + "meetings/<int:id>",)),
    Case("meeting cancel", lambda w: w.meeting(), api("POST", "consultations/meetings/{id}/cancel", {"reason": "x"}),
         ("POST " + C + "meetings/<id>/cancel",)),
    Case("meeting iCalendar", lambda w: w.meeting(), api("GET", "consultations/meetings/{id}.ics"),
         ("GET " + C + "meetings/<int:id>.ics",)),
    Case("RSVP", lambda w: w.meeting(), api("POST", "consultations/meetings/{id}/rsvp", {"answer": "accepted"}),
         ("POST " + C + "meetings/<id>/rsvp",)),
    Case("agenda read", lambda w: w.meeting(), api("GET", "consultations/meetings/{id}/agenda"),
         ("GET " + C + "meetings/<id>/agenda",)),
    Case("agenda item add", lambda w: w.meeting(),
         api("POST", "consultations/meetings/{id}/agenda/items", {"title": "x", "label": PARENT_API}),
         ("POST " + C + "meetings/<id>/agenda/items",)),
    Case("agenda publish", lambda w: w.meeting(), api("POST", "consultations/meetings/{id}/agenda/publish"),
         ("POST " + C + "meetings/<id>/agenda/publish",)),
    Case("agenda unpublish", lambda w: w.meeting(), api("POST", "consultations/meetings/{id}/agenda/unpublish"),
         ("POST " + C + "meetings/<id>/agenda/unpublish",)),
    Case("minutes read", lambda w: w.meeting(), api("GET", "consultations/meetings/{id}/minutes"),
         ("GET " + C + "meetings/<id>/minutes",)),
    Case("minutes part add", lambda w: w.meeting(),
         api("POST", "consultations/meetings/{id}/minutes/parts", {"text": "x", "label": PARENT_API}),
         ("POST " + C + "meetings/<id>/minutes/parts",)),
    Case("decision add", lambda w: w.meeting(),
         api("POST", "consultations/meetings/{id}/decisions", {"text": "x", "label": PARENT_API}),
         ("POST " + C + "meetings/<id>/decisions",)),
    Case("minutes publish", lambda w: w.meeting(), api("POST", "consultations/meetings/{id}/minutes/publish"),
         ("POST " + C + "meetings/<id>/minutes/publish",)),
    Case("minutes unpublish", lambda w: w.meeting(), api("POST", "consultations/meetings/{id}/minutes/unpublish"),
         ("POST " + C + "meetings/<id>/minutes/unpublish",)),
    Case("action create at a hidden meeting", lambda w: w.meeting(), api("POST", "consultations/actions", {
        "title": "x", "label": PARENT_API, "meeting": "{int}", "owner_organisation": "JPN-MOD"})),
    Case("meeting page", lambda w: w.meeting(), web("GET", "/consultations/meetings/{id}/"),
         ("GET " + M,)),
    Case("meeting edit page", lambda w: w.meeting(), web("POST", "/consultations/meetings/{id}/edit/", {"title": "x"}),
         ("POST " + M + "edit/", "GET " + M + "edit/")),
    Case("meeting cancel page", lambda w: w.meeting(), web("POST", "/consultations/meetings/{id}/cancel/"),
         ("POST " + M + "cancel/",)),
    Case("meeting iCalendar page", lambda w: w.meeting(), web("GET", "/consultations/meetings/{id}.ics"),
         ("GET consultations/meetings/<int:pk>.ics",)),
    Case("RSVP page", lambda w: w.meeting(), web("POST", "/consultations/meetings/{id}/rsvp/", {"answer": "accepted"}),
         ("POST " + M + "rsvp/",)),
    Case("agenda add page", lambda w: w.meeting(), web("POST", "/consultations/meetings/{id}/agenda/new/",
                                                       {"title": "x", **LABEL_FIELDS}),
         ("POST " + M + "agenda/new/", "GET " + M + "agenda/new/")),
    Case("agenda publish page", lambda w: w.meeting(), web("POST", "/consultations/meetings/{id}/agenda/publish/"),
         ("POST " + M + "agenda/publish/",)),
    Case("agenda unpublish page", lambda w: w.meeting(), web("POST", "/consultations/meetings/{id}/agenda/unpublish/"),
         ("POST " + M + "agenda/unpublish/",)),
    Case("minutes add page", lambda w: w.meeting(), web("POST", "/consultations/meetings/{id}/minutes/new/",
                                                        {"text": "x", **LABEL_FIELDS}),
         ("POST " + M + "minutes/new/", "GET " + M + "minutes/new/")),
    Case("decision add page", lambda w: w.meeting(), web("POST", "/consultations/meetings/{id}/decisions/new/",
                                                         {"text": "x", **LABEL_FIELDS}),
         ("POST " + M + "decisions/new/", "GET " + M + "decisions/new/")),
    Case("minutes publish page", lambda w: w.meeting(), web("POST", "/consultations/meetings/{id}/minutes/publish/"),
         ("POST " + M + "minutes/publish/",)),
    Case("minutes unpublish page", lambda w: w.meeting(),
         web("POST", "/consultations/meetings/{id}/minutes/unpublish/"), ("POST " + M + "minutes/unpublish/",)),
    Case("action add page", lambda w: w.meeting(), web("POST", "/consultations/meetings/{id}/actions/new/",
                                                       {"title": "x", **LABEL_FIELDS}),
         ("POST " + M + "actions/new/", "GET " + M + "actions/new/")),
    Case("printable minutes", lambda w: w.meeting(), web("GET", "/consultations/meetings/{id}/minutes/print/"),
         ("GET " + M + "minutes/print/",)),
    Case("minutes PDF", lambda w: w.meeting(), web("GET", "/consultations/meetings/{id}/minutes.pdf"),
         ("GET consultations/meetings/<int:pk>/minutes.pdf",)),
    # agenda items (hidden, in a meeting the caller sees and organises)
    Case("agenda item edit", lambda w: w.agenda_item(), api("PATCH", "consultations/agenda-items/{id}", {"title": "x"}),
         ("PATCH " + C + "agenda-items/<id>",)),
    Case("agenda item delete", lambda w: w.agenda_item(), api("DELETE", "consultations/agenda-items/{id}"),
         ("DELETE " + C + "agenda-items/<id>",)),
    Case("minutes part about a hidden agenda item", lambda w: w.agenda_item(),
         lambda w, i: w.api.post(f"consultations/meetings/{w.visible_meeting.pk}/minutes/parts",
                                 {"text": "x", "label": PARENT_API, "agenda_item": int(i)})),
    Case("decision about a hidden agenda item", lambda w: w.agenda_item(),
         lambda w, i: w.api.post(f"consultations/meetings/{w.visible_meeting.pk}/decisions",
                                 {"text": "x", "label": PARENT_API, "agenda_item": int(i)})),
    Case("action under a hidden agenda item", lambda w: w.agenda_item(),
         lambda w, i: w.api.post("consultations/actions", {
             "title": "x", "label": PARENT_API, "meeting": w.visible_meeting.pk, "agenda_item": int(i),
             "owner_organisation": "JPN-MOD"})),
    Case("meeting moved into a hidden series", lambda w: w.series(),
         lambda w, i: w.api.patch(f"consultations/meetings/{w.visible_meeting.pk}", {"series": int(i)})),
    Case("minutes part moved under a hidden agenda item", lambda w: w.agenda_item(),
         lambda w, i: w.api.patch(f"consultations/minutes-parts/{w.minutes(PARENT)}", {"agenda_item": int(i)})),
    Case("action moved under a hidden agenda item", lambda w: w.agenda_item(),
         lambda w, i: w.api.patch(f"consultations/actions/{w.action(PARENT)}", {"agenda_item": int(i)})),
    Case("minutes form about a hidden agenda item", lambda w: w.agenda_item(),
         lambda w, i: w.web.post(f"/consultations/meetings/{w.visible_meeting.pk}/minutes/new/",
                                 {"agenda_item": i, "text": "x", **LABEL_FIELDS})),
    Case("action form under a hidden agenda item", lambda w: w.agenda_item(),
         lambda w, i: w.web.post(f"/consultations/meetings/{w.visible_meeting.pk}/actions/new/",
                                 {"agenda_item": i, "title": "x", "owner": "org:JPN-MOD", **LABEL_FIELDS})),
    Case("action form preset under a hidden agenda item", lambda w: w.agenda_item(),
         lambda w, i: w.web.get(f"/consultations/meetings/{w.visible_meeting.pk}/actions/new/?item={i}")),
    Case("agenda item edit page", lambda w: w.agenda_item(),
         lambda w, i: w.web.post(f"/consultations/meetings/{w.visible_meeting.pk}/agenda/{i}/edit/", {"title": "x"}),
         ("POST " + M + "agenda/<int:item_pk>/edit/",)),
    Case("agenda item edit form", lambda w: w.agenda_item(),
         lambda w, i: w.web.get(f"/consultations/meetings/{w.visible_meeting.pk}/agenda/{i}/edit/"),
         ("GET " + M + "agenda/<int:item_pk>/edit/",)),
    Case("agenda item delete page", lambda w: w.agenda_item(),
         lambda w, i: w.web.post(f"/consultations/meetings/{w.visible_meeting.pk}/agenda/{i}/delete/"),
         ("POST " + M + "agenda/<int:item_pk>/delete/",)),
    Case("agenda item move page", lambda w: w.agenda_item(),
         lambda w, i: w.web.post(f"/consultations/meetings/{w.visible_meeting.pk}/agenda/{i}/move/",
                                 {"direction": "up"}),
         ("POST " + M + "agenda/<int:item_pk>/move/",)),
    # minutes parts and decisions (hidden, in a meeting the caller sees and organises)
    Case("minutes part edit", lambda w: w.minutes(), api("PATCH", "consultations/minutes-parts/{id}", {"text": "x"}),
         ("PATCH " + C + "minutes-parts/<id>",)),
    Case("minutes part delete", lambda w: w.minutes(), api("DELETE", "consultations/minutes-parts/{id}"),
         ("DELETE " + C + "minutes-parts/<id>",)),
    Case("minutes part edit page", lambda w: w.minutes(),
         lambda w, i: w.web.post(f"/consultations/meetings/{w.visible_meeting.pk}/minutes/{i}/edit/", {"text": "x"}),
         ("POST " + M + "minutes/<int:part_pk>/edit/", "GET " + M + "minutes/<int:part_pk>/edit/")),
    Case("decision edit", lambda w: w.decision(), api("PATCH", "consultations/decisions/{id}", {"text": "x"}),
         ("PATCH " + C + "decisions/<id>",)),
    Case("decision delete", lambda w: w.decision(), api("DELETE", "consultations/decisions/{id}"),
         ("DELETE " + C + "decisions/<id>",)),
    Case("decision edit page", lambda w: w.decision(),
         lambda w, i: w.web.post(f"/consultations/meetings/{w.visible_meeting.pk}/decisions/{i}/edit/", {"text": "x"}),
         ("POST " + M + "decisions/<int:part_pk>/edit/", "GET " + M + "decisions/<int:part_pk>/edit/")),
    # actions (hidden, in a meeting the caller sees and organises)
    Case("action read", lambda w: w.action(), api("GET", "consultations/actions/{id}"),
         ("GET " + C + "actions/<id>",)),
    Case("action edit", lambda w: w.action(), api("PATCH", "consultations/actions/{id}", {"status": "done"}),
         ("PATCH " + C + "actions/<id>",)),
    Case("action edit page", lambda w: w.action(),
         lambda w, i: w.web.post(f"/consultations/meetings/{w.visible_meeting.pk}/actions/{i}/edit/", {"title": "x"}),
         ("POST " + M + "actions/<int:action_pk>/edit/", "GET " + M + "actions/<int:action_pk>/edit/")),
    Case("action status page", lambda w: w.action(),
         lambda w, i: w.web.post(f"/consultations/meetings/{w.visible_meeting.pk}/actions/{i}/status/",
                                 {"status": "done"}),
         ("POST " + M + "actions/<int:action_pk>/status/",)),
    Case("my action status", lambda w: w.action(), web("POST", "/consultations/actions/{id}/status/",
                                                       {"status": "done"}),
         ("POST consultations/actions/<int:pk>/status/",)),
    # records owned by one user (not labelled): another user's answers like a missing one too
    Case("watch filter delete", lambda w: w.watch_filter(), web("POST", "/threats/watch/{id}/delete/"),
         ("POST threats/watch/<int:pk>/delete/",)),
    Case("digest page", lambda w: w.digest(), web("GET", "/inbox/digest/{id}/"), ("GET inbox/digest/<int:pk>/",)),
    Case("import job (API)", lambda w: w.import_job(), api("GET", "stix/imports/{id}"),
         ("GET " + R + "stix/imports/<job_id>",)),
    Case("import job page", lambda w: w.import_job(), web("GET", "/threats/import/{id}/"),
         ("GET threats/import/<int:job_id>/",)),
    Case("import job progress", lambda w: w.import_job(), web("GET", "/threats/import/{id}/progress/"),
         ("GET threats/import/<int:job_id>/progress/",)),
]

# Writes whose refusal depends on the caller's organisation are also tried by a caller of another nation.
FOREIGN_TOO = ("report edit", "practice edit", "glossary term edit", "glossary term delete",
               "report withdraw", "report attachment add", "report edit post", "meeting edit",
               "meeting cancel", "agenda item edit", "minutes part edit", "decision edit", "action edit",
               "series edit", "STIX object page")
CASES += [replace(c, name=f"{c.name}, from another nation", foreign=True) for c in CASES if c.name in FOREIGN_TOO]

# Routes that take an id of something that is not a labelled record, with the reason it needs no case.
NOT_LABELLED: dict[str, str] = {
    "admin/": "directory administration: admins only (404 for everyone else), and no labelled model is registered "
              "there (tests/test_admin.py)",
    "federation/peers/<slug:name>/": "peer administration: admins only, 404 for everyone else; peers are not labelled",
    "taxii2/<str:api_root>/": "TAXII API roots and collections are fixed names of this node, the same for everyone",
    "taxii2/<str:api_root>/status/<str:status_id>/": "a TAXII status is readable by its poster only; not labelled",
    "consultations/feed/<str:token>.ics": "the secret in the path is the credential, not a record id",
    "account/tokens/<int:pk>/revoke/": "a user's own API tokens; another's token answers like a missing one "
                                       "(tests/web/test_account.py); not labelled",
}


def _missing_like(record_id: str) -> str:
    if record_id.isdigit():
        return str(int(record_id) + 100_000)
    kind = record_id.split("--", 1)[0]
    return f"{kind}--{uuid.uuid4()}"


_CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=|name="csrf-token" content=|"X-CSRFToken": )"[^"]*"')
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STATUS_ID = re.compile(r'^(\{"id":)"\d+"(?=,"status")')
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def _answer(response: Any) -> tuple[int, str, str]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = _CSRF.sub(r'\1"<CSRF>"', body.decode(errors="replace"))
    text = _UUID.sub("<UUID>", text)  # TAXII status ids, bundle ids of an answer
    text = _STAMP.sub("<TIME>", text)  # TAXII status request_timestamp
    text = _STATUS_ID.sub(r'\1"<STATUS>"', text)  # each POST makes a status resource with the next number
    return response.status_code, response.get("Location", ""), text


_TOKEN = re.compile(r"([\w.:-]+)")


def assert_same_answer(hidden: Any, hidden_id: str, missing: Any, missing_id: str) -> None:
    """Equal except where one names the hidden id and the other, at the same place, the missing one."""
    a, b = _answer(hidden), _answer(missing)
    assert a[0] == b[0], f"status {a[0]} for the hidden id, {b[0]} for a missing one: {a[2][:300]!r} / {b[2][:300]!r}"
    for part_a, part_b in ((a[1], b[1]), (a[2], b[2])):
        tokens_a, tokens_b = _TOKEN.split(part_a), _TOKEN.split(part_b)
        differ = [(x, y) for x, y in zip(tokens_a, tokens_b, strict=False)
                  if x != y and x.replace(hidden_id, "<ID>") != y.replace(missing_id, "<ID>")]
        assert len(tokens_a) == len(tokens_b) and not differ, (
            f"the answers differ, first at {differ[:3]}: {part_a[:1500]!r} != {part_b[:1500]!r}")


# Labels are interned on first use by whoever uses them (content-addressed, shared by every record under them): the
# first of the two requests may intern its default label and the second find it, which says nothing about the id.
# A label's terms (its category values and recipients, for the decision in SQL) are part of its row.
_NOT_SIDE_EFFECTS = {"core.LabelRecord", "core.LabelTerm"}


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()
            if model._meta.label not in _NOT_SIDE_EFFECTS}


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before[name] for name in before if after[name] != before[name]}


def _param(case: Case) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_a_hidden_id_answers_exactly_like_a_missing_one(case: Case, make_user: Callable[..., Any],
                                                       api_for: Callable[[Any], Api]) -> None:
    world = World(make_user, api_for, case.foreign)
    hidden = _id_of(case.make(world))
    missing = _missing_like(hidden)
    world.visible_report, world.visible_meeting, world.visible_indicator  # noqa: B018 - made before the counts
    before = _row_counts()
    hidden_answer = case.send(world, hidden)
    middle = _row_counts()
    missing_answer = case.send(world, missing)
    after = _row_counts()
    assert_same_answer(hidden_answer, hidden, missing_answer, missing)
    assert _delta(before, middle) == _delta(middle, after), "side effects differ"
    assert hidden_answer.status_code < 500


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES if not (c.no_control or c.foreign)])
def test_the_request_reaches_the_record_when_the_caller_may_see_it(case: Case, make_user: Callable[..., Any],
                                                                   api_for: Callable[[Any], Api]) -> None:
    """The control: sent by the owner, who sees the record, the same request answers otherwise than for a missing
    id, so the equality above is not two answers to a request that never looked the id up."""
    world = World(make_user, api_for)
    world.api = api_for(world.owner)
    world.web.force_login(world.owner)
    world.caller = world.owner
    seen = _id_of(case.make(world))
    world.visible_report, world.visible_meeting, world.visible_indicator  # noqa: B018 - made before the counts
    before = _row_counts()
    found = case.send(world, seen)
    middle = _row_counts()
    missing = case.send(world, _missing_like(seen))
    after = _row_counts()
    assert _answer(found) != _answer(missing) or _delta(before, middle) != _delta(middle, after)


def test_every_labelled_model_has_a_hidden_record_in_the_table(make_user: Callable[..., Any],
                                                               api_for: Callable[[Any], Api]) -> None:
    """Each concrete ``Labelled`` model (and so each new labelled type) is made hidden by at least one case."""
    from kizuna.core.models import Labelled

    world = World(make_user, api_for)
    world.visible_report, world.visible_meeting, world.visible_indicator  # noqa: B018 - parents, not cases
    made: set[str] = set()
    for case in CASES:
        before = _row_counts()
        case.make(world)
        made.update(_delta(before, _row_counts()))
    labelled = {m._meta.label for m in apps.get_models() if issubclass(m, Labelled)}
    assert labelled - made == set()


# --- every route that takes an id is in the contract ----------------------------------------------------------------

def _web_routes() -> set[str]:
    def walk(patterns: list[Any], prefix: str) -> Any:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    return {route for route in walk(get_resolver().url_patterns, "") if "<" in route and not route.startswith("api/")}


def _api_routes() -> set[str]:
    """"METHOD api/v1/path" of every operation of the published OpenAPI document whose path takes a parameter."""
    result = set()
    for path, operations in openapi_document()["paths"].items():
        if "{" not in path:
            continue
        route = re.sub(r"\{(\w+)\}", r"<\1>", path.lstrip("/"))
        for method in operations:
            result.add(f"{method.upper()} {route}")
    return result


def _canonical(key: str) -> str:
    """``<int:pk>`` and ``<pk>`` name the same parameter (Ninja's ``{int:id}`` is ``{id}`` in its document)."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", key)


def _covered() -> set[str]:
    return {_canonical(route) for case in CASES for route in case.routes}


def _excluded(route: str) -> bool:
    return any(route.startswith(prefix) for prefix in NOT_LABELLED)


@pytest.mark.django_db
def test_every_route_that_takes_an_id_is_in_the_contract() -> None:
    covered = _covered()
    covered_routes = {key.split(" ", 1)[1] for key in covered}
    uncovered_api = sorted(k for k in _api_routes() if _canonical(k) not in covered)
    uncovered_web = sorted(r for r in _web_routes() if _canonical(r) not in covered_routes and not _excluded(r))
    assert uncovered_api == [] and uncovered_web == [], (
        "routes that take an id but are in neither CASES nor NOT_LABELLED: " + ", ".join(uncovered_api + uncovered_web))


@pytest.mark.django_db
def test_every_route_named_by_a_case_exists() -> None:
    """A case that names a route the project no longer has is a typo or a stale line."""
    known = {_canonical(r) for r in _api_routes()} | {_canonical(f"{m} {r}") for r in _web_routes()
                                                         for m in ("GET", "POST")}
    stale = sorted(key for key in _covered() if key not in known)
    assert stale == []
