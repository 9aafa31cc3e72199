# wire — developer entry points. `make demo` and `make test` work on a fresh machine that has
# Python 3.11+ and access to PyPI; everything installs into ./.venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
STAMP  := $(VENV)/.installed
PKGS   := wire-protocol wire-relay wire-client wire-mcp wire-cli
PYPROJECTS := pyproject.toml $(foreach p,$(PKGS),packages/$(p)/pyproject.toml)

.PHONY: install test lint typecheck pytest wheels demo bench soak build clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv>=0.9"

$(STAMP): $(BIN)/python $(PYPROJECTS)
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python --group dev \
	  $(foreach p,$(PKGS),-e "packages/$(p)[test]")
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy

# With CI set (or WIRE_REQUIRE_REAL_PARTS=1) a skipped test that needs a real part (PostgreSQL, Chromium,
# @pytest.mark.real_part) FAILS; locally it is a visible skip (tests/conftest.py). .ci/run sets it.
pytest: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

wheels: install
	$(BIN)/python tools/check_wheels.py

test: lint typecheck pytest wheels

demo: install
	WIRE_NO_AUTO_JSON=1 $(BIN)/wire demo

soak: install
	$(BIN)/python -m tests.faults.soak --minutes $(or $(SOAK_MINUTES),10)

bench: install
	$(BIN)/python bench/run_all.py

build: install
	@for p in $(PKGS); do $(UV) build --quiet --out-dir dist packages/$$p || exit 1; done

clean:
	rm -rf $(VENV) dist .mypy_cache .ruff_cache .pytest_cache
