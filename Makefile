# RecTrack developer commands. `make run` and `make test` are all a new user needs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
USWDS := node_modules/@uswds/uswds/dist
HOST ?= 127.0.0.1
PORT ?= 5000
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run not-production worker install install-dev assets db seed test test-sqlite test-sqlite-core test-browser test-pg test-pg-core test-pg-servers test-api test-api-pg test-clock lint format bench bench-jobs clean mutation

# One background worker starts beside the web server, on a broker that needs no server (a
# SQLite file in instance/, CELERY_BROKER_URL's default), and stops with it.
# `make run` is the development server (Flask's, with demo accounts); under APP_ENV=production
# it stops before it installs or migrates anything.
run: not-production install assets db seed  ## serve the app with seed data on http://127.0.0.1:5000, with one worker
	$(VENV)/bin/celery -A app.jobs.worker worker --pool=solo --beat --loglevel=WARNING \
	  --hostname=make-run@%h --schedule=instance/celerybeat-schedule & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  $(FLASK) run --host $(HOST) --port $(PORT)

not-production:
	@if [ "$${APP_ENV:-development}" = production ]; then \
	  echo 'make run is the development server and APP_ENV is production. A production server runs under gunicorn (gunicorn -c gunicorn.conf.py wsgi:app) with a Celery worker and beat: see README.md, "Deploying".' >&2; \
	  exit 1; fi

worker: install  ## a background worker (production: Redis, CELERY_BROKER_URL)
	$(VENV)/bin/celery -A app.jobs.worker worker --loglevel=INFO

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

.stamp-install: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

.stamp-install-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ .stamp-install

install: .stamp-install
install-dev: .stamp-install-dev

# USWDS comes from npm (pinned in package-lock.json); its built files are copied into
# static/uswds and never committed.
static/uswds/.stamp: package.json package-lock.json
	PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	rm -rf static/uswds && mkdir -p static/uswds
	cp -r $(USWDS)/css $(USWDS)/fonts $(USWDS)/img $(USWDS)/js static/uswds/
	@touch $@

assets: static/uswds/.stamp

db: install  ## apply migrations to the configured database
	$(FLASK) db upgrade

seed: install  ## load the real seed reports and the demo accounts (idempotent)
	$(FLASK) seed
	$(FLASK) demo-users

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy app

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# `make test`: lint, then the whole suite on SQLite in two phases: everything but the
# browser tests, then the browser tests alone (Chromium and a live server want the machine
# to themselves), with coverage added up over both. The whole suite must cover at least 90%
# of the lines of app/ (not in pyproject's addopts, so that running one test file stays
# quiet). ALSO_PG=1 (.ci/run) runs the PostgreSQL suite (test-pg-core) beside the first
# phase: each suite is one process and the machine has two cores.
test: install-dev assets lint
	$(MAKE) --no-print-directory $(if $(ALSO_PG),-j2 --output-sync=target test-pg-core) test-sqlite-core
	$(MAKE) --no-print-directory test-browser

SQLITE := env -u DATABASE_URL -u TEST_DATABASE_URL
PG := env TEST_DATABASE_URL=$(PG_TEST_URL)
COVERAGE_ARGS ?= --cov=app --cov-report=term:skip-covered --cov-fail-under=90
test-sqlite-core: install-dev assets
	$(SQLITE) $(PY) -m pytest --ignore=tests/browser --cov=app --cov-report= $(PYTEST_ARGS)

test-browser: install-dev assets
	$(SQLITE) $(PY) -m pytest tests/browser --cov=app --cov-append $(COVERAGE_ARGS) $(PYTEST_ARGS)

test-sqlite: test-sqlite-core test-browser  ## the whole suite on SQLite, without lint

test-pg: install-dev assets  ## the whole suite on PostgreSQL
	$(PG) $(PY) -m pytest $(PYTEST_ARGS)

# The PostgreSQL suite as CI runs it beside the SQLite one: without the browser tests (the
# SQLite run has them) and the real-server tests (test-pg-servers, after), with the clock
# frozen at an instant when the UTC and Eastern dates differ (21:30 on 30 November in
# Washington), so the whole suite on PostgreSQL is also a date-boundary run.
test-pg-core: install-dev assets
	$(PG) RECTRACK_TEST_NOW=2026-12-01T02:30:00+00:00 $(PY) -m pytest --ignore=tests/browser -m "not servers" $(PYTEST_ARGS)

test-pg-servers: install-dev assets  ## gunicorn servers on PostgreSQL (two servers, a killed connection)
	$(PG) $(PY) -m pytest -m servers tests/test_two_servers.py tests/test_connection_kill.py $(PYTEST_ARGS)

# The JSON API against a live server: docs/api_cpg502.py, then schemathesis with each
# role's token (tests/api_contract.py), on SQLite and on PostgreSQL.
test-api: install-dev  ## the API's contract check (schemathesis) on SQLite
	$(SQLITE) $(PY) tests/api_contract.py

test-api-pg: install-dev  ## the same on PostgreSQL
	env -u DATABASE_URL TEST_DATABASE_URL=$(PG_TEST_URL) $(PY) tests/api_contract.py

# The date-sensitive tests again on SQLite, with the clock frozen where the UTC and Eastern
# dates differ and across the autumn daylight-saving change (test-pg-core runs the whole
# PostgreSQL suite at the first instant).
CLOCK_TESTS := tests/test_clock_seam.py tests/test_clocks.py tests/test_concurrency_and_queues.py \
	tests/test_keyset.py tests/test_dashboard.py tests/test_pdf.py tests/test_history.py \
	tests/test_lifecycle.py tests/test_restricted_filters.py tests/test_as_of.py tests/test_stored_due_dates.py \
	tests/test_deadline_registry.py
test-clock: install-dev assets  ## date-sensitive tests at awkward instants (SQLite)
	$(SQLITE) RECTRACK_TEST_NOW=2026-12-01T02:30:00+00:00 $(PY) -m pytest $(CLOCK_TESTS)
	$(SQLITE) RECTRACK_TEST_NOW=2026-11-01T05:45:00+00:00 $(PY) -m pytest $(CLOCK_TESTS)

# Mutation testing of the domain core (minutes, so not part of `make test` or CI). mutmut 3
# copies the project into mutants/, mutates MUTATE_FILES there, and runs for each mutant
# only those of MUTATION_TESTS that reach the mutated function. mutmut reads its settings
# from setup.cfg, so this target writes one (ignored by git) from the two lists below.
# Known equivalent survivors, with reasons: docs/mutation-equivalents.md.
MUTATE_FILES ?= app/lifecycle/steps.py app/lifecycle/workflow.py app/auth/policy.py app/lifecycle/clocks.py \
	app/lifecycle/deadlines.py
MUTATION_TESTS ?= tests/test_transition_table.py tests/test_step_effects.py tests/test_policy.py \
	tests/test_history.py tests/test_edit_races.py tests/test_attachments.py tests/test_deadline_policy.py \
	tests/test_lifecycle.py tests/test_closure_forms.py tests/test_concurrency_and_queues.py tests/test_clocks.py \
	tests/test_deadline_registry.py
MUTATION_JOBS ?= 2
mutation: install-dev  ## mutation score of the domain core (mutmut)
	@{ echo "# Written by make mutation; edit MUTATE_FILES / MUTATION_TESTS in the Makefile."; \
	  echo "[mutmut]"; echo "source_paths = app"; \
	  echo "only_mutate ="; for f in $(MUTATE_FILES); do echo "    $$f"; done; \
	  echo "also_copy ="; for f in config.py migrations templates static; do echo "    $$f"; done; \
	  echo "pytest_add_cli_args_test_selection ="; for f in $(MUTATION_TESTS); do echo "    $$f"; done; \
	  echo "pytest_add_cli_args ="; echo "    -p"; echo "    no:cacheprovider"; \
	} > setup.cfg
	rm -f mutants/test-db.sqlite  # the migrated, seeded database the runs share; built anew
	env -u DATABASE_URL -u TEST_DATABASE_URL RECTRACK_TEST_DB_TEMPLATE=$(CURDIR)/mutants/test-db.sqlite \
		$(VENV)/bin/mutmut run --max-children $(MUTATION_JOBS) > mutants-run.log 2>&1 \
		|| (tail -40 mutants-run.log; exit 1)
	$(VENV)/bin/mutmut results --all true > mutants-results.txt
	$(PY) tests/mutation_score.py mutants-results.txt docs/mutation-equivalents.md $(MUTATE_FILES)

bench: install assets  ## build 10k and 100k databases on SQLite and PostgreSQL and measure
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql)" main start || true
	$(PY) bench/run.py

# Issue 13: the dashboard while four uncached portfolio PDFs render as jobs in one Celery
# worker (Redis database 7, flushed). Builds a 100,000-recommendation PostgreSQL database
# once (rectrack_bench_jobs_100000) and reuses it; BENCH_REUSE=0 rebuilds it.
bench-jobs: install assets  ## dashboard p99 while 4 PDF jobs render (PostgreSQL 100k, Redis)
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql)" main start || true
	@redis-cli -u $${BENCH_JOBS_REDIS:-redis://127.0.0.1:6379/7} ping >/dev/null || (echo "bench-jobs needs Redis at 127.0.0.1:6379"; exit 1)
	$(PY) bench/jobs_load.py

clean:
	rm -rf $(VENV) node_modules static/uswds .stamp-* .pytest_cache .ruff_cache .mypy_cache bench/out mutants mutants-*.log mutants-*.txt setup.cfg
