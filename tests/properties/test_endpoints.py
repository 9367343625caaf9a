"""Property: over random demo-policy labels and random users, no endpoint returns an item not releasable to the
caller. The REST API (every page of the list, every detail) and the web pages (every page of the list, every detail)
are compared with the pure-Python `may_see`, for a subject built here from the user's attributes independently of
the code under test. Invisible means 404, exactly like missing, with nothing of the item in the answer."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.core.access import clear_caches, intern_label, registry
from kizuna.directory.models import User
from kizuna.directory.services import create_token, ensure_organisation
from kizuna.labels import Label, Subject, may_see
from kizuna.reports.models import Report, ReportStatus

NATIONS = ("JPN", "KOR", "AUS", "USA", "DEU")
GROUPS = {"JPN": "IP4", "KOR": "IP4", "AUS": "IP4", "USA": "NATO", "DEU": "NATO"}  # as ensure_reference_data sets
ORGS = ("JPN-MOD", "KOR-MND", "USA-DOD")
COMMUNITIES = ("CYBER", "MARITIME", "SPACE", "HADR")
USERNAMES = ("u0", "u1", "u2")
PRINCIPALS = (*(f"user:{u}" for u in USERNAMES), *(f"org:{o}" for o in ORGS))
MISSING_ID = 10**12

ENDPOINT_SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Person:
    nation: str
    org: str
    clearance: str | None
    communities: tuple[str, ...]


people = st.builds(
    Person,
    nation=st.sampled_from(NATIONS),
    org=st.sampled_from(ORGS),
    clearance=st.sampled_from((None, "UNCLASSIFIED", "RESTRICTED")),
    communities=st.lists(st.sampled_from(COMMUNITIES), max_size=4, unique=True).map(tuple),
)


@st.composite
def demo_labels(draw: st.DrawFn) -> Label:
    tlp = draw(st.sampled_from(("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")))
    categories = {
        "releasable_to": draw(st.lists(st.sampled_from(("NATO", "IP4", *NATIONS)), max_size=3, unique=True)),
        "communities": draw(st.lists(st.sampled_from(COMMUNITIES), max_size=2, unique=True)),
        "caveats": draw(st.lists(st.sampled_from(("EXERCISE", "DRAFT")), max_size=1)),
    }
    recipients = draw(st.lists(st.sampled_from(PRINCIPALS), min_size=1 if tlp == "RED" else 0,
                               max_size=2 if tlp == "RED" else 0, unique=True))
    return Label.build("NATO", draw(st.sampled_from(("UNCLASSIFIED", "RESTRICTED"))), categories, tlp, recipients)


items = st.lists(
    st.tuples(demo_labels(), st.sampled_from(range(len(USERNAMES))), st.sampled_from(list(ReportStatus))),
    min_size=1,
    max_size=6,
)


@dataclass
class Caller:
    user: User
    token: str
    web: Client


@pytest.fixture
def callers(directory: None) -> list[Caller]:
    """Three users with API tokens and logged-in browsers; their attributes are redrawn for every example."""
    for org in ORGS:
        ensure_organisation(org, nation=org[:3])
    made: list[Caller] = []
    for username in USERNAMES:
        user = User.objects.create(username=username, nation_id="JPN", organisation=ensure_organisation("JPN-MOD"))
        _, secret = create_token(user)
        web = Client()
        web.force_login(user)
        made.append(Caller(user, secret, web))
    return made


@pytest.fixture
def small_pages() -> Iterator[None]:
    """Two items a page on the web list, so that a handful of reports already spans several pages."""
    with mock.patch("kizuna.reports.views.PAGE_SIZE", 2):
        yield


def expected_subject(user: User, person: Person) -> Subject:
    """The subject as the label rule defines it, built from the drawn attributes (not by `subject_for`)."""
    return Subject(
        key=f"expected:{user.username}",
        nations=frozenset({person.nation, GROUPS[person.nation]}),
        communities=frozenset(person.communities),
        clearances={"NATO": person.clearance} if person.clearance else {},
        principals=frozenset({f"user:{user.username}", f"org:{person.org}"}),
    )


def _apply(caller: Caller, person: Person) -> None:
    user = caller.user
    user.nation_id = person.nation
    user.organisation = ensure_organisation(person.org)
    user.clearances = {"NATO": person.clearance} if person.clearance else {}
    user.communities = list(person.communities)
    user.save()


def _api(caller: Caller, path: str) -> Any:
    return caller.web.get(path, HTTP_AUTHORIZATION=f"Bearer {caller.token}")


def _api_list(caller: Caller, status: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(50):
        response = _api(caller, f"/api/v1/reports?limit=2&status={status}" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.content
        body = response.json()
        found.extend(body["items"])
        if not body["next_cursor"]:
            return found
        cursor = body["next_cursor"]
    raise AssertionError("the list never ended")


_DETAIL_LINK = re.compile(r'href="/reports/(\d+)/"')
_NEXT_LINK = re.compile(r'<a href="([^"]+)" rel="next"')


def _web_list(caller: Caller, status: str) -> tuple[list[int], str]:
    ids: list[int] = []
    pages: list[str] = []
    url = f"/reports/?status={status}"
    for _ in range(50):
        response = caller.web.get(url)
        assert response.status_code == 200
        text = response.content.decode()
        pages.append(text)
        ids.extend(int(pk) for pk in _DETAIL_LINK.findall(text))
        following = _NEXT_LINK.search(text)
        if following is None:
            return ids, "\n".join(pages)
        url = "/reports/" + html.unescape(following.group(1))
    raise AssertionError("the list never ended")


def _clean() -> None:
    Report.objects.all().delete()
    clear_caches()


@ENDPOINT_SETTINGS
@given(persons=st.lists(people, min_size=len(USERNAMES), max_size=len(USERNAMES)), stored=items)
def test_no_endpoint_returns_an_item_not_releasable_to_the_caller(
    callers: list[Caller], small_pages: None, persons: list[Person], stored: list[tuple[Label, int, str]]
) -> None:
    _clean()
    try:
        for caller, person in zip(callers, persons, strict=True):
            _apply(caller, person)
        reports: list[tuple[Report, Label]] = []
        for index, (label, author_index, status) in enumerate(stored):
            author = callers[author_index].user
            report = Report.objects.create(
                title=f"T{index:04d}Z", label=intern_label(label), originator=author.organisation, author=author,
                status=status,
            )
            reports.append((report, label))
        for caller, person in zip(callers, persons, strict=True):
            subject = expected_subject(caller.user, person)
            visible = {r.pk for r, lab in reports if may_see(subject, lab, registry())}
            active = {r.pk for r, _ in reports if r.status == ReportStatus.ACTIVE}
            hidden_titles = [r.title for r, _ in reports if r.pk not in visible]
            _check_api(caller, reports, visible, active, hidden_titles)
            _check_web(caller, reports, visible, active, hidden_titles)
    finally:
        _clean()


def _check_api(caller: Caller, reports: list[tuple[Report, Label]], visible: set[int], active: set[int],
               hidden_titles: list[str]) -> None:
    default = _api_list(caller, "active")
    assert sorted(item["id"] for item in default) == sorted(visible & active)
    everything = _api_list(caller, "all")
    assert sorted(item["id"] for item in everything) == sorted(visible)
    for item in everything:
        assert item["title"] not in hidden_titles
    missing = _api(caller, f"/api/v1/reports/{MISSING_ID}")
    assert missing.status_code == 404
    for report, label in reports:
        response = _api(caller, f"/api/v1/reports/{report.pk}")
        if report.pk in visible:
            assert response.status_code == 200
            body = response.json()
            assert body["id"] == report.pk
            assert Label.from_api(body["label"]) == label
        else:
            assert response.status_code == 404
            assert response.json() == {"message": "not found"}
            assert response.content == missing.content  # no hint that this id exists
            for related in ("versions", "comments"):
                assert _api(caller, f"/api/v1/reports/{report.pk}/{related}").status_code == 404


def _check_web(caller: Caller, reports: list[tuple[Report, Label]], visible: set[int], active: set[int],
               hidden_titles: list[str]) -> None:
    listed, pages = _web_list(caller, "active")
    assert sorted(set(listed)) == sorted(visible & active)
    listed_all, pages_all = _web_list(caller, "all")
    assert sorted(set(listed_all)) == sorted(visible)
    for title in hidden_titles:
        assert title not in pages and title not in pages_all
    assert caller.web.get(f"/reports/{MISSING_ID}/").status_code == 404
    for report, _ in reports:
        response = caller.web.get(f"/reports/{report.pk}/")
        if report.pk in visible:
            assert response.status_code == 200
            assert report.title in response.content.decode()
        else:
            assert response.status_code == 404
            assert report.title not in response.content.decode()
            for action in ("edit", "withdraw"):
                assert caller.web.get(f"/reports/{report.pk}/{action}/").status_code == 404
