# Trove — every target does its own set-up (idempotent, fast when already done).
#   make run ROOT=/path/to/photos    serve ROOT on http://127.0.0.1:8000
#   make test [PYTEST_ARGS=...]      run the test suite (SQLite, PostgreSQL and Redis)
#   make test-fast                   the fast tier: SQLite only, no `slow` tests (under a minute)

SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
ROOT ?=
PYTEST_ARGS ?=
# When set (e.g. by .ci/run), pytest's exit code is written to this file, since make
# itself turns any failing command into exit status 2.
PYTEST_RC_FILE ?=

.PHONY: help setup setup-test system-runtime system-test venv-runtime venv-test services \
	vendor-js check-root run scan test test-fast lint bench schema-snapshot clean

help:
	@echo "make run ROOT=/path/to/photos   set up, then serve ROOT on http://127.0.0.1:8000"
	@echo "make scan ROOT=/path/to/photos  set up, then index ROOT once"
	@echo "make test [PYTEST_ARGS=...]     set up (packages, venv, PostgreSQL, Redis), then pytest"
	@echo "make test-fast                  the fast tier (SQLite, no slow tests), under a minute"
	@echo "make setup | setup-test | lint | bench | schema-snapshot | clean"

system-runtime:
	@scripts/install-system.sh runtime

system-test:
	@scripts/install-system.sh test

venv-runtime:
	@scripts/setup-venv.sh runtime

venv-test:
	@scripts/setup-venv.sh test

services:
	@scripts/start-services.sh

# Cytoscape.js for the graph explorer, from npm at the versions of package-lock.json.
vendor-js: system-runtime
	@scripts/vendor-js.sh

setup: system-runtime venv-runtime vendor-js

setup-test: system-test venv-test vendor-js services

check-root:
	@if [ -z "$(ROOT)" ]; then \
		echo "usage: make $(or $(filter run scan,$(MAKECMDGOALS)),run) ROOT=/path/to/photos" >&2; \
		exit 1; \
	fi

run: check-root setup
	$(VENV)/bin/trove serve "$(ROOT)"

scan: check-root setup
	$(VENV)/bin/trove scan "$(ROOT)"

test: setup-test
	@rc=0; $(PYTHON) -m pytest -n 2 --dist worksteal $(PYTEST_ARGS) || rc=$$?; \
	if [ -n "$(PYTEST_RC_FILE)" ]; then echo "$$rc" > "$(PYTEST_RC_FILE)"; fi; \
	exit $$rc

# The fast tier: what a change usually breaks, in under a minute on two cores. Servers,
# browsers, workers and PostgreSQL runs stay in `make test`.
test-fast: setup-test
	$(PYTHON) -m pytest -m "not slow and not postgresql" -n 2 -q --durations=5 $(PYTEST_ARGS)

lint: system-runtime venv-test
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

bench: system-runtime venv-test
	$(PYTHON) bench/scan.py

# After adding a migration: a new SQLite index is made from this dump (src/trove/db/snapshot.py).
schema-snapshot: venv-test
	$(PYTHON) -c 'from trove.db.migrate import write_snapshot; write_snapshot()'

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .mypy_cache test-artifacts bench/results
	find src tests bench -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
	find src -maxdepth 1 -name '*.egg-info' -type d -prune -exec rm -rf {} + 2>/dev/null || true
