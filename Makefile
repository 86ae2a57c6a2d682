# The README's commands: `make run`, `make test` and `make serve`. Each sets everything up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run serve test lint format lock clean

# The lock files pin every package with its hashes: pip refuses anything they do not name.
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes

$(BIN)/.runtime-installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements.txt
	touch $@

# The dev lock holds the runtime packages too, at the runtime lock's versions.
$(BIN)/.dev-installed: $(BIN)/.runtime-installed requirements-dev.txt
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

## run: set up, migrate SQLite, load the sample catalog, print the demo login and token, serve
run: $(BIN)/.runtime-installed
	$(BIN)/python manage.py migrate --noinput --verbosity 0
	$(BIN)/python manage.py setup_demo --port $(PORT)
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## serve: the production server (imsproject/serve.py migrates and collects static files first)
serve: $(BIN)/.runtime-installed
	$(BIN)/python -m imsproject.serve

## test: set up and run the whole suite (DATABASE_URL selects the database; SQLite by default)
## and print its coverage; COVERAGE_FLOOR=N fails the run below N % (.ci/run sets it)
test: $(BIN)/.dev-installed
	$(BIN)/python -m pytest --cov --cov-report=term \
		$(if $(COVERAGE_FLOOR),--cov-fail-under=$(COVERAGE_FLOOR)) $(PYTEST_ARGS)

## lint: ruff (lint and format) and mypy (catalog/ and imsproject/, see pyproject.toml)
lint: $(BIN)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(BIN)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## lock: recompile the lock files from requirements*.in (UPGRADE="pkg ..." moves those packages)
lock: $(BIN)/.dev-installed
	$(BIN)/pip-compile --quiet $(UPGRADE:%=--upgrade-package %) requirements.in
	$(BIN)/pip-compile --quiet $(UPGRADE:%=--upgrade-package %) requirements-dev.in

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles .pytest_cache .mypy_cache .coverage
