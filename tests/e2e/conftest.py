"""Browser tests: a real node (``kizuna serve``, gunicorn, its own SQLite file) started as a separate process, driven by
Playwright with Debian's Chromium at /usr/bin/chromium (never a browser download). Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "e2e-password-4774"

# Users the tests log in as: (username, nation, organisation code, communities)
USERS = [
    ("aiko", "JPN", "JPN-MOD", ["CYBER", "MARITIME"]),
    ("jisoo", "KOR", "KOR-MND", ["CYBER", "MARITIME"]),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fresh_postgres_database(name: str) -> str:
    """On the PostgreSQL run a node under test gets an empty database of its own (``name``) on the same server."""
    import psycopg

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    server, _, _ = base.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def _drop_postgres_database(url: str) -> None:
    import psycopg

    server, _, name = url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _kizuna(env: dict[str, str], *args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "kizuna", *args], env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"kizuna {' '.join(args)} failed: {result.stderr.strip()[-500:]}")


# A user of a node under test: (username, nation, organisation code, role, communities)
NodeUser = tuple[str, str, str, str, list[str]]


@contextmanager
def running_node(data_dir: Path, users: list[NodeUser], *, database_name: str, workers: int = 2, demo: bool = False,
                 **settings: str) -> Iterator[str]:
    """A real node (``kizuna serve --worker``) with its own data folder and database (a SQLite file, or on the PostgreSQL run
    an empty database ``database_name``), migrated and with ``users`` (or, with ``demo``, the demo scenario of
    ``kizuna demo``: its people and content); yields its URL and stops it afterwards."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (make chromium)")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    database = _fresh_postgres_database(database_name) if os.environ.get("KIZUNA_TEST_DB") == "postgres" else None
    if database is not None:
        env["DATABASE_URL"] = database
    env.update(
        KIZUNA_DATA_DIR=str(data_dir),
        KIZUNA_COOKIE_SECURE="0",
        KIZUNA_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="kizuna.settings",
        **settings,
    )
    _kizuna(env, "migrate", "--noinput")
    for username, nation, org, role, communities in users:
        args = ["user", "add", username, "--nation", nation, "--org", org, "--clearance", "NATO:RESTRICTED",
                "--role", role, "--password", PASSWORD]
        for community in communities:
            args += ["--community", community]
        _kizuna(env, *args)
    if demo:
        _kizuna(env, "demo", "--quiet")
    log = (data_dir / "server.log").open("w")
    server = subprocess.Popen(
        # With its worker, as `make run` serves it: imports and "sync now" are jobs of the queue (issue 12).
        [sys.executable, "-m", "kizuna", "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError(f"server exited: {(data_dir / 'server.log').read_text()[-1000:]}") from None
                time.sleep(0.2)
        else:
            raise RuntimeError("server did not start within 30 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        if database is not None:
            _drop_postgres_database(database)


@pytest.fixture(scope="session")
def node_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    users = [(username, nation, org, "contributor", communities) for username, nation, org, communities in USERS]
    with running_node(tmp_path_factory.mktemp("node"), users, database_name=f"kizuna_e2e_{os.getpid()}") as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A node of its own loaded with the demo scenario, shared by the browser tests that need real-looking data."""
    with running_node(tmp_path_factory.mktemp("demo-node"), [], database_name=f"kizuna_e2e_demo_{os.getpid()}",
                      demo=True) as url:
        yield url


def sign_in(browser: Any, url: str, username: str, password: str, language: str = "en") -> Any:
    """A page signed in as ``username`` in ``language``, chosen as a person does: with the switcher on the login page.
    A saved language otherwise wins at sign-in (kizuna/web/language.py), and a test before this one may have saved
    another for the same demo user."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.goto(f"{url}/login/")
    # Submitted even when the page is in that language already: only a choice made here outranks the saved one.
    with page.expect_navigation():
        page.eval_on_selector("#language-select", "(select, code) => { select.value = code; select.form.submit(); }",
                              language)
    assert page.get_attribute("html", "lang") == language
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login/" not in u)
    return page


def screenshot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
