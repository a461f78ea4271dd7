#!/usr/bin/env bash
# `make run PROFILE=scale`: the same DAGs on a PostgreSQL metadata database and the CeleryExecutor with a
# Redis broker and (by default) two Celery workers. Creates the metadata database if missing, migrates it,
# applies airflow_settings.yaml, then runs api-server, scheduler, dag-processor, triggerer and the workers
# as children of this script (one process group); Ctrl-C or the end of any component stops them all.
#
# Environment (defaults in brackets); every scripts/airflow_env.sh variable can be overridden as well:
#   RACEWATCH_PG_URL             [postgresql+psycopg2://postgres@127.0.0.1:5432/racewatch_airflow]
#   RACEWATCH_REDIS_URL          [redis://127.0.0.1:6379/0]
#   RACEWATCH_CELERY_WORKERS     [2]        worker processes (each a Celery node named racewatchN@host)
#   RACEWATCH_CELERY_CONCURRENCY [2]        task slots per worker
#   RACEWATCH_CELERY_QUEUE       [default]  the queue tasks go to and the workers serve
# DuckDB stays single-writer: the duckdb_writer pool (1 slot) serializes writes across all workers, which
# works because every worker runs on this host and sees the same RACEWATCH_HOME (see docs/scale-out.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export RACEWATCH_PG_URL="${RACEWATCH_PG_URL:-postgresql+psycopg2://postgres@127.0.0.1:5432/racewatch_airflow}"
export RACEWATCH_REDIS_URL="${RACEWATCH_REDIS_URL:-redis://127.0.0.1:6379/0}"
workers="${RACEWATCH_CELERY_WORKERS:-2}"
concurrency="${RACEWATCH_CELERY_CONCURRENCY:-2}"
queue="${RACEWATCH_CELERY_QUEUE:-default}"
# A home of its own, so SQLite-profile logs and config never mix with this one (still git-ignored).
export AIRFLOW_HOME="${AIRFLOW_HOME:-$root/airflow_home/scale}"
export AIRFLOW__CORE__EXECUTOR=CeleryExecutor
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="$RACEWATCH_PG_URL"
export AIRFLOW__CELERY__BROKER_URL="$RACEWATCH_REDIS_URL"
export AIRFLOW__OPERATORS__DEFAULT_QUEUE="$queue"
# 2 workers x 2 slots; the 1-slot duckdb_writer pool still admits one writing task at a time.
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-$((workers * concurrency))}"
# shellcheck source=scripts/airflow_env.sh
source scripts/airflow_env.sh
export PATH="$root/.venv/bin:$PATH"
logs="$AIRFLOW_HOME/logs/components"
mkdir -p "$AIRFLOW_HOME" "$RACEWATCH_HOME" "$logs"

redact() { python -c 'import sys; from sqlalchemy.engine import make_url; print(make_url(sys.argv[1]))' "$1"; }

echo "racewatch: preparing Airflow in $AIRFLOW_HOME (PostgreSQL, CeleryExecutor, $workers workers)..."
python - "$RACEWATCH_PG_URL" "$RACEWATCH_REDIS_URL" <<'PY'
"""Create the metadata database when missing; fail in one line when PostgreSQL or Redis is unreachable."""
import sys

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

url = make_url(sys.argv[1])
try:
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as con:
        if not con.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).scalar():
            con.execute(text(f'CREATE DATABASE "{url.database}"'))
            print(f"created PostgreSQL database {url.database!r}")
except Exception as exc:
    sys.exit(f"racewatch: cannot use PostgreSQL at {url!r} (set RACEWATCH_PG_URL): {str(exc).splitlines()[0]}")
try:
    redis.Redis.from_url(sys.argv[2], socket_connect_timeout=5).ping()
except Exception as exc:
    sys.exit(f"racewatch: cannot reach Redis at {sys.argv[2]} (set RACEWATCH_REDIS_URL): {exc}")
PY

pwfile="$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
if [ ! -s "$pwfile" ]; then
  python - "$pwfile" <<'PY'
import json, secrets, sys
json.dump({"admin": secrets.token_urlsafe(12)}, open(sys.argv[1], "w"))
PY
fi
airflow db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1 || { tail -n 30 "$AIRFLOW_HOME/db-migrate.log"; exit 1; }
python scripts/apply_airflow_settings.py airflow_settings.yaml 2>/dev/null | tail -n 1

pids=()
names=()
start() {  # start NAME ARGS...: one Airflow component in the background, output in $logs/NAME.log
  local name="$1"; shift
  airflow "$@" >"$logs/$name.log" 2>&1 &
  pids+=("$!")
  names+=("$name")
}
stop() {  # TERM every component (Celery finishes running tasks: warm shutdown), KILL after 30 s
  trap - INT TERM EXIT
  echo "racewatch: stopping Airflow..."
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 30); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap 'stop; exit 130' INT TERM
trap stop EXIT

start api-server api-server
start scheduler scheduler
start dag-processor dag-processor
start triggerer triggerer
for i in $(seq 1 "$workers"); do
  # One host, several workers: distinct Celery node names, and no per-worker log server (the port would
  # clash); the API server reads task logs from the shared $AIRFLOW_HOME/logs instead.
  start "worker$i" celery worker --celery-hostname "racewatch$i@%h" --concurrency "$concurrency" \
    --queues "$queue" --skip-serve-logs
done

password="$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["admin"])' "$pwfile")"
slack="dry-run (no slack_api_default connection; see README)"
[ -n "${AIRFLOW_CONN_SLACK_API_DEFAULT:-}" ] && slack="connection slack_api_default from the environment"
cat <<MSG

  racewatch is starting (scale profile)
  -------------------------------------
  Airflow UI   ${AIRFLOW__API__BASE_URL}   login: admin / ${password}
  Metadata DB  $(redact "$RACEWATCH_PG_URL")
  Broker       $(redact "$RACEWATCH_REDIS_URL")   queue '${queue}', ${workers} workers x ${concurrency} slots
  Sources      ${RACEWATCH_SOURCES:-include/config/sources.yaml}
  DuckDB file  ${RACEWATCH_DB:-$RACEWATCH_HOME/racewatch.duckdb}
  Slack        ${slack}
  Logs         ${logs}/{api-server,scheduler,dag-processor,triggerer,worker1..${workers}}.log
  Stop         Ctrl-C

MSG

# Run until Ctrl-C or until any component exits, then stop the rest (EXIT trap) so nothing half-runs.
# Ctrl-C reaches every component of the process group at once; the first to finish ends the wait
# (bash may absorb the SIGINT itself), so a clean exit is reported in one line and only a failure
# shows its log.
set +e
wait -n "${pids[@]}"
status=$?
for i in "${!pids[@]}"; do
  kill -0 "${pids[$i]}" 2>/dev/null && continue
  if [ "$status" -eq 0 ]; then
    echo "racewatch: ${names[$i]} stopped"
  else
    echo "racewatch: ${names[$i]} exited with status $status; last lines of $logs/${names[$i]}.log:" >&2
    tail -n 20 "$logs/${names[$i]}.log" >&2
  fi
done
exit "$status"
