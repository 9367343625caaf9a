"""Helpers for the web tests: an HTML parser that finds inline styles and scripts, and TOTP codes."""

from __future__ import annotations

import time
from html.parser import HTMLParser
from typing import Any


class PageAudit(HTMLParser):
    """Collects what the CSP forbids (style attributes, <style>, inline <script>, on* handlers) and the banners."""

    def __init__(self) -> None:
        super().__init__()
        self.violations: list[str] = []
        self.banners: list[dict[str, str]] = []
        self.html_lang: str | None = None
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.html_lang = attributes.get("lang")
        if "style" in attributes:
            self.violations.append(f"style attribute on <{tag}>")
        if tag == "style":
            self.violations.append("<style> element")
        if tag == "script":
            if not attributes.get("src"):
                self.violations.append("inline <script>")
            else:
                self.scripts.append(attributes["src"])
        for name in attributes:
            if name.startswith("on"):
                self.violations.append(f"{name} handler on <{tag}>")
        for name, value in attributes.items():
            if value.strip().lower().startswith("javascript:"):
                self.violations.append(f"javascript: URL in {name} on <{tag}>")
        if "banner" in attributes.get("class", "").split():
            self.banners.append(attributes)


def audit_page(html: str) -> PageAudit:
    parser = PageAudit()
    parser.feed(html)
    parser.close()
    return parser


def totp_code(device: Any, offset_steps: int = 0) -> str:
    """The code an authenticator app would show for ``device`` now (or ``offset_steps`` steps later)."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return str(totp.token()).zfill(device.digits)
