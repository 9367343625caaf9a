"""The 404-not-403 matrix: for each way a label can include or exclude a reader, every endpoint of a report answers
as if an excluded reader had asked for a report that does not exist — same status, same body, no hint — and the list
leaves it out. Author: hanako (JPN, JPN-MOD, NATO RESTRICTED, CYBER/MARITIME/HADR/SPACE)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from kizuna.reports.models import Report
from tests.api.conftest import label_api


@dataclass(frozen=True)
class Case:
    label: dict[str, Any]
    nation: str
    org: str
    clearance: str = "RESTRICTED"
    communities: list[str] = field(default_factory=lambda: ["CYBER", "MARITIME", "HADR", "SPACE"])
    visible: bool = True


MATRIX = {
    "same nation": Case({"releasable_to": ["JPN"]}, "JPN", "JPN-NISC"),
    "other nation": Case({"releasable_to": ["JPN"]}, "KOR", "KOR-MND", visible=False),
    "group includes partner": Case({"releasable_to": ["IP4"]}, "NZL", "NZL-NCSC"),
    "group excludes member of other group": Case({"releasable_to": ["IP4"]}, "USA", "USA-DOD", visible=False),
    "cleared for restricted": Case({"releasable_to": ["JPN"], "classification": "RESTRICTED"}, "JPN", "JPN-NISC"),
    "missing clearance": Case(
        {"releasable_to": ["JPN"], "classification": "RESTRICTED"}, "JPN", "JPN-NISC", clearance="UNCLASSIFIED",
        visible=False,
    ),
    "no clearance at all": Case({"releasable_to": ["JPN"]}, "JPN", "JPN-NISC", clearance="", visible=False),
    "holds community": Case({"releasable_to": ["IP4"], "communities": ["CYBER"]}, "KOR", "KOR-KISA", communities=["CYBER"]),
    "missing community": Case(
        {"releasable_to": ["IP4"], "communities": ["CYBER"]}, "KOR", "KOR-KISA", communities=["MARITIME"], visible=False
    ),
    "missing one of two communities": Case(
        {"releasable_to": ["IP4"], "communities": ["CYBER", "SPACE"]}, "KOR", "KOR-KISA", communities=["CYBER"],
        visible=False,
    ),
    "TLP:RED named recipient": Case(
        {"releasable_to": ["IP4"], "tlp": "RED", "recipients": ["user:reader"]}, "KOR", "KOR-KISA"
    ),
    "TLP:RED recipient organisation": Case(
        {"releasable_to": ["IP4"], "tlp": "RED", "recipients": ["org:KOR-KISA"]}, "KOR", "KOR-KISA"
    ),
    "TLP:RED originator's organisation": Case({"releasable_to": ["JPN"], "tlp": "RED"}, "JPN", "JPN-MOD"),
    "TLP:RED not named": Case(
        {"releasable_to": ["IP4"], "tlp": "RED", "recipients": ["user:someone"]}, "KOR", "KOR-KISA", visible=False
    ),
    "TLP:RED same nation other organisation": Case({"releasable_to": ["JPN"], "tlp": "RED"}, "JPN", "JPN-NISC", visible=False),
}


@pytest.fixture(params=list(MATRIX), ids=list(MATRIX))
def case(request: Any) -> Case:
    return MATRIX[request.param]


def _setup(case: Case, jpn_user: Any, make_user: Any, api_for: Any) -> tuple[Any, Any, int]:
    author = api_for(jpn_user)
    created = author.post("reports", {"title": "Matrix item", "label": label_api(**case.label)})
    assert created.status_code == 201, created.content
    reader = make_user("reader", case.nation, case.org, clearance=case.clearance, communities=case.communities)
    return author, api_for(reader), created.json()["id"]


def test_detail_is_200_when_visible_and_the_same_404_as_missing_otherwise(
    case: Case, jpn_user: Any, make_user: Any, api_for: Any
) -> None:
    _, reader, report_id = _setup(case, jpn_user, make_user, api_for)
    missing = reader.get(f"reports/{report_id + 10_000}")
    response = reader.get(f"reports/{report_id}")
    if case.visible:
        assert response.status_code == 200
        assert response.json()["id"] == report_id
    else:
        assert (response.status_code, response.content) == (missing.status_code, missing.content)
        assert response.json() == {"message": "not found"}


def test_list_includes_the_report_exactly_when_visible(case: Case, jpn_user: Any, make_user: Any, api_for: Any) -> None:
    _, reader, report_id = _setup(case, jpn_user, make_user, api_for)
    items = reader.get("reports?status=all").json()["items"]
    assert ([item["id"] for item in items] == [report_id]) is case.visible
    if not case.visible:
        assert items == []


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "/versions", None),
        ("GET", "/comments", None),
        ("POST", "/comments", {"body": "hello"}),
        ("PATCH", "", {"title": "taken over"}),
        ("DELETE", "", None),
        ("GET", "/attachments/1", None),
    ],
)
def test_every_sub_resource_of_an_invisible_report_is_404(
    method: str, suffix: str, body: Any, jpn_user: Any, make_user: Any, api_for: Any
) -> None:
    excluded = MATRIX["other nation"]
    _, reader, report_id = _setup(excluded, jpn_user, make_user, api_for)
    response = reader.call(method, f"reports/{report_id}{suffix}", body)
    missing = reader.call(method, f"reports/{report_id + 10_000}{suffix}", body)
    assert response.status_code == 404
    assert response.content == missing.content == b'{"message": "not found"}'
    report = Report.objects.get(pk=report_id)
    assert (report.title, report.status) == ("Matrix item", "active")
    assert not report.comments.exists()


def test_upload_to_an_invisible_report_is_404(jpn_user: Any, make_user: Any, api_for: Any) -> None:
    _, reader, report_id = _setup(MATRIX["other nation"], jpn_user, make_user, api_for)
    response = reader.upload(f"reports/{report_id}/attachments", "a.txt", b"hello")
    assert response.status_code == 404
    assert response.json() == {"message": "not found"}
