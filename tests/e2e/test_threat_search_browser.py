"""In a real browser against a real node (issue 13, point 2): a Japanese analyst imports the OASIS APT1 example under a
Japan-only label, then types into the cyber page's search box as analysts do — a subdomain, an address inside an
imported network, part of a name, a hash — and each result says why it matched; a Korean analyst's same searches
find nothing. The screenshot of the network search is written to test-artifacts/threat-search-network.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import screenshot
from tests.e2e.test_reports_browser import _login

APT1 = Path(__file__).resolve().parents[3] / "shared" / "data" / "stix21-examples" / "apt1.json"


def _search(page: Any, node_url: str, text: str) -> str:
    """Type ``text`` into the search box of the cyber page and press Enter; the text of the results (or of the
    "no objects" line)."""
    page.goto(f"{node_url}/threats/cyber/")
    page.fill("main input[name=q]", text)  # main: the header holds the node-wide search box too
    page.press("main input[name=q]", "Enter")
    page.wait_for_selector("[data-testid=search-note]")
    return str(page.inner_text("main"))


def test_analyst_finds_apt1_objects_by_subdomain_address_name_and_hash(browser: Any, node_url: str) -> None:
    japan = _login(browser, node_url, "aiko")
    japan.goto(f"{node_url}/threats/import/")
    japan.set_input_files("input[name=bundle]", str(APT1))
    japan.check("input[name=label_preset][value=own_nation]")
    japan.check("input[name=label_communities][value=CYBER]")
    japan.click("button[type=submit]:has-text('Start import')")
    japan.wait_for_selector("[data-testid=import-progress][data-status=done]", timeout=60000)

    japan.goto(f"{node_url}/threats/cyber/")
    assert "name, description, value, domain, address or network, hash" in japan.inner_text("main form[role=search]")

    found = _search(japan, node_url, "www.hugesoft.org")
    assert "FQDN hugesoft.org" in found and "in domain hugesoft.org" in found

    found = _search(japan, node_url, "58.246.1.2")
    assert "HTRAN Hop Point Accessor" in found and "in network 58.246.0.0/15" in found
    assert japan.locator("[data-testid=object-list] tbody tr").count() == 1
    shot = screenshot(japan, "threat-search-network")
    assert shot.stat().st_size > 10_000

    found = _search(japan, node_url, "APT1")
    assert "APT1" in japan.inner_text("[data-testid=object-list]")
    assert "name contains “APT1”" in found

    found = _search(japan, node_url, "001DD76872D80801692FF942308C64E6")  # an MD5 typed in capitals
    assert "Appendix E MD5 hash" in found and "carries the value 001dd76872d80801692ff942308c64e6" in found
    assert japan.console_errors == []

    korea = _login(browser, node_url, "jisoo")
    for text in ("hugesoft", "58.246.1.2", "APT1"):
        assert "No objects match." in _search(korea, node_url, text)
