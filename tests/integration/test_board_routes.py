"""The board plugin inside Airflow's real API app: authentication on every route, escaping, wiring.

Airflow reads its configuration at import time, so the API app is built in a child process with an
explicit environment (a migrated temp Airflow home, SimpleAuthManager with one user, the project's
plugins folder, a racewatch home seeded by ``seed_board``). The child drives the app with Starlette's
TestClient through Airflow's own middleware, auth manager and plugin loader, and prints what it saw;
the assertions live here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from racewatch.settings import PROJECT_ROOT

from tests.unit.test_board_render import XSS_TITLE, make_store

PLUGIN = PROJECT_ROOT / "plugins" / "racewatch_board.py"
PASSWORD = "route-test-secret"

PROBE = r"""
import json, sys
from fastapi.testclient import TestClient
from airflow.api_fastapi.app import create_app

password, hostile = sys.argv[1], sys.argv[2]
out = {}
with TestClient(create_app("core"), base_url="http://127.0.0.1:8080") as client:
    token = client.post("/auth/token", json={"username": "admin", "password": password}).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    cases = {
        "anonymous": ("/racewatch/", {"Accept": "application/json"}, None),
        "anonymous_browser": ("/racewatch/?q=kimi", {"Accept": "text/html,application/xhtml+xml"}, None),
        "bad_token": ("/racewatch/", {"Authorization": "Bearer not-a-jwt"}, None),
        "forged_cookie": ("/racewatch/", {}, token[:-4] + "AAAA"),
        "bearer": ("/racewatch/", bearer, None),
        "cookie": ("/racewatch/", {"Accept": "text/html"}, token),
        "search": ("/racewatch/", bearer, None),
        "plugins": ("/api/v2/plugins", bearer, None),
    }
    for name, (path, headers, cookie) in cases.items():
        client.cookies.clear()
        if cookie:
            client.cookies.set("_token", cookie)
        params = {"q": hostile} if name == "search" else None
        resp = client.get(path, headers=headers, params=params, follow_redirects=False)
        out[name] = {"status": resp.status_code, "headers": dict(resp.headers), "body": resp.text}
print("PROBE " + json.dumps(out))
"""

IMPORT_PROBE = r"""
import importlib.util, json, sys
import airflow.plugins_manager  # paid by every process that loads plugins; not what we measure
before = set(sys.modules)
spec = importlib.util.spec_from_file_location("racewatch_board", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
heavy = ["fastapi", "duckdb", "racewatch.board", "airflow.api_fastapi.core_api.security"]
print(json.dumps({"heavy": [m for m in heavy if m in sys.modules and m not in before]}))
"""


def _env(airflow_home: Path, racewatch_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "RACEWATCH_"))}
    env.update({
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGIN.parent),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(airflow_home / "passwords.json"),
        "AIRFLOW__API_AUTH__JWT_SECRET": "board-route-test-" + "x" * 64,
        "RACEWATCH_HOME": str(racewatch_home),
        "PYTHONPATH": str(PROJECT_ROOT),
    })
    return env


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    airflow_home = tmp_path_factory.mktemp("airflow")
    (airflow_home / "passwords.json").write_text(json.dumps({"admin": PASSWORD}))
    settings = make_store(tmp_path_factory.mktemp("racewatch"))
    env = _env(airflow_home, settings.home)
    subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env=env, check=True,
                   capture_output=True, timeout=300)
    return env


@pytest.fixture(scope="module")
def seen(env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", PROBE, PASSWORD, f"{XSS_TITLE} ' OR 1=1 --"], env=env,
                          capture_output=True, text=True, timeout=180)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("PROBE ")]
    assert proc.returncode == 0 and lines, f"probe failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return json.loads(lines[-1].removeprefix("PROBE "))


def test_anonymous_requests_are_refused(seen: dict[str, Any]) -> None:
    assert seen["anonymous"]["status"] == 401
    assert "Flagship releases" not in seen["anonymous"]["body"]


def test_anonymous_browser_is_sent_to_login(seen: dict[str, Any]) -> None:
    resp = seen["anonymous_browser"]
    assert resp["status"] == 303
    assert resp["headers"]["location"].startswith("/auth/login?next=")
    assert "racewatch%2F%3Fq%3Dkimi" in resp["headers"]["location"]


def test_invalid_tokens_are_refused(seen: dict[str, Any]) -> None:
    assert seen["bad_token"]["status"] in (401, 403)
    assert seen["forged_cookie"]["status"] in (401, 403)
    assert "Qwen3-Max" not in seen["bad_token"]["body"] + seen["forged_cookie"]["body"]


@pytest.mark.parametrize("how", ["bearer", "cookie"])
def test_authenticated_user_sees_the_board(seen: dict[str, Any], how: str) -> None:
    resp = seen[how]
    assert resp["status"] == 200
    assert resp["headers"]["content-type"].startswith("text/html")
    assert "script-src" not in resp["headers"]["content-security-policy"]
    assert "default-src 'none'" in resp["headers"]["content-security-policy"]
    assert resp["headers"]["cache-control"] == "no-store"
    for text in ("Qwen3-Max", "Kimi K2.5", "Gemini 3 Ultra", "Feed health", "Latest alerts"):
        assert text in resp["body"]


def test_feed_titles_and_search_input_render_inert(seen: dict[str, Any]) -> None:
    body = seen["search"]["body"]
    assert seen["search"]["status"] == 200
    assert "<script" not in body.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#x27; OR 1=1 --" in body  # the query, echoed escaped
    assert "No stories match." in body  # bound parameter: the quote and OR matched nothing


def test_plugin_registers_app_and_navigation_link(seen: dict[str, Any]) -> None:
    plugin = next(p for p in json.loads(seen["plugins"]["body"])["plugins"] if p["name"] == "racewatch_board")
    assert plugin["fastapi_apps"][0]["url_prefix"] == "/racewatch"
    view = plugin["external_views"][0]
    assert (view["href"], view["url_route"], view["destination"]) == ("racewatch/", "racewatch", "nav")


def test_plugin_module_imports_light(env: dict[str, str]) -> None:
    """Every Airflow process loads plugins: the module defers FastAPI, DuckDB and the board's code.

    Checked by what it imports, exactly; a timed assertion would fail on a busy CI machine.
    """
    out = subprocess.run([sys.executable, "-c", IMPORT_PROBE, str(PLUGIN)], env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == [], f"the plugin module imports {result['heavy']} at load time"
