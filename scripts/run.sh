#!/usr/bin/env bash
# `make run`: migrate the Airflow metadata DB, apply airflow_settings.yaml, print where to look,
# then run Airflow (api-server, scheduler, dag-processor, triggerer) in the foreground.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/airflow_env.sh
source scripts/airflow_env.sh
export PATH="$root/.venv/bin:$PATH"
mkdir -p "$AIRFLOW_HOME" "$RACEWATCH_HOME"

pwfile="$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
if [ ! -s "$pwfile" ]; then
  python - "$pwfile" <<'PY'
import json, secrets, sys
json.dump({"admin": secrets.token_urlsafe(12)}, open(sys.argv[1], "w"))
PY
fi

echo "racewatch: preparing Airflow in $AIRFLOW_HOME (SQLite, LocalExecutor)..."
airflow db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1 || { tail -n 30 "$AIRFLOW_HOME/db-migrate.log"; exit 1; }
python scripts/apply_airflow_settings.py airflow_settings.yaml 2>/dev/null | tail -n 1

password="$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["admin"])' "$pwfile")"
slack="dry-run (no slack_api_default connection; see README)"
[ -n "${AIRFLOW_CONN_SLACK_API_DEFAULT:-}" ] && slack="connection slack_api_default from the environment"
cat <<MSG

  racewatch is starting
  ---------------------
  Airflow UI   ${AIRFLOW__API__BASE_URL}   login: admin / ${password}
  Sources      ${RACEWATCH_SOURCES}
  DuckDB file  ${RACEWATCH_DB:-$RACEWATCH_HOME/racewatch.duckdb}
  Slack        ${slack}
  Ad hoc SQL   .venv/bin/racewatch sql "select * from v_flagship_releases"
  Stop         Ctrl-C

MSG
exec airflow standalone
