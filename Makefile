# Real-time operations analytics: every operation goes through this Makefile.
# Quick start (local mode): make up && make ddl && make processor-run   (and make producer in another terminal)
# Everything at once: make demo.   Tests: make test.

SHELL := /bin/bash
# .env is not included here: make would let it override the environment. The programs and scripts
# read it themselves (packages/core/src/dotenv.ts, scripts/env.ts), and the environment wins.
# Values users pass (FROM, TO, Q, LIMIT, RATE, ARGS) reach the programs through the environment
# (make exports command-line variables) and are expanded by the shell as "$$VAR", never pasted
# into the command line by make.

export RTOA_HOME := $(CURDIR)
export PATH := $(CURDIR)/.tools/bin:$(PATH)
# kafkajs 2.2.4 sets negative timeouts when idle; Node >= 23 warns each time (harmless).
NODE := node --disable-warning=TimeoutNegativeWarning
SETUP_STAMP := .tools/setup.stamp

.DEFAULT_GOAL := help
.PHONY: help setup up down clean logs ddl processor-run producer producer-high chclient console-url dlq reprocess rebuild-metrics demo test test-chaos bench typecheck lint format

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-15s %s\n", $$1, $$2}'
	@echo "  (INFRA_MODE and the other settings: .env, see .env_template; the environment wins)"

$(SETUP_STAMP): package.json pnpm-lock.yaml pnpm-workspace.yaml infra/kafka/pom.xml $(wildcard packages/*/package.json) packages/processor/test/python/requirements.txt
	@bash scripts/setup.sh
	@touch $@

# The console's page, rebuilt when its sources change (make setup builds it the first time).
CONSOLE := packages/dashboard/dist/index.html
$(CONSOLE): $(SETUP_STAMP) $(shell find packages/dashboard/web packages/dashboard/scripts -type f 2>/dev/null)
	@pnpm -s --filter @rtoa/dashboard build >/dev/null

setup: ## Install Node 24, pnpm, dependencies, the Kafka jars and the test clients (idempotent)
	@bash scripts/setup.sh
	@touch $(SETUP_STAMP)

up: $(SETUP_STAMP) ## Start the infrastructure (local Kafka broker; KAFKA_NODES=3: a 3-node cluster; or docker compose)
	@bash scripts/infra.sh up

down: ## Stop the infrastructure (data is kept)
	@bash scripts/infra.sh down

clean: ## Stop everything and DELETE all data (needs CONFIRM=1 on the command line)
	@CONFIRM="$(if $(filter command line,$(origin CONFIRM)),$$CONFIRM)" bash scripts/infra.sh clean

logs: ## Follow the infrastructure logs
	@bash scripts/infra.sh logs

ddl: $(SETUP_STAMP) ## Apply db/*.sql in order (idempotent; recorded in schema_migrations); with CLICKHOUSE_CLUSTER, db/cluster/*.sql ON CLUSTER
	@$(NODE) packages/cli/src/main.ts ddl

processor-run: $(SETUP_STAMP) $(CONSOLE) ## Run the stream processor in the foreground (Ctrl-C stops it cleanly)
	@$(NODE) packages/processor/src/main.ts

producer: $(SETUP_STAMP) ## Produce simulated events at low load (10/s)
	@set -f; $(NODE) packages/producer/src/main.ts --rate 10 $${ARGS-}

producer-high: $(SETUP_STAMP) ## Produce at high load (RATE=200/s by default; e.g. make producer-high RATE=5000)
	@set -f; $(NODE) packages/producer/src/main.ts --rate "$${RATE:-200}" $${ARGS-}

chclient: $(SETUP_STAMP) ## SQL shell (read-only); one-shot: make chclient Q="SELECT count() FROM raw_events"
	@if [ -n "$${Q-}" ]; then $(NODE) packages/cli/src/main.ts chclient -q "$$Q"; else $(NODE) packages/cli/src/main.ts chclient; fi

console-url: $(SETUP_STAMP) ## Print the operators' console sign-in link (holds the endpoint token)
	@$(NODE) packages/cli/src/main.ts console-url

dlq: $(SETUP_STAMP) ## Show the newest dead letters (LIMIT=20)
	@$(NODE) packages/cli/src/main.ts dlq --limit "$${LIMIT:-20}"

reprocess: $(SETUP_STAMP) ## Replay the topic's records of [FROM, TO) through the processor's stages (DRY_RUN=1: plan only)
	@if [ -z "$${FROM-}" ] || [ -z "$${TO-}" ]; then echo "usage: make reprocess FROM=<time> TO=<time> [DRY_RUN=1]  (<time>: ISO-8601 with offset, or epoch ms; details: node packages/cli/src/main.ts reprocess --help)"; exit 2; fi
	@$(NODE) packages/cli/src/main.ts reprocess --from "$$FROM" --to "$$TO" $(if $(filter 1,$(DRY_RUN)),--dry-run)

rebuild-metrics: $(SETUP_STAMP) ## Recompute metrics_minutely for the minutes of [FROM, TO) from raw_events FINAL (DRY_RUN=1: preview)
	@if [ -z "$${FROM-}" ] || [ -z "$${TO-}" ]; then echo "usage: make rebuild-metrics FROM=<time> TO=<time> [DRY_RUN=1]  (details: node packages/cli/src/main.ts rebuild-metrics --help)"; exit 2; fi
	@$(NODE) packages/cli/src/main.ts rebuild-metrics --from "$$FROM" --to "$$TO" $(if $(filter 1,$(DRY_RUN)),--dry-run)

demo: $(SETUP_STAMP) $(CONSOLE) ## Set up and run everything (broker, DDL, processor, producer) and show QA results until Ctrl-C
	@bash scripts/demo.sh

test: $(SETUP_STAMP) $(CONSOLE) ## Type-check, lint and run all tests (starts a local broker if none runs, stops it after)
	@bash scripts/test.sh

test-chaos: $(SETUP_STAMP) ## Chaos suite on its own broker(s): kills, broker restart, rebalances vs ground truth (PROFILE=full|ci|cluster)
	@PROFILE="$${PROFILE:-full}" $(NODE) packages/chaos/src/main.ts

bench: $(SETUP_STAMP) ## Benchmark on its own broker: latency, throughput, Kafka-engine peer, a ceiling, scale-out, the console's cost (ARGS="--quick": ~4 min)
	@set -f; $(NODE) packages/bench/src/main.ts $${ARGS-}

typecheck: $(SETUP_STAMP) ## TypeScript, strict
	@pnpm -s typecheck

lint: $(SETUP_STAMP) ## Biome lint + format check
	@pnpm -s lint

format: $(SETUP_STAMP) ## Apply Biome formatting and safe fixes
	@pnpm -s format
