"""The board in a real browser: Airflow's API server with the plugin, a UI login, headless Chromium.

Starts ``airflow api-server`` on a free loopback port with the project's plugins folder and a racewatch
home holding the sample releases (published as the analyst snapshot, as the pipeline does), logs in
through the Airflow login form, opens the board from the UI navigation and checks that the timeline
shows the releases and that a hostile feed title stays text. Playwright drives Debian's Chromium
(``scripts/install_browser.sh``); no browser is downloaded. Screenshots go to the test's tmp folder, and
the UI view is also copied to ``docs/board.png`` for the README. Every process started here shares one
process group and is killed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from racewatch.settings import PROJECT_ROOT
from racewatch.store import db
from racewatch.store.snapshot import publish_snapshot

from tests.e2e.conftest import airflow_env
from tests.support.processes import stop_group
from tests.unit.test_board_render import XSS_TITLE, make_store

CHROMIUM = Path(os.environ.get("RACEWATCH_CHROMIUM", "/usr/bin/chromium"))
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is missing: run `bash scripts/install_browser.sh` (Debian's chromium)"),
]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "board-e2e-secret"
DOCS_SCREENSHOT = PROJECT_ROOT / "docs" / "board.png"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def api_server(airflow_home: Path, tmp_path: Path) -> Iterator[str]:
    """A running ``airflow api-server`` serving the board over sample data; yields its base URL."""
    settings = make_store(tmp_path / "racewatch", now=db.utcnow())
    with db.connect(settings.db_path, migrate=False) as con:
        publish_snapshot(con, settings.db_path, settings.snapshot_path)
    (airflow_home / "passwords.json").write_text(json.dumps({"admin": PASSWORD}))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = airflow_env(
        airflow_home,
        AIRFLOW__CORE__PLUGINS_FOLDER=str(PROJECT_ROOT / "plugins"),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(airflow_home / "passwords.json"),
        AIRFLOW__API__BASE_URL=base,
        AIRFLOW__API_AUTH__JWT_SECRET="board-e2e-" + "x" * 64,
        RACEWATCH_HOME=str(settings.home),
    )
    log_path = tmp_path / "api-server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "airflow"), "api-server", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path,
        )
        try:
            deadline = time.monotonic() + 90
            while True:
                assert proc.poll() is None, log_path.read_text()[-4000:]
                try:
                    if httpx.get(f"{base}/api/v2/monitor/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"api-server did not come up; log tail:\n{log_path.read_text()[-4000:]}")
                time.sleep(0.5)
            yield base
        finally:
            children = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
            stop_group(proc, grace_s=20)
            assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


def test_board_in_the_airflow_ui(api_server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = api_server
    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

            # Unauthenticated, the board sends the browser to Airflow's login form, which comes back to it.
            page.goto(f"{base}/racewatch/")
            page.locator("input[name=username]").fill("admin")
            page.locator("input[name=password]").fill(PASSWORD)
            page.locator("button[type=submit]").click()
            page.wait_for_url(f"{base}/racewatch/**")
            timeline = page.locator("svg.timeline")
            for model in ("Qwen3-Max", "Kimi K2.5", "Gemini 3 Ultra"):
                expect(timeline.get_by_text(model, exact=True)).to_be_visible()
            page.screenshot(path=str(tmp_path / "board_full.png"), full_page=True)

            # The same board from the Airflow UI's navigation, rendered inside the UI.
            page.goto(f"{base}/")
            page.get_by_role("link", name="AI race").first.click()
            page.wait_for_url(f"{base}/plugin/racewatch")
            frame = page.frame_locator("iframe").first
            embedded = frame.locator("svg.timeline")
            for model in ("Qwen3-Max", "Kimi K2.5", "Gemini 3 Ultra"):
                expect(embedded.get_by_text(model, exact=True)).to_be_visible()
            expect(frame.locator("#feeds")).to_contain_text("failing (3 in a row)")

            # A search through the form: parameterized and escaped, results in the page.
            frame.locator("input[name=q]").fill(XSS_TITLE)
            frame.locator("button[type=submit]").click()
            expect(frame.locator("#search")).to_contain_text("1 found")
            expect(frame.locator("#search .hit-title")).to_have_text(XSS_TITLE)  # shown as text, never run
            frame.get_by_role("link", name="clear").click()
            expect(frame.locator("#search")).to_have_count(0)
            page.wait_for_timeout(300)  # let the iframe finish painting before the screenshot
            shot = tmp_path / "board_in_airflow_ui.png"
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert dialogs == [], f"feed text executed as script: {dialogs}"
    assert shot.stat().st_size > 10_000
    if os.environ.get("RACEWATCH_UPDATE_SCREENSHOTS") == "1":  # refresh the README's picture on request only
        shutil.copyfile(shot, DOCS_SCREENSHOT)
