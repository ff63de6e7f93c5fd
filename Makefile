# Every target does its own set-up: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
EMULATOR_PORT ?= 8001
STAMP := $(VENV)/.installed

.PHONY: install browser-deps run emulator test lint format spec clients fuzz bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

## Serve the gateway on http://$(HOST):$(PORT); with no AWS_ENDPOINT_URL_BEDROCK_RUNTIME set it also
## starts the local emulator on 127.0.0.1:$(EMULATOR_PORT) and points the gateway at it.
run: $(STAMP)
	HOST=$(HOST) PORT=$(PORT) EMULATOR_PORT=$(EMULATOR_PORT) $(BIN)/python -m app

## The emulator alone, for boto3 scripts: AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http://127.0.0.1:$(EMULATOR_PORT)
emulator: $(STAMP)
	$(BIN)/python -m emulator --host 127.0.0.1 --port $(EMULATOR_PORT)

## tests/browser drive Debian's chromium through its chromedriver: installed here when missing (as
## root with apt-get), otherwise the command to run is printed.
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	if [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -q chromium chromium-driver || \
		{ apt-get update -q && apt-get install -y -q chromium chromium-driver; }; \
	else \
		echo "tests/browser need Debian's chromium: sudo apt-get install chromium chromium-driver" >&2; \
		exit 1; \
	fi

test: $(STAMP) browser-deps
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

## Generate a Python and a TypeScript client from openapi/openapi.json and run each over every
## operation against a live gateway and emulator (needs Node.js >= 20.19 and npm).
clients: $(STAMP)
	$(BIN)/python clients/run.py

## A long fuzz run: requests generated from openapi/openapi.json, at random, against the live gateway
## and the emulator (make test runs a short, deterministic one).
FUZZ_EXAMPLES ?= 300
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/fuzz -q

## The gateway against the same calls posted straight to a near-zero-cost Bedrock stand-in:
## writes BENCHMARKS.md's tables and bench/results/latest.json (several minutes; not part of test).
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
