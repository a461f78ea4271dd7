"""Just enough of Airflow's REST API v2 for the end-to-end tests and the latency benchmark."""

from __future__ import annotations

from typing import Any

import httpx


class AirflowApi:
    """A JWT from ``/auth/token`` (SimpleAuthManager's admin), fetched on first use, then GET and POST."""

    def __init__(self, base: str, password: str, *, timeout_s: float = 10.0) -> None:
        self.base = base
        self.password = password
        self.timeout_s = timeout_s
        self.token: str | None = None

    def _headers(self) -> dict[str, str]:
        if self.token is None:
            resp = httpx.post(f"{self.base}/auth/token", json={"username": "admin", "password": self.password},
                              timeout=10)
            resp.raise_for_status()
            self.token = resp.json()["access_token"]
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **params: Any) -> Any:
        resp = httpx.get(f"{self.base}{path}", params=params, headers=self._headers(), timeout=self.timeout_s)
        resp.raise_for_status()
        return resp.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        resp = httpx.post(f"{self.base}{path}", json=body, headers=self._headers(), timeout=self.timeout_s)
        resp.raise_for_status()
        return resp.json()

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns")["dag_runs"]
