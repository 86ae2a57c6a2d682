# The README's commands: `make run`, `make test` and `make serve`. Each sets everything up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run serve test lint format clean

$(BIN)/.runtime-installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(BIN)/.dev-installed: $(BIN)/.runtime-installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
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
test: $(BIN)/.dev-installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles .pytest_cache
