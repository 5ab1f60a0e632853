# The two set-up commands: `make run` and `make test`. Everything they need is
# installed from here (uv from PyPI, then the locked environment in .venv).
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
LSN := $(VENV)/bin/lsn

.PHONY: run test install eval bench loadtest soak chroma clean

# One environment for running and testing: a --no-dev sync by `make run` would
# remove pytest from under `make test` (its stamp would still say installed).
$(VENV)/.installed: pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen --extra fit
	@touch $@

install: $(VENV)/.installed

# The browser test drives Debian's chromium through Playwright (never a
# downloaded browser); installed from Debian's packages when missing.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "the browser test needs Debian's chromium at $(CHROMIUM)"; exit 1; }
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium

## make run: install, ingest the corpus if the index is empty, serve UI and API.
run: install
	$(LSN) ingest --if-empty
	$(LSN) serve

## make test: everything the tests need, then the tests.
test: install $(CHROMIUM)
	$(VENV)/bin/python -m pytest -q

## make eval: ingest, then retrieval and answer measures on both splits, each
## with the gap train - check (eval/testsets/train: tune on it; check: held back).
eval: install
	$(LSN) ingest
	$(LSN) eval eval/testsets/train/*.jsonl eval/testsets/check/*.jsonl

## make bench: ingest, search, ask, load and scale figures against the targets
## (a table and bench/results.json; ~30 min, most of it the 10x ingest).
## BENCH_ARGS=--quick for a few minutes.
bench: install
	$(VENV)/bin/python -m eval.bench $(BENCH_ARGS)

## make loadtest: 16 clients for 60 s against `lsn serve` on ./data (bench/results-load.json).
loadtest: install
	$(LSN) ingest --if-empty
	$(VENV)/bin/python -m eval.loadtest --data-dir data

## make soak: 16 clients for 10 minutes mixing search, ask, stream and chat with
## uploads and deletes, against `lsn serve` on a copy of ./data: errors (must be 0),
## p50/p95, server RSS at start, middle and end (bench/results-soak.json).
## SOAK_ARGS="--duration 60" for a short run.
soak: install
	$(LSN) ingest --if-empty
	$(VENV)/bin/python -m eval.soak --data-dir data $(SOAK_ARGS)

## make chroma: a local Chroma server for LSN_CHROMA_URL=http://127.0.0.1:8001
chroma: install
	$(VENV)/bin/chroma run --path data/chroma-server --host 127.0.0.1 --port 8001

clean:
	rm -rf data
