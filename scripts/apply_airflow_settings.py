"""Apply an Astro-format ``airflow_settings.yaml`` (connections, pools, variables) to local Airflow.

Runs in the project's virtualenv after ``airflow db migrate``. Existing objects are updated, so it is
safe to run at every start; it uses Airflow's own models rather than one CLI call per object
(each of which would pay Airflow's import time again).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml


def main(path: str) -> int:
    data = (yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}).get("airflow") or {}
    from airflow.models import Connection, Pool, Variable
    from airflow.utils.session import create_session

    with create_session() as session:
        for pool in data.get("pools") or []:
            Pool.create_or_update_pool(
                name=pool["pool_name"],
                slots=int(pool["pool_slot"]),
                description=pool.get("pool_description", ""),
                include_deferred=False,
                session=session,
            )
        for var in data.get("variables") or []:
            Variable.set(var["variable_name"], var["variable_value"], session=session)
        for conn in data.get("connections") or []:
            extra = conn.get("conn_extra")
            new = Connection(
                conn_id=conn["conn_id"],
                conn_type=conn.get("conn_type"),
                host=conn.get("conn_host"),
                login=conn.get("conn_login"),
                password=conn.get("conn_password"),
                port=conn.get("conn_port"),
                schema=conn.get("conn_schema"),
                extra=json.dumps(extra) if isinstance(extra, dict) else extra,
            )
            session.query(Connection).filter(Connection.conn_id == new.conn_id).delete()
            session.add(new)
    counts = {k: len(data.get(k) or []) for k in ("pools", "variables", "connections")}
    print(f"applied {path}: {counts['pools']} pool(s), {counts['variables']} variable(s), "
          f"{counts['connections']} connection(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "airflow_settings.yaml"))
