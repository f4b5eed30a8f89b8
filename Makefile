# The two commands of the README: `make demo` and `make test`. Both set themselves up.
# `make demo` installs RIO and what it runs on, nothing else; `make test` (and the other
# targets) install the `dev` extra too: the test, lint and type-checking tools.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run-stamp
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit clean bench bench-full browser

$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(RUN_STAMP)
	$(BIN)/rio scenario load scenarios/messenger-review.yaml
	$(BIN)/rio report promised-vs-delivered --promised-as-at 2023-11-30 --delivered-as-at 2024-10-01

lint: $(STAMP)
	$(BIN)/ruff check rio tests bench
	$(BIN)/ruff format --check rio tests bench
	$(BIN)/lint-imports  # the architecture contracts in pyproject.toml

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) browser
	$(BIN)/pytest -q -n 3 --dist worksteal  # three workers on two cores: much of the suite waits on servers, stores and subprocesses; idle workers take queued tests

# The board's browser tests drive Debian's chromium (never a browser build Playwright would
# download). Installs it with apt-get only when /usr/bin/chromium is missing; CI runs as root.
browser:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: lint typecheck unit

bench: $(STAMP)  # a few minutes: 10k events on both stores, appended to bench/RESULTS.md
	$(BIN)/python bench/run.py --events 10000 --stores sqlite,postgres --quick --results bench/RESULTS.md

bench-full: $(STAMP)  # an hour or more: 10k, 100k and 1M events on both stores
	$(BIN)/python bench/run.py --events 10000,100000,1000000 --stores sqlite,postgres --results bench/RESULTS.md

clean:
	rm -rf $(VENV) rio.db rio.db-wal rio.db-shm .pytest_cache .mypy_cache .hypothesis
