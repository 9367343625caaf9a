# Kizuna: `make run` serves a demo node on SQLite with its background worker (Ctrl-C stops both); `make test` runs the whole suite (SQLite, then PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export KIZUNA_DATA_DIR ?= $(CURDIR)/var

.PHONY: run run-pair test test-sqlite test-postgres lint install fonts chromium nginx pgclient clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) fonts

# Debian's CJK TrueType fonts that the minutes PDF embeds (kizuna/consultations/printing/pdf.py): MigMix for Japanese
# and Chinese, Nanum Gothic for Korean, each regular and bold. The node downloads nothing at run time.
fonts:
	@test -f /usr/share/fonts/truetype/migmix/migmix-1p-bold.ttf -a -f /usr/share/fonts/truetype/nanum/NanumGothicBold.ttf || { (apt-get update -q && apt-get install -y -q fonts-migmix fonts-nanum) >/dev/null || { echo "could not install Debian's fonts-migmix and fonts-nanum"; exit 1; }; }

# Debian's Chromium for the browser tests (never a browser download).
chromium:
	@test -x /usr/bin/chromium || { (apt-get update -q && apt-get install -y -q chromium) >/dev/null || { echo "could not install Debian's chromium"; exit 1; }; }

# Debian's nginx for the reverse-proxy test (tests/cli/test_serve_slow_clients.py runs deploy/nginx/kizuna.conf).
# Only the binary is needed: the test runs its own nginx in the foreground with a generated configuration (the
# service Debian may start on port 80 is not used).
nginx:
	@test -x /usr/sbin/nginx || { (apt-get update -q && apt-get install -y -q nginx-light) >/dev/null || { echo "could not install Debian's nginx"; exit 1; }; }
# Debian's PostgreSQL client tools: pg_dump and pg_restore, for `kizuna backup` / `kizuna restore` on PostgreSQL.
pgclient:
	@command -v pg_dump >/dev/null && command -v pg_restore >/dev/null || { (apt-get update -q && apt-get install -y -q postgresql-client) >/dev/null || { echo "could not install Debian's postgresql-client"; exit 1; }; }

run: $(STAMP) fonts
	$(BIN)/kizuna migrate --noinput
	$(BIN)/kizuna demo
	KIZUNA_COOKIE_SECURE=0 $(BIN)/kizuna serve --worker

# Two demo nodes exchanging over TAXII: the NATO node of `make run` (port 8000) and a Japanese node (localhost:8001),
# joined by node cards; Ctrl-C stops both.
run-pair: $(STAMP) fonts
	$(BIN)/python -m kizuna.demo.pair

lint: $(STAMP)
	$(BIN)/ruff check kizuna tests benchmarks
	$(BIN)/mypy kizuna
	$(BIN)/lint-imports --no-cache

test: $(STAMP) fonts chromium nginx pgclient lint test-sqlite test-postgres

test-sqlite: $(STAMP)
	KIZUNA_TEST_DB=sqlite $(BIN)/pytest -n 2

test-postgres: $(STAMP) pgclient
	KIZUNA_TEST_DB=postgres DATABASE_URL=postgres://postgres@127.0.0.1:5432/test $(BIN)/pytest -n 2

# Every benchmark at full size, on SQLite (figures go in docs/performance.md with the machine). DATABASE_URL is
# unset: stix_export.py would drop and recreate the database it names. Long: run it on an otherwise idle machine.
bench: $(STAMP)
	env -u DATABASE_URL $(BIN)/python benchmarks/reports.py
	env -u DATABASE_URL $(BIN)/python benchmarks/consultations.py
	env -u DATABASE_URL $(BIN)/python benchmarks/stix_import.py
	env -u DATABASE_URL $(BIN)/python benchmarks/stix_export.py
	env -u DATABASE_URL $(BIN)/python benchmarks/taxii_serve.py
	env -u DATABASE_URL $(BIN)/python benchmarks/federation_sync.py
	env -u DATABASE_URL $(BIN)/python benchmarks/bench_load.py
	env -u DATABASE_URL $(BIN)/python benchmarks/threat_search.py

clean:
	rm -rf $(VENV) var
