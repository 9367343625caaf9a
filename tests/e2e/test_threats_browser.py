"""In a real browser against a real node: a Japanese analyst imports a STIX bundle under a Japan-only default label,
watches the import finish, finds the indicator by value, sees who shared it and who created it, and records a
sighting; the maritime map renders offline;
a Korean analyst finds nothing by the same value and gets 404 at the object's address."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from tests.e2e.conftest import screenshot
from tests.e2e.test_reports_browser import _login

VALUE = "203.0.113.77"


def _bundle(tmp_path: Path) -> tuple[Path, str]:
    stamp = "2026-11-20T09:00:00.000Z"
    indicator = f"indicator--{uuid.uuid4()}"
    malware = f"malware--{uuid.uuid4()}"
    author = f"identity--{uuid.uuid4()}"
    objects = [
        {"type": "identity", "spec_version": "2.1", "id": author, "created": stamp, "modified": stamp,
         "name": "The MITRE Corporation - DHS Support Team", "identity_class": "organization"},
        {"type": "indicator", "spec_version": "2.1", "id": indicator, "created": stamp, "modified": stamp,
         "created_by_ref": author, "name": "C2 server of a phishing campaign", "pattern": f"[ipv4-addr:value = '{VALUE}']",
         "pattern_type": "stix", "valid_from": stamp, "indicator_types": ["malicious-activity"]},
        {"type": "malware", "spec_version": "2.1", "id": malware, "created": stamp, "modified": stamp,
         "name": "KIZUNA-TEST loader", "is_family": True, "malware_types": ["remote-access-trojan"]},
        {"type": "relationship", "spec_version": "2.1", "id": f"relationship--{uuid.uuid4()}", "created": stamp,
         "modified": stamp, "relationship_type": "indicates", "source_ref": indicator, "target_ref": malware},
    ]
    path = tmp_path / "campaign.json"
    path.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}))
    return path, indicator


def test_analyst_imports_bundle_and_other_nation_cannot_find_it(browser: Any, node_url: str, tmp_path: Path) -> None:
    path, indicator = _bundle(tmp_path)
    japan = _login(browser, node_url, "aiko")
    japan.goto(f"{node_url}/threats/import/")
    japan.set_input_files("input[name=bundle]", str(path))
    japan.check("input[name=label_preset][value=own_nation]")
    japan.check("input[name=label_communities][value=CYBER]")
    japan.click("button[type=submit]:has-text('Start import')")
    # The job page polls its progress; it ends with the summary.
    japan.wait_for_selector("[data-testid=import-progress][data-status=done]", timeout=30000)
    assert japan.inner_text("[data-testid=accepted]") == "4"
    screenshot(japan, "threats-import-done")

    japan.goto(f"{node_url}/threats/cyber/?q={VALUE}")
    japan.click("text=C2 server of a phishing campaign")
    japan.wait_for_selector("[data-testid=stix-id]")
    assert japan.inner_text("[data-testid=stix-id]") == indicator
    assert "REL TO JPN" in japan.inner_text("[data-testid=label-chip]")
    # Who shared it here (the importer's organisation) and who created it (created_by_ref), both shown.
    assert japan.inner_text("[data-testid=originator]").strip()
    assert "The MITRE Corporation - DHS Support Team" in japan.inner_text("[data-testid=created-by]")
    assert "KIZUNA-TEST loader" in japan.inner_text("[data-testid=relationships]")
    japan.click("[data-testid=seen-it-too]")
    japan.wait_for_selector("[data-testid=already-sighted]")
    assert "Japan" in japan.inner_text("[data-testid=sightings-by-nation]")
    detail_url = japan.url
    screenshot(japan, "threats-object-detail")

    japan.goto(f"{node_url}/threats/maritime/")
    assert japan.locator("svg").count() >= 1
    screenshot(japan, "threats-maritime-map")
    assert japan.console_errors == []

    korea = _login(browser, node_url, "jisoo")
    korea.goto(f"{node_url}/threats/cyber/?q={VALUE}")
    assert "C2 server of a phishing campaign" not in korea.inner_text("main")
    response = korea.goto(detail_url)
    assert response is not None and response.status == 404
    assert VALUE not in korea.content()
