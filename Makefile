# Every target does its own set-up: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
EMULATOR_PORT ?= 8001
DOCS_PORT ?= 8002
STAMP := $(VENV)/.installed
# openai-node, for the tests that check its stream parser reads the gateway's event streams.
NODE_TESTS := tests/api/openai/openai_node
NODE_STAMP := $(NODE_TESTS)/node_modules/.package-lock.json

.PHONY: install run worker emulator services test lint format spec docs docs-serve clients fuzz bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

$(NODE_STAMP): $(NODE_TESTS)/package.json $(NODE_TESTS)/package-lock.json
	@command -v npm >/dev/null || { echo "make test needs Node.js >= 20 and npm on PATH (tests/api/openai/openai_node)"; exit 1; }
	cd $(NODE_TESTS) && npm ci --no-audit --no-fund --loglevel=error

## Serve the gateway on http://$(HOST):$(PORT); with no AWS_ENDPOINT_URL_BEDROCK_RUNTIME set it also
## starts the local emulator on 127.0.0.1:$(EMULATOR_PORT) and points the gateway at it.
run: $(STAMP)
	HOST=$(HOST) PORT=$(PORT) EMULATOR_PORT=$(EMULATOR_PORT) $(BIN)/python -m app

## A job worker (docs/jobs.md): runs the jobs queued in GATEWAY_JOBS_REDIS_URL; start several.
worker: $(STAMP)
	$(BIN)/python -m app.worker

## The emulator alone, for boto3 scripts: AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http://127.0.0.1:$(EMULATOR_PORT)
emulator: $(STAMP)
	$(BIN)/python -m emulator --host 127.0.0.1 --port $(EMULATOR_PORT)

## Every program the suite starts (redis-server; one line each in the script) installed if missing:
## apt-get as root on Debian, brew on macOS, else it stops naming the command to run.
services:
	bash scripts/ensure-services

test: $(STAMP) services $(NODE_STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Rewrite openapi/openapi.json from the app (a test fails when they differ).
spec: $(STAMP)
	$(BIN)/python -m app.openapi_export openapi/openapi.json

## The documentation site (mkdocs.yml, docs/) built into site/; --strict fails on any broken link
## or anchor, as CI runs it.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

## The documentation site on http://127.0.0.1:$(DOCS_PORT), rebuilt as pages change.
docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:$(DOCS_PORT)

## Generate a Python and a TypeScript client from openapi/openapi.json and run each over every
## operation against a live gateway and emulator (needs Node.js >= 20.19 and npm), on
## 127.0.0.1:$(CLIENTS_PORT) and :$(CLIENTS_EMULATOR_PORT) (0 picks a free port).
CLIENTS_PORT ?= 8010
CLIENTS_EMULATOR_PORT ?= 8011
clients: $(STAMP)
	$(BIN)/python clients/run.py --port $(CLIENTS_PORT) --emulator-port $(CLIENTS_EMULATOR_PORT)

## A long fuzz run: requests generated from openapi/openapi.json, at random, against the live gateway
## and the emulator (make test runs a short, deterministic one).
FUZZ_EXAMPLES ?= 300
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/fuzz -q

## The gateway against the same calls posted straight to a near-zero-cost Bedrock stand-in:
## writes BENCHMARKS.md's tables and bench/results/latest.json (several minutes; not part of test).
## BENCH_PHASES picks phases (latency fan-out memory startup jobs), e.g. `make bench BENCH_PHASES=jobs`;
## the numbers of the phases not run are kept from the last run.
BENCH_ARGS ?=
BENCH_PHASES ?=
bench: $(STAMP) services
	$(BIN)/python -m bench $(if $(BENCH_PHASES),--phases $(BENCH_PHASES)) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache
