# The two commands: `make run` (the whole stack on embedded defaults) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 3

.PHONY: setup system asterisk-root venv run test test-fast lint bench clean

setup: system asterisk-root venv

system:
	@bash scripts/setup-system.sh

asterisk-root: system
	@bash scripts/build-asterisk-root.sh >/dev/null

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "setup: installing Python dependencies into $(VENV)"
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: setup
	$(VENV)/bin/hotline run

test: setup lint
	$(VENV)/bin/pytest -q -n $(PYTEST_WORKERS) --dist loadfile

test-fast: venv
	$(VENV)/bin/pytest -q -m "not asterisk and not postgres"

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) -m bench all

clean:
	rm -rf var bench/results .pytest_cache .mypy_cache .ruff_cache
