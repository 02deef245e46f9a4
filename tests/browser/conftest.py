"""The console in a real browser: Debian's chromium driven by Playwright (pip's playwright
package only; no browser is downloaded), against `aula-ws serve` started as a real process on
a scratch data directory and SQLite database.

Each test writes screenshots of the screens it visits to tests/browser/screenshots/ (git-ignored)
so a person can look at them."""

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine

from aula_ws.services import peers
from aula_ws.store.database import create_database_engine, upgrade
from aula_ws.store.sync import store_picture
from tests.builders import PlatformBuilder
from tests.e2e.server_process import ROOT, aula_env, running_server
from tests.mnet_peer import HandMadePeer

CHROMIUM = os.environ.get("AULA_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
PASSWORD = "correct horse battery"
MAX_BODY = 300_000  # the admin body limit of the test server: an upload over it is refused


@dataclass
class Console:
    base_url: str
    data_dir: Path
    engine: Engine
    server_log: list[str]

    def url(self, path: str) -> str:
        return f"{self.base_url}/admin{path}"


def _png(size: int, colour: str) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(output, "PNG")
    return output.getvalue()


def set_password(env: dict[str, str], login: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aula_ws", "user", "set-password", login],
        input=password + "\n",
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    data_dir = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{data_dir / 'aula.sqlite3'}"
    engine = create_database_engine(url)
    upgrade(engine)
    builder = PlatformBuilder(engine)
    group = builder.group("C1", units=["U1", "U2"], fullname="Comics")
    builder.user("ann", firstname="Ann", lastname="Lee")
    builder.user("bob", firstname="Bob", lastname="Ray")
    builder.member("ann", group)
    builder.member("bob", group)
    builder.user("admin", site_admin=True)
    peers.add_peer(
        engine, "http://moodle.test", HandMadePeer("http://moodle.test").certificate_pem, datetime(2026, 1, 1)
    )
    with engine.begin() as connection:  # ann's avatar, as the sync stores it
        store_picture(connection, builder.user_ids["ann"], _png(100, "navy"), _png(35, "navy"), datetime(2026, 1, 1))
    builder.user("target", site_admin=True)  # the account the attempt-limit test locks
    env = aula_env(data_dir, url, AULA_ADMIN_MAX_BODY=str(MAX_BODY), AULA_WWWROOT="http://127.0.0.1")
    for login in ("admin", "target"):
        done = set_password(env, login, PASSWORD)
        assert done.returncode == 0, done.stderr
    with running_server(env) as server:
        yield Console(server.base_url, data_dir, engine, server.output)
    engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        reason = f"no chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)"
        if os.environ.get("AULA_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    """A fresh browser context (no cookies) in English unless the test names a locale."""
    locale = getattr(request, "param", "en-GB")
    context = browser.new_context(locale=locale, accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    opened = context.new_page()
    yield opened
    context.close()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page, console: Console, login: str = "admin", password: str = PASSWORD) -> None:
    page.goto(console.url("/"))
    page.fill("#username", login)
    page.fill("#password", password)
    page.click("button[type=submit]")
