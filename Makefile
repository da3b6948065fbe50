# Waymark: `make run` sets up and starts the product; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DATA   ?=

export ANONYMIZED_TELEMETRY := False

.PHONY: setup run test test-slow lint bench lock clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Waymark needs Python >= 3.11 (found %s)" % sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing Waymark and its dependencies into $(VENV) (pinned by constraints.txt)..."
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	$(VENV)/bin/waymark $(if $(DATA),--data-dir $(DATA)) ingest knowledge/sample_corpus
	$(VENV)/bin/waymark $(if $(DATA),--data-dir $(DATA)) shell

# pytest exits 5 when it collects no test; make fails on any non-zero exit.
test: setup lint
	$(PY) -m pytest -m "not slow"

test-slow: setup
	$(PY) -m pytest -m slow

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: setup
	$(PY) -m evals.benchmarks --out docs/benchmarks.md

lock:
	$(PY) -m pip freeze --exclude-editable --exclude waymark > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
