"""The documentation stays true to the product (issue 13 point 17): every ``kizuna COMMAND [SUBCOMMAND]`` that docs/*.md
and the README show in code exists as a management command (and sub-command), and every REST endpoint they name
(``/api/v1/...``, or ``$B/...`` where the page sets ``B=.../api/v1...``) is a path of the OpenAPI document; and
docs/api.md says where users create their own tokens (the Account page), not that only an administrator can."""

from __future__ import annotations

import argparse
import re
from functools import cache
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

ROOT = Path(__file__).resolve().parents[2]
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]

# Code on a page: fenced blocks and inline `code`.
_FENCED = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
_INLINE = re.compile(r"`([^`\n]+)`")
# A command line: `kizuna` at the start of a line or after `$ `, `$(`, `|`, `&&` or `;`, then its words.
_COMMAND = re.compile(r"(?:^|\$ |\$\(|\|\s*|&&\s*|;\s*)kizuna((?: [a-z][a-z0-9_-]*)+)", re.M)
_API = re.compile(r"/api/v1(/[A-Za-z0-9_{}<>./-]*)")
_B_SET = re.compile(r"^B=\S*?/api/v1(/[A-Za-z0-9_/-]*)?\s*$", re.M)
_B_USE = re.compile(r"\$B(/[A-Za-z0-9_{}./$-]*)")


def _code(text: str) -> list[str]:
    blocks = _FENCED.findall(text)
    prose = _FENCED.sub("", text)
    return blocks + _INLINE.findall(prose)


def _documented_commands() -> list[tuple[str, str, list[str]]]:
    found = []
    for page in DOCS:
        for snippet in _code(page.read_text()):
            for words in _COMMAND.findall(snippet):
                found.append((page.name, f"kizuna{words}", words.split()))
    return found


def _documented_endpoints() -> list[tuple[str, str]]:
    found = []
    for page in DOCS:
        text = page.read_text()
        for snippet in _code(text):
            found += [(page.name, path) for path in _API.findall(snippet)]
        base = _B_SET.search(text)
        if base is not None:
            prefix = base.group(1) or ""
            for snippet in _code(text):
                found += [(page.name, prefix + path) for path in _B_USE.findall(snippet)]
    return found


@cache
def _parser(name: str) -> argparse.ArgumentParser:
    return load_command_class(get_commands()[name], name).create_parser("kizuna", name)


def _subcommands(name: str) -> set[str]:
    for action in _parser(name)._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


@cache
def _api_paths() -> list[re.Pattern[str]]:
    from kizuna.api import api

    paths = api.get_openapi_schema()["paths"]
    # /api/v1/reports/{report_id}/attachments -> one segment per {parameter}; a trailing slash is optional.
    return [re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(p.rstrip("/"))) + "/?$") for p in paths]


def test_the_pages_show_commands_and_endpoints() -> None:
    assert len(_documented_commands()) > 50 and len(_documented_endpoints()) > 30


@pytest.mark.parametrize(("page", "line", "words"), sorted(set(
    (page, line, tuple(words[:2])) for page, line, words in _documented_commands())))
def test_every_documented_command_exists(page: str, line: str, words: tuple[str, ...]) -> None:
    commands = get_commands()
    assert words[0] in commands, f"{page}: `{line}`: no command {words[0]!r}"
    subcommands = _subcommands(words[0])
    if subcommands and len(words) > 1:
        assert words[1] in subcommands, f"{page}: `{line}`: {words[0]} has no sub-command {words[1]!r}"


@pytest.mark.parametrize(("page", "endpoint"), sorted(set(_documented_endpoints())))
def test_every_documented_endpoint_is_in_the_openapi_document(page: str, endpoint: str) -> None:
    # $cursor, ${id} and <id> stand for one path segment.
    path = "/api/v1" + re.sub(r"\$\{?[A-Za-z_]+\}?|<[^>]+>", "X", endpoint).rstrip(".").split("?")[0]
    if path.rstrip("/") in ("/api/v1", "/api/v1/openapi.json"):
        return  # the API's root and its document
    if re.fullmatch(r"/api/v1/[a-z_]+/?", path) and not any(p.match(path.rstrip("/")) for p in _api_paths()):
        # A module's prefix (`/api/v1/stix/`, a page's `B=`): some endpoint lives under it.
        prefix = "^" + re.escape(path.rstrip("/") + "/")
        assert any(p.pattern.startswith(prefix) for p in _api_paths()), f"{page}: nothing under {path}"
        return
    assert any(p.match(path.rstrip("/")) for p in _api_paths()), f"{page}: {endpoint} is not an endpoint"


def test_api_docs_say_users_create_their_own_tokens_on_the_account_page() -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    auth = text.split("## Authentication", 1)[1].split("\n## ", 1)[0]
    assert "An administrator makes a token" not in auth
    assert "Account" in auth and "/account/" in auth
    from django.urls import reverse

    assert reverse("web:token-create").startswith("/account/")
