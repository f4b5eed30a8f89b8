# The two commands of the README: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit clean bench bench-full

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rio scenario load scenarios/messenger-review.yaml
	$(BIN)/rio report promised-vs-delivered --promised-as-at 2023-11-30 --delivered-as-at 2024-10-01

lint: $(STAMP)
	$(BIN)/ruff check rio tests bench
	$(BIN)/ruff format --check rio tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(STAMP)  # a few minutes: 10k events on both stores, appended to bench/RESULTS.md
	$(BIN)/python bench/run.py --events 10000 --stores sqlite,postgres --quick --results bench/RESULTS.md

bench-full: $(STAMP)  # an hour or more: 10k, 100k and 1M events on both stores
	$(BIN)/python bench/run.py --events 10000,100000,1000000 --stores sqlite,postgres --results bench/RESULTS.md

clean:
	rm -rf $(VENV) rio.db rio.db-wal rio.db-shm .pytest_cache .mypy_cache .hypothesis
