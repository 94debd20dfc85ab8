# Pulse — every developer and CI entry point. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON ?= python3
MOTO_SPEC ?= moto[server]>=5.1.12,<6
BOTOCORE_SPEC ?= botocore>=1.40

# One Node major everywhere: the one Lambda runs (nodejs22.x). Every recipe finds node (and so npm,
# npx, tsx, jest and the local Lambda sandbox, which spawn process.execPath) in .cache/node/bin
# first; scripts/node.sh fills it from the npm registry when PATH has another major.
NODE_VERSION := 22.23.5
NODE_CACHE := $(CURDIR)/.cache/node
NODE_READY := $(NODE_CACHE)/.ready-$(NODE_VERSION)
export PATH := $(NODE_CACHE)/bin:$(PATH)

.PHONY: help node install browser build lint format typecheck test test-unit test-integration test-e2e test-browser demo local-up local-down produce metrics bench plan-capacity clean pulse

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(NODE_READY):
	@scripts/node.sh $(NODE_VERSION) $(NODE_CACHE)

node: $(NODE_READY) ## Node.js 22 (Lambda's major) on PATH, fetched into .cache/node when missing
	@echo "node $$(node --version) at $$(command -v node)"

node_modules/.installed: package.json package-lock.json $(NODE_READY)
	npm ci --no-audit --no-fund
	@touch $@

$(VENV)/.installed:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet '$(MOTO_SPEC)' '$(BOTOCORE_SPEC)'
	@touch $@

install: node_modules/.installed $(VENV)/.installed ## Install npm packages and the moto virtualenv

# The HTML report tests render pages in Debian's chromium (puppeteer-core never downloads one).
# As root (CI) a missing browser is installed; otherwise the tests are skipped and say so loudly.
browser: ## Headless Chromium for the HTML report tests (apt-get install when root and missing)
	@if [ -n "$${PULSE_BROWSER:-}" ] || [ -x /usr/lib/chromium/chromium ] || command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium for the browser tests (apt-get)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
	    || echo "*** chromium could not be installed: the browser tests will be SKIPPED ***"; \
	else echo "*** no chromium and not root: the browser tests will be SKIPPED (apt-get install chromium, or PULSE_BROWSER=...) ***"; fi

build: node_modules/.installed ## Bundle each function to dist/<fn>/index.mjs and dist/<fn>.zip
	npx tsx scripts/build.ts

lint: node_modules/.installed ## Format and lint check (Biome; terraform fmt in tf-check)
	npx biome check .

format: node_modules/.installed ## Apply formatting and safe lint fixes
	npx biome check --write .

typecheck: node_modules/.installed ## Type-check everything (strict)
	npx tsc --noEmit

test-unit: node_modules/.installed ## Unit tests (no emulators)
	npx jest test/unit

test-integration: install build ## Integration tests against the emulators
	npx jest --runInBand test/integration

test-e2e: install build ## End-to-end and fault tests on the local pipeline
	npx jest --runInBand test/e2e

test-browser: node_modules/.installed browser ## The demo and bench HTML pages in headless Chromium; screenshots in .local/screenshots
	npx jest test/browser

test: install browser lint typecheck build ## Everything CI runs: lint, types, unit, integration, e2e, terraform checks
	@mkdir -p .local
	@status=0; npx jest --runInBand --json --outputFile=.local/jest-results.json || status=$$?; \
	  node -e "const r=require('./.local/jest-results.json'); console.log('jest: ' + r.numPassedTests + ' passed, ' + r.numFailedTests + ' failed' + (r.numPendingTests ? ', ' + r.numPendingTests + ' skipped' : ''))"; \
	  exit $$status
	$(MAKE) tf-check

schema: node_modules/.installed ## Regenerate the published event JSON Schema and the archive table's columns (services/schema)
	npx tsx scripts/schema.ts

demo: install build ## Run the whole pipeline locally; prints a report and writes .local/demo-report.html
	npx tsx scripts/demo.ts $(DEMO_ARGS)

local-up: install ## Start the local AWS stand-ins (kinesis-local + moto) in the background
	npx tsx scripts/local/stack.ts up

local-down: $(NODE_READY) ## Stop the local AWS stand-ins
	npx tsx scripts/local/stack.ts down

produce: install ## Put generated traffic on the stream (ARGS="--rate 100 --duration 30")
	npx tsx scripts/produce.ts $(ARGS)

metrics: install ## Print the sliding-window numbers from CloudWatch
	npx tsx scripts/metrics.ts $(ARGS)

pulse: node_modules/.installed ## Operator CLI (status, user, invalid, alerts, replay, plan): make pulse ARGS="status"; or npx pulse --help
	npx --no-install pulse $(ARGS)

bench: install build ## Benchmarks, ours vs the seed design, to .bench/results.{json,md,html} (QUICK=1: short run)
	npx tsx scripts/bench/run.ts $(if $(QUICK),--quick,)

plan-capacity: node_modules/.installed ## Size a deployment (pulse plan): shards, concurrency, units, dollars a month (ARGS="--rate 500")
	@npx --no-install pulse plan $(ARGS)

clean: ## Remove build output and local state (.cache/node stays)
	rm -rf dist .local .bench

-include terraform/terraform.mk
