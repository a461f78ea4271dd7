"""Airflow plugin: the racewatch board, an AI-race page inside the Airflow UI.

Wiring only: the page (queries and HTML) lives in ``racewatch.board``, which never imports Airflow.
The API server mounts a small FastAPI app at ``/racewatch/`` and the UI lists it in the navigation as
"AI race" (an external view rendered inside the UI at ``/plugin/racewatch``).

Security: Airflow does not protect plugin endpoints by itself. The app declares the API server's own
``requires_access_view(AccessView.WEBSITE)`` as an app-wide dependency, so every route, including any
added later, needs a valid Airflow JWT (the UI's ``_token`` cookie, or ``Authorization: Bearer``) of a
user allowed to see the Airflow UI: no token is 401, a bad or expired token 401/403, a user without
access 403. A browser without a session (a GET asking for HTML) is sent to the login page instead.

Import weight: Airflow imports plugin modules in every process that loads plugins (each task runner
does, for macros), yet only the API server serves this app. So this module imports nothing but
``AirflowPlugin``; the FastAPI app is built on its first request, inside the API server, where FastAPI
and Airflow's security module are already loaded.
"""

# No ``from __future__ import annotations`` here: FastAPI resolves route annotations at runtime, and the
# names they use are imported inside create_app().
import base64
from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/racewatch"

# A small "race flag" for the navigation, inline so that the UI needs no extra (authenticated) request.
_ICON = base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#888" stroke-width="2" '
    b'stroke-linecap="round"><path d="M5 21V4"/><path d="M5 4h13l-3 4 3 4H5"/></svg>'
).decode()


def create_app() -> Any:
    """The board's FastAPI app; every route requires an authenticated Airflow user (see module doc)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
    from airflow.api_fastapi.core_api.security import requires_access_view
    from fastapi import Depends, FastAPI, Request
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.responses import HTMLResponse, RedirectResponse, Response
    from racewatch.board import RESPONSE_HEADERS, read_board, render_page
    from racewatch.settings import Settings
    from starlette.exceptions import HTTPException

    app = FastAPI(
        title="racewatch board",
        dependencies=[Depends(requires_access_view(AccessView.WEBSITE))],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.exception_handler(HTTPException)
    async def login_redirect(request: Request, exc: HTTPException) -> Response:
        """Send a browser without a session to Airflow's login page; API clients keep the plain 401."""
        wants_html = "text/html" in request.headers.get("accept", "")
        if exc.status_code == 401 and request.method == "GET" and wants_html:
            return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)), status_code=303)
        return await http_exception_handler(request, exc)

    @app.get("/", response_class=HTMLResponse)
    def board(q: str = "") -> HTMLResponse:
        # A plain ``def``: FastAPI runs it in a worker thread, so DuckDB I/O never blocks the event loop.
        page = render_page(read_board(Settings.from_env(), query=q))
        return HTMLResponse(page, headers=RESPONSE_HEADERS)

    return app


class _LazyBoardApp:
    """An ASGI app that builds :func:`create_app` on its first request (see the module docstring)."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self._app is None:
            self._app = create_app()
        await self._app(scope, receive, send)


class RacewatchBoardPlugin(AirflowPlugin):
    """Registers the board app with the API server and its link in the UI navigation."""

    name = "racewatch_board"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": _LazyBoardApp(), "url_prefix": URL_PREFIX, "name": "racewatch board"},
    ]
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": "AI race",
            "href": URL_PREFIX.lstrip("/") + "/",  # relative: keeps working under a base_url sub-path
            "url_route": "racewatch",
            "destination": "nav",
            "nav_top_level": True,
            "icon": f"data:image/svg+xml;base64,{_ICON}",
        }
    ]
