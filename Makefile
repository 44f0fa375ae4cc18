# Carnet — two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint format types unit browser bench clean messages audit-deps

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make demo: install, make the demo's secret key (once, in var/secret_key), start the
## embedded PostgreSQL, migrate, load the demo practice, serve.
demo: $(STAMP)
	$(BIN)/carnet secret_key
	$(BIN)/carnet migrate --noinput
	$(BIN)/carnet load_reference
	$(BIN)/carnet load_fees
	$(BIN)/carnet demo_data
	$(BIN)/carnet serve --workers 2

## make test: lint, types, then the whole test suite (unit, integration, browser).
test: $(STAMP) lint types unit

lint: $(STAMP)
	$(BIN)/ruff check services tests
	$(BIN)/ruff format --check services tests
	$(BIN)/bandit -q -r services -ll -x '*/migrations/*'  # no medium or high finding

format: $(STAMP)
	$(BIN)/ruff format services tests
	$(BIN)/ruff check --fix services tests

types: $(STAMP)
	$(BIN)/mypy services

unit: $(STAMP)
	$(BIN)/pytest

browser: $(STAMP)
	$(BIN)/pytest -m browser

## make bench (not part of make test): build or reuse the benchmark node (1M patients by
## default, cached under /var/cache/carnet/bench by parameters), serve it with gunicorn,
## load it, write bench/report.json and docs/performance.md. Quick run:
## BENCH_PATIENTS=20000 BENCH_ENTRIES=400000 BENCH_PRACTICES=5 make bench
bench: $(STAMP)
	command -v wrk >/dev/null || apt-get install -y wrk
	$(BIN)/python bench/run.py

## make audit-deps: known vulnerabilities in the installed Python packages (needs the
## PyPI or OSV vulnerability service; see docs/security.md). --strict: a package that
## could not be audited is a failure, not a silent pass.
audit-deps: $(STAMP)
	$(BIN)/pip-audit --strict --progress-spinner off -l

messages: $(STAMP)
	cd services && ../$(BIN)/carnet makemessages -l fr --ignore '*/migrations/*' && cd carnet && ../../$(BIN)/carnet compilemessages

clean:
	rm -rf var/test $(VENV)
