# racewatch: `make run` starts everything, `make test` runs the whole suite. `make help` lists all.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
SOURCES ?= default
PROFILE ?= default
ifeq ($(filter $(PROFILE),default scale),)
  $(error PROFILE must be default or scale, not '$(PROFILE)')
endif
# PROFILE=scale runs the same DAGs on PostgreSQL + CeleryExecutor (Redis broker, 2 workers): scripts/run_scale.sh.
# Any PostgreSQL/Redis: RACEWATCH_PG_URL (default postgresql+psycopg2://postgres@127.0.0.1:5432/racewatch_airflow,
# created if missing) and RACEWATCH_REDIS_URL (default redis://127.0.0.1:6379/0); see docs/scale-out.md.
# Neither service is needed by `make run` (PROFILE=default) or `make test` (the scale test skips without them).
ifeq ($(SOURCES),sample)
  SOURCES_FILE := include/config/sources.sample.yaml
else ifeq ($(SOURCES),default)
  SOURCES_FILE := include/config/sources.yaml
else
  SOURCES_FILE := $(SOURCES)
endif

.PHONY: help setup browser run test test-fast lint eval train bench lock clean

help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  variables: SOURCES=sample|default|<file> and PROFILE=default|scale (for run), PYTHON=<interpreter>"
	@echo "  PROFILE=scale: PostgreSQL + Celery; RACEWATCH_PG_URL, RACEWATCH_REDIS_URL (docs/scale-out.md)"

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.txt -c constraints.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

setup: $(STAMP) ## create .venv from requirements.txt + constraints.txt (idempotent)

browser: ## install Debian's chromium for the board's browser test (the test skips without it)
	@bash scripts/install_browser.sh || echo "make browser: chromium not installed; the board's browser test will skip"

run: setup ## start Airflow + racewatch (SOURCES=sample: offline feeds; PROFILE=scale: PostgreSQL + Celery)
	RACEWATCH_SOURCES=$(abspath $(SOURCES_FILE)) \
	$(if $(filter sample,$(SOURCES)),RACEWATCH_ALERT_MAX_AGE_HOURS=$${RACEWATCH_ALERT_MAX_AGE_HOURS:-0}) \
	$(if $(filter scale,$(PROFILE)),scripts/run_scale.sh,scripts/run.sh)

test: setup browser ## run the whole test suite (unit, integration, end-to-end)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-fast: setup ## unit tests only
	$(BIN)/python -m pytest -q tests/unit

lint: setup ## ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check include dags tests || true

eval: setup ## classifier metrics on the corpus's frozen validation split (by source type) + regression examples
	$(BIN)/python -m racewatch.evaluate

train: setup ## retrain the classifier's learned heads on the corpus's train split (writes classify/weights/)
	$(BIN)/python scripts/train_classifier.py

bench: setup ## benchmarks; results in bench/results and docs/performance.md
	$(BIN)/python -m bench

lock: ## regenerate constraints.txt from requirements.txt (needs the package registry)
	$(BIN)/uv pip compile requirements.txt --python-version 3.11 --universal -o constraints.txt

clean: ## remove the virtualenv, Airflow home and local data
	rm -rf $(VENV) airflow_home data
