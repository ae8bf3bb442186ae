# Every target sets itself up: bootstraps uv into .tools/ if missing, then `uv sync --locked`.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo .tools/uv-venv/bin/uv)
RUN := $(UV) run --locked --no-sync

.PHONY: help setup test lint typecheck docs-check pytest date-sweep bench fmt demo sandbox docs docs-serve clean

help:
	@echo "make demo        - run every job against the local sandbox"
	@echo "make test        - lint + types + docs build (strict) + the whole test suite"
	@echo "make pytest      - the test suite only (PYTEST_ARGS='tests/unit -k name' for a part)"
	@echo "make lint        - ruff check + ruff format --check"
	@echo "make docs        - build the documentation site into site/ (MkDocs, strict)"
	@echo "make docs-serve  - serve the documentation on http://127.0.0.1:8000"
	@echo "make typecheck   - mypy --strict"
	@echo "make date-sweep  - unit + e2e suites under faketime on other days (DST changes, ...)"
	@echo "make bench       - performance figures (bench/)"
	@echo "make fmt         - format and autofix"
	@echo "make sandbox     - serve the local simulators"
	@echo "make setup       - install uv (into .tools/ if missing) and the locked dependencies"
	@echo "make clean       - remove the venv, tools and caches"

.tools/uv-venv/bin/uv:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "python3 >= 3.11 is required"; exit 1; }
	$(PYTHON) -m venv .tools/uv-venv
	.tools/uv-venv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: the dependencies' .pyc written at install, as pip does (uv does not by
# default); without them every start compiles ~300 modules from source (--help: ~1.7× slower).
setup: $(if $(findstring .tools/,$(UV)),.tools/uv-venv/bin/uv)
	$(UV) sync --locked --quiet --compile-bytecode

lint: setup
	$(RUN) ruff check src tests bench
	$(RUN) ruff format --check src tests bench

typecheck: setup
	$(RUN) mypy

pytest: setup
	$(RUN) pytest $(PYTEST_ARGS)

docs-check: setup
	site=$$(mktemp -d) && NO_MKDOCS_2_WARNING=1 $(RUN) mkdocs build --strict --site-dir "$$site" --quiet; \
	  rc=$$?; rm -rf "$$site"; exit $$rc

docs: setup
	NO_MKDOCS_2_WARNING=1 $(RUN) mkdocs build --strict

docs-serve: setup
	NO_MKDOCS_2_WARNING=1 $(RUN) mkdocs serve --dev-addr 127.0.0.1:8000

test: lint typecheck docs-check pytest

date-sweep: setup
	bash scripts/date_sweep.sh

bench: setup
	$(RUN) python -m bench

fmt: setup
	$(RUN) ruff check --fix src tests bench
	$(RUN) ruff format src tests bench

demo: setup
	$(RUN) boxoffice demo

sandbox: setup
	$(RUN) boxoffice sandbox

clean:
	rm -rf .venv .tools .pretix .librebooking .timescaledb site .pytest_cache .mypy_cache .ruff_cache
