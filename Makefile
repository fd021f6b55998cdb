# Duplex: the two commands of README.md, and a few more for developers.
#   make run    set up everything and serve the site on http://127.0.0.1:8000/
#   make test   set up everything (services, Chromium) and run every test

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests use the machine's PostgreSQL and Redis (started by .ci/services if down).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/duplex
PYTEST_ARGS ?=

# The ws-node ceiling of the benchmark suite: ws and bufferutil from npm.
NODE_STAMP := bench/node_modules/.installed

.PHONY: run test test-fast lint format bench bench-smoke bench-deps services clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_data
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

services:
	bash .ci/services

# npm comes with the services (.ci/services installs Debian's nodejs and npm).
$(NODE_STAMP): bench/package-lock.json | services
	npm ci --prefix bench --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

test: services $(STAMP) $(NODE_STAMP)
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

# ASGI tests only: no daphne processes, no browser.
test-fast: $(STAMP)
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest -m "not integration and not browser" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench-deps: $(NODE_STAMP)

bench: services $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m bench

bench-smoke: services $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m bench --smoke

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache bench/node_modules
