# Two commands on a fresh machine: `make course` and `make test`.
# Both create .venv when it is missing and reinstall only when pyproject.toml,
# constraints.txt or binder/requirements.txt changed, so a second run starts at once.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
LMS_DEPS := tests/lms/node_modules/.installed  # scorm-again for the SCORM tests
OPENEDX  := tests/openedx/.venv/.installed  # the Open edX SCORM XBlock + SDK, in its own venv
RALPH    := tests/lrs/.venv/.installed  # Ralph, the LRS of the cmi5 tests, in its own venv
COURSE_REQS := binder/requirements.txt          # what the bundled course's notebooks import

.PHONY: course test check lint typecheck bench clean

course: $(VENV)/.installed
	$(BIN)/coursekit build .

# Two pytest workers (pytest-xdist): the builds the tests run use one core each. Each
# test file goes whole to one worker (loadscope), so a file's shared build or grading
# run (a module-scoped fixture) is made once, not once per worker.
TEST_WORKERS ?= 2
test: $(VENV)/.installed-test $(LMS_DEPS) $(OPENEDX) $(RALPH)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

check: $(VENV)/.installed
	$(BIN)/coursekit check --strict .

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

# BENCH_ARGS go to bench_build.py and bench_scale.py: `--quick` (one pair; the big book at
# 60 pages) takes minutes; the goals' measurement is `make bench BENCH_ARGS="--pairs 3"`
# (the better part of an hour on 2 cores). The other benchmarks run with their defaults.
BENCH_ARGS ?= --quick
bench: $(VENV)/.installed-test
	for b in benchmarks/bench_*.py; do \
	  case $$b in */bench_build.py|*/bench_scale.py) args="$(BENCH_ARGS)";; *) args="";; esac; \
	  $(BIN)/python $$b $$args || exit 1; \
	done

clean:
	rm -rf _build

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The tool (its own ranges) and the bundled course's notebook stack, both held at the
# tested versions by constraints.txt.
$(VENV)/.installed: pyproject.toml constraints.txt $(COURSE_REQS) | $(BIN)/python
	$(PIP) install -c constraints.txt -e . -r $(COURSE_REQS)
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt $(VENV)/.installed
	$(PIP) install -c constraints.txt -e '.[test]'
	touch $@

# The SCORM tests run packages against the real scorm-again runtime from npm,
# installed exactly as pinned in package-lock.json; redone only when it changes.
$(LMS_DEPS): tests/lms/package.json tests/lms/package-lock.json
	cd tests/lms && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The Open edX SCORM tests run the real XBlock in the XBlock SDK workbench (Django 4.2).
# Its own venv: its boto3 needs python-dateutil < 3, the course tools pin 4.0. Under
# tests/, which neither the book nor the build fingerprint read.
$(OPENEDX): tests/openedx/requirements.txt
	$(PYTHON) -m venv tests/openedx/.venv
	tests/openedx/.venv/bin/python -m pip --disable-pip-version-check -q install -r $<
	touch $@

# The cmi5 tests store their statements in Ralph (ralph-malph, fs backend), a real LRS.
# Its own venv: its FastAPI/pydantic pins are not the course tools'. Under tests/ too.
$(RALPH): tests/lrs/requirements.txt
	$(PYTHON) -m venv tests/lrs/.venv
	tests/lrs/.venv/bin/python -m pip --disable-pip-version-check -q install -r $<
	touch $@
