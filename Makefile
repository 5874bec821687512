# govml — two commands do all the set-up on a fresh machine:
#   make demo   create .venv if missing, install, run every capability on data_samples/
#   make test   create .venv if missing, install, run the whole test suite (notebooks included)
# The install step runs only when pyproject.toml changed since the last install.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.govml-installed
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0

.PHONY: demo test install lint notebooks benchmarks clean-reports help

help:
	@echo "make demo        run govml end to end on data_samples/ (outputs in reports/)"
	@echo "make test        run the whole test suite, notebooks included"
	@echo "make lint        ruff"
	@echo "make benchmarks  run the scripts in benchmarks/ (minutes; see docs/benchmarks.md)"

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (govml needs Python >= 3.11; set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/govml demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup --durations=15 \
		--nbmake --nbmake-timeout=600 tests $(wildcard notebooks/*.ipynb)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

benchmarks: $(STAMP)
	@for s in benchmarks/bench_*.py; do echo "== $$s"; $(BIN)/python $$s || exit 1; done

clean-reports:
	rm -rf reports
