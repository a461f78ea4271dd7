"""A loopback HTTP feed server for integration and end-to-end tests.

Routes map a path to a :class:`Route` (body, headers, status, fault). It honours conditional GET
(ETag / If-None-Match, Last-Modified / If-Modified-Since), records every request, and can misbehave
on purpose: slow drip, stall, huge body, gzip bomb, redirects, 429 with Retry-After, and so on.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _QuietServer(ThreadingHTTPServer):
    """Clients that give up mid-response (deadline tests) are expected; don't print their tracebacks."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: bool = True
    last_modified: str | None = "Sat, 28 Nov 2026 10:00:00 GMT"
    fault: str | None = None  # drip | stall | gzip | gzip_bomb | huge
    latency_s: float = 0.0


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    at: float


class FeedServer:
    """``with FeedServer() as srv: srv.add('/a.xml', Route(body)); srv.url('/a.xml')``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                return

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(Request(self.path, dict(self.headers.items()), time.time()))
                    route = server.routes.get(self.path)
                if route is None:
                    self._send(404, b"not found", {"Content-Type": "text/plain"})
                    return
                if route.latency_s:
                    time.sleep(route.latency_s)
                server.serve(self, route)

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = _QuietServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, route: Route) -> str:
        with self._lock:
            self.routes[path] = route
        return self.url(path)

    def add_file(self, path: str, file: Path, **kw: Any) -> str:
        return self.add(path, Route(body=file.read_bytes(), **kw))

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- behaviour -----------------------------------------------------------------------------
    def serve(self, handler: BaseHTTPRequestHandler, route: Route) -> None:
        headers = {"Content-Type": route.content_type, **route.headers}
        etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"' if route.etag else None
        if etag:
            headers["ETag"] = etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        if route.status == 200 and (
            (etag and handler.headers.get("If-None-Match") == etag)
            or (not etag and route.last_modified and handler.headers.get("If-Modified-Since") == route.last_modified)
        ):
            handler.send_response(304)
            for k in ("ETag", "Last-Modified"):
                if k in headers:
                    handler.send_header(k, headers[k])
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        body = route.body
        if route.fault == "gzip":
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        elif route.fault == "gzip_bomb":
            body = gzip.compress(b"\0" * (64 * 1024 * 1024))
            headers["Content-Encoding"] = "gzip"
        elif route.fault == "huge":
            body = b"<rss>" + b" " * (12 * 1024 * 1024)
        handler.send_response(route.status)
        for k, v in headers.items():
            handler.send_header(k, v)
        if route.fault in ("drip", "stall"):
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            try:
                if route.fault == "stall":
                    handler.wfile.write(body[:10])
                    handler.wfile.flush()
                    time.sleep(30)
                else:
                    for i in range(len(body)):
                        handler.wfile.write(body[i : i + 1])
                        handler.wfile.flush()
                        time.sleep(0.2)
            except OSError:
                pass
            return
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        with contextlib.suppress(OSError):
            handler.wfile.write(body)
