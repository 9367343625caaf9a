"""In a real browser against a real node: an administrator adds a peer on /federation/peers/new/ (its token is shown
once), tests the connection to it (nothing listens at its address: a readable one-line error), starts a sync that
fails the same way in the background, and sees the failure in the peer's status on /federation/. A screenshot of
that page goes to /tmp/kizuna-federation.png. A contributor of the same node gets 404 there."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.e2e.conftest import running_node, screenshot
from tests.e2e.test_reports_browser import _login

SCREENSHOT = "/tmp/kizuna-federation.png"


@pytest.fixture(scope="module")
def admin_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A node of its own with an administrator and a contributor (the shared node has no administrator)."""
    users = [("nadia", "BEL", "NATO-IS", "admin", ["CYBER"]), ("aiko", "JPN", "JPN-MOD", "contributor", ["CYBER"])]
    with running_node(tmp_path_factory.mktemp("federation-node"), users, workers=1,
                      database_name=f"kizuna_e2e_fed_{os.getpid()}", KIZUNA_NODE_NAME="NATO Liaison Office Tokyo") as url:
        yield url


def _public_key() -> str:
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def test_admin_adds_a_peer_and_sees_its_status(browser: Any, admin_node: str) -> None:
    with socket.socket() as sock:  # a port nothing listens on once the block ends
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    page = _login(browser, admin_node, "nadia")
    page.click("[data-testid=nav-federation]")
    page.wait_for_url(f"{admin_node}/federation/")
    assert page.inner_text("[data-testid=node-id]").startswith("identity--")
    page.click("[data-testid=add-peer]")
    page.fill("input[name=name]", "jpn-node")
    page.fill("input[name=node_id]", f"identity--{uuid.uuid4()}")
    page.fill("input[name=title]", "Japan Joint Staff node")
    page.fill("input[name=nations]", "JPN")
    page.select_option("select[name=clearance_NATO]", "RESTRICTED")
    page.check("input[name=communities][value=CYBER]")
    page.check("input[name=communities][value=MARITIME]")
    page.fill("input[name=public_key]", _public_key())
    page.fill("input[name=taxii_url]", f"http://127.0.0.1:{closed}/taxii2/kizuna/")
    page.fill("input[name=credential]", "token-from-japan")
    page.fill("input[name=interval]", "60")
    screenshot(page, "federation-peer-form")
    page.click("button[type=submit]:has-text('Add peer')")
    page.wait_for_selector("[data-testid=new-token]")
    token = page.inner_text("#new-token-secret")
    assert token and "REL TO" not in token

    page.click("[data-testid=test-jpn-node]")
    page.wait_for_selector(".message--error")
    assert "Test of jpn-node failed: cannot reach the peer" in page.inner_text(".messages")
    page.click("[data-testid=sync-jpn-node]")
    page.wait_for_selector(".message--success")
    # The background sync fails at once (nothing listens); the status shows it after a reload.
    for _attempt in range(50):
        page.goto(f"{admin_node}/federation/")
        if page.locator("[data-testid=last-error]").count():
            break
        time.sleep(0.2)
    assert "cannot reach the peer" in page.inner_text("[data-testid=last-error]")
    assert token not in page.content()
    assert page.inner_text("[data-testid=banner-top]") == page.inner_text("[data-testid=banner-bottom]")
    page.set_viewport_size({"width": 1360, "height": 900})
    path = screenshot(page, "federation-peers")
    shutil.copyfile(path, SCREENSHOT)
    page.click("text=jpn-node")
    page.wait_for_selector("[data-testid=entitlements]")
    assert "JPN" in page.inner_text("[data-testid=entitlements]")
    screenshot(page, "federation-peer-detail")
    assert page.console_errors == []  # type: ignore[attr-defined]

    other = _login(browser, admin_node, "aiko")
    assert other.locator("[data-testid=nav-federation]").count() == 0
    response = other.goto(f"{admin_node}/federation/")
    assert response is not None and response.status == 404


def test_admin_joins_a_node_from_its_card_and_tests_the_connection_before_saving(browser: Any, admin_node: str,
                                                                                 tmp_path: Any) -> None:
    """Issue 13, point 15, as an administrator does it: download a node card, start a new peer from the card (the
    form fills itself in), give a credential and test the connection against the real TAXII server before saving.
    The node is its own counterpart here (its card, and the administrator's own API token as the credential)."""
    page = _login(browser, admin_node, "nadia")
    page.goto(f"{admin_node}/account/")
    page.fill("input[name=name]", "federation test")
    page.click("button:has-text('Create token')")
    page.wait_for_selector("[data-testid=new-token]")
    credential = page.inner_text("#new-token-secret").strip()

    page.goto(f"{admin_node}/federation/")
    with page.expect_download() as download:
        page.click("[data-testid=download-card]")
    card_path = tmp_path / download.value.suggested_filename
    download.value.save_as(str(card_path))
    assert card_path.name.endswith(".kizuna-node.json")
    card = json.loads(card_path.read_text())
    assert card["taxii_url"] == f"{admin_node}/taxii2/kizuna/" and card["id"].startswith("identity--")

    page.click("[data-testid=add-peer]")
    page.set_input_files("input[name=card_file]", str(card_path))
    page.click("button:has-text('Fill in from the card')")
    page.wait_for_selector(".message--info")
    assert page.input_value("input[name=node_id]") == card["id"]
    assert page.input_value("input[name=taxii_url]") == card["taxii_url"]
    assert page.input_value("input[name=public_key]") == card["keys"][0]["public_key"]
    page.fill("input[name=credential]", credential)
    page.click("[data-testid=test-connection]")
    page.wait_for_selector(".message--success")
    assert "collection(s) readable" in page.inner_text(".messages")
    assert page.input_value("input[name=credential]") == credential  # kept for "Add peer"
    screenshot(page, "federation-peer-from-card")
    assert page.console_errors == []  # type: ignore[attr-defined]
