# The two commands: `make run` (the whole stack on embedded defaults) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 3

.PHONY: setup system asterisk-root venv pages run test test-fast lint bench clean lock audit

setup: system asterisk-root venv pages

system:
	@bash scripts/setup-system.sh

asterisk-root: system
	@bash scripts/build-asterisk-root.sh >/dev/null

venv: $(STAMP)

# The pages' browser libraries (Vue, Element Plus, ECharts, SIP.js) from npm, exactly as web/package-lock.json
# pins them; the service serves them from web/node_modules (no CDN, no bundler).
PAGES_STAMP := web/node_modules/.installed
pages: $(PAGES_STAMP)

$(PAGES_STAMP): web/package.json web/package-lock.json
	@echo "setup: installing the pages' libraries into web/node_modules from web/package-lock.json"
	@cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $(PAGES_STAMP)

# Installs exactly what requirements.lock pins, every file checked against its hash; then the project itself
# (no dependencies of its own: they are all in the lock).
$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "setup: installing Python dependencies into $(VENV) from requirements.lock (hashes checked)"
	@$(PY) -m pip install -q --disable-pip-version-check --require-hashes -r requirements.lock
	@$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# After changing pyproject.toml's dependencies: pin them again (the lock test fails until then).
lock: venv
	@$(PY) -m pip install -q --disable-pip-version-check pip-tools
	$(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --all-build-deps --extra dev --strip-extras \
		--no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

# Known advisories against every pinned package (PyPI's advisory data; --strict: a package it could not
# check fails the audit instead of passing silently).
audit: venv
	@$(PY) -m pip install -q --disable-pip-version-check pip-audit
	$(VENV)/bin/pip-audit --strict --progress-spinner off --require-hashes --disable-pip -r requirements.lock

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
