# Ponte: the two set-up commands are `make demo` and `make test`.
# Each creates or updates the virtualenv from the project's own files.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip

.PHONY: demo up test lint typecheck pytest clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q "pip<26.3"
	$(PIP) install -q -e '.[local,dev]'
	touch $(STAMP)

venv: $(STAMP)

# Starts the local stack, posts demo gateway payloads and prints the resulting inbox; Ctrl-C stops it.
demo: $(STAMP)
	$(BIN)/ponte up --demo

up: $(STAMP)
	$(BIN)/ponte up

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy ponte proxy functions tests

pytest: $(STAMP)
	$(BIN)/pytest

# The test command: lint, types, and the whole suite on real PostgreSQL.
test: lint typecheck pytest

clean:
	rm -rf $(VENV) .ponte .pytest_cache .mypy_cache .ruff_cache
