# Two commands on a fresh machine: `make course` and `make test`.
# Both create .venv when it is missing and reinstall only when pyproject.toml
# or constraints.txt changed, so a second run starts at once.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: course test check lint typecheck bench clean

course: $(VENV)/.installed
	$(BIN)/coursekit build .

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: $(VENV)/.installed
	$(BIN)/coursekit check --strict .

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

bench: $(VENV)/.installed-test
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf _build

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt $(VENV)/.installed
	$(PIP) install -c constraints.txt -e '.[test,serve]'
	touch $@
