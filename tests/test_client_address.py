"""The address recorded for audit and login throttling: the socket peer, or behind the node's own proxy the address
that proxy appended to X-Forwarded-For (never one the client wrote itself)."""

from __future__ import annotations

from typing import Any

from django.test import RequestFactory

from kizuna.core.audit import client_address


def test_direct_request_uses_socket_address_and_ignores_forwarded_header(settings: Any) -> None:
    settings.KIZUNA_BEHIND_PROXY = False
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert client_address(request) == "10.1.2.3"


def test_behind_proxy_uses_the_address_the_proxy_appended(settings: Any) -> None:
    settings.KIZUNA_BEHIND_PROXY = True
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.10")
    assert client_address(request) == "192.0.2.10"
