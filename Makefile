# make demo: a fresh machine to the demo report in one command.
# make test: a fresh machine to the whole test suite in one command.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
# Compiled Numba kernels are cached here so a second run starts warm.
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba-cache
# Compiled JAX functions too (XLA executables, on the CPU as on a GPU): a second run, and every
# process of the test suite after the first that compiles a function, loads it instead of
# compiling (a 20-iteration `quantum vmc` went from 4.4 to 2.4 s).
export JAX_COMPILATION_CACHE_DIR ?= $(CURDIR)/.jax-cache
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS ?= 0.1
export JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES ?= 0
export MPLBACKEND ?= Agg

.PHONY: demo test lint install install-dev clean browser docs

# The explorer's tests (tests/test_explorer.py) drive a real Chromium through Playwright. Playwright's
# own browser download needs the network, so they use the system's: THERMOLEARN_CHROMIUM if set,
# else chromium (or chromium-browser) on the PATH, installed by apt-get when missing and we are root.
FIND_CHROMIUM = $${THERMOLEARN_CHROMIUM:-$$(command -v chromium || command -v chromium-browser || true)}

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
test: $(STAMP_DEV) lint browser
	THERMOLEARN_CHROMIUM="$(FIND_CHROMIUM)" OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 -q

# The API reference, offline, into build/docs (open build/docs/index.html): pdoc over every module,
# docs/api.md (conventions, doctested examples) and docs/architecture.md as guide pages.
docs: $(STAMP_DEV)
	rm -rf build/docs
	$(BIN)/python docs/build_docs.py build/docs

# Find Chromium for the browser tests, or install Debian's package (root only); fail with a clear message.
browser:
	@path="$(FIND_CHROMIUM)"; \
	if [ -z "$$path" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "make: installing chromium (apt-get) for the explorer's browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
			|| { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; \
		path="$(FIND_CHROMIUM)"; \
	fi; \
	if [ -z "$$path" ] || [ ! -x "$$path" ]; then \
		echo "make: no Chromium for the explorer's browser tests (found: '$$path'). Install it" \
			"(Debian/Ubuntu, as root: apt-get install -y chromium) or set THERMOLEARN_CHROMIUM=/path/to/chromium." >&2; \
		exit 1; \
	fi; \
	echo "make: browser tests use $$path"

# ruff (lint, import order), its formatter and mypy (types of src/), as CI enforces them.
lint: $(STAMP_DEV)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .numba-cache .jax-cache thermolearn-demo thermolearn-explorer build/docs .pytest_cache .hypothesis
