# Koto: `make run` sets up and starts the demo; `make test` runs every check CI runs.
SHELL := /bin/bash
PY ?= $(shell command -v python3.12 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install install-dev system-deps lint translations messages bench clean

$(BIN)/python:
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 12), "Koto needs Python 3.12 (see .python-version)"'
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

.env:
	@echo "KOTO_DEBUG=true" > .env
	@echo "KOTO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" >> .env
	@echo "Wrote .env for local development (DEBUG on, a random secret key)."

run: install .env
	@mkdir -p var
	$(MANAGE) migrate --noinput -v0
	$(MANAGE) load_demo
	$(MANAGE) sweep_deadlines
	$(MANAGE) refresh_insights --full
	@echo "Koto runs at http://127.0.0.1:8000 with its task worker (Ctrl-C stops both)."
	@$(MANAGE) db_worker --no-reload -v0 > var/worker.log 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(MANAGE) runserver 127.0.0.1:8000

# Debian packages the tests need: Chromium and Noto fonts for browser tests, gettext for
# the translation check. Installed only when missing (needs root, as on CI).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	[ -d /usr/share/fonts/truetype/noto ] || missing="$$missing fonts-noto-core"; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

translations: install-dev
	$(MANAGE) check_translations

# Refresh the .po files after changing user-facing text, then translate and compile.
messages: install-dev
	$(MANAGE) makemessages -l fi -l sv -l en --no-obsolete --no-location -i '.venv/*' -i 'benchmarks/*'
	$(MANAGE) compilemessages -l fi -l sv -l en -i '.venv'

# The suite runs in parallel (pytest-xdist), one worker per core unless TEST_WORKERS says
# otherwise (TEST_WORKERS=0 runs it in this process, for a debugger).
TEST_WORKERS ?= auto
test: install-dev system-deps lint translations
	@mkdir -p var
	$(MANAGE) makemigrations --check --dry-run
	$(BIN)/pytest -q -n $(TEST_WORKERS)

bench: install-dev
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) var/*.sqlite3*

# National scale (docs/performance.md): the koto_national database with NATIONAL_CLIENTS
# generated clients (benchmarks.scale_data runs only when it is missing or smaller), then
# every page and API read, the 5-minute load test on 127.0.0.1 (on the best of four server
# configurations, tried for 40 s each) and its ceiling, then the summary table.
# The load test needs wrk (Debian package `wrk`, installed here when missing, as root).
NATIONAL_CLIENTS ?= 1000000
.PHONY: bench-national
bench-national: install-dev
	@command -v wrk >/dev/null || { echo "Installing wrk (Debian package) for the load test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m benchmarks.national --has-clients $(NATIONAL_CLIENTS) || \
	  $(BIN)/python -m benchmarks.scale_data --clients $(NATIONAL_CLIENTS)
	$(BIN)/python -m benchmarks.national --tune
	$(BIN)/python -m benchmarks.run_all --skip-run
