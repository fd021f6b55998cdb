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

.PHONY: run test test-fast lint format bench bench-smoke services clean

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

test: services $(STAMP)
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

bench: services $(STAMP)
	$(BIN)/python -m bench

bench-smoke: services $(STAMP)
	$(BIN)/python -m bench --smoke

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
