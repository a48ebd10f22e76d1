# make demo: a fresh machine to the demo report in one command.
# make test: a fresh machine to the whole test suite in one command.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
# Compiled Numba kernels are cached here so a second run starts warm.
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba-cache
export MPLBACKEND ?= Agg

.PHONY: demo test lint install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)
install-dev: $(STAMP_DEV)

demo: $(STAMP_RUN)
	$(BIN)/thermolearn demo

# make test runs one test process per core; a multi-threaded BLAS in each of them would
# oversubscribe the cores tenfold on small dense problems.
test: $(STAMP_DEV) lint
	OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 -q

# ruff (lint, import order), its formatter and mypy (types of src/), as CI enforces them.
lint: $(STAMP_DEV)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .numba-cache thermolearn-demo .pytest_cache .hypothesis
