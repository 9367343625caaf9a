# Kizuna: `make run` serves a demo node on SQLite; `make test` runs the whole suite (SQLite, then PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export KIZUNA_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test test-sqlite test-postgres lint install chromium clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (never a browser download).
chromium:
	@test -x /usr/bin/chromium || { (apt-get update -q && apt-get install -y -q chromium) >/dev/null || { echo "could not install Debian's chromium"; exit 1; }; }

run: $(STAMP)
	$(BIN)/kizuna migrate --noinput
	$(BIN)/kizuna demo
	KIZUNA_COOKIE_SECURE=0 $(BIN)/kizuna serve

lint: $(STAMP)
	$(BIN)/ruff check kizuna tests benchmarks
	$(BIN)/mypy kizuna

test: $(STAMP) chromium lint test-sqlite test-postgres

test-sqlite: $(STAMP)
	KIZUNA_TEST_DB=sqlite $(BIN)/pytest -n 2

test-postgres: $(STAMP)
	KIZUNA_TEST_DB=postgres DATABASE_URL=postgres://postgres@127.0.0.1:5432/test $(BIN)/pytest -n 2

bench: $(STAMP)
	$(BIN)/python benchmarks/reports.py
	$(BIN)/python benchmarks/consultations.py

clean:
	rm -rf $(VENV) var
