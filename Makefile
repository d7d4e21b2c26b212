# LLM Marketplace Gateway — every set-up step a fresh machine needs lives here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMP  := $(VENV)/.installed
SEEDED := .data/.seeded
PYTEST_ARGS ?=

.PHONY: install node-deps run test services services-down services-status lint format bench schema supergraph schema-check clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Embedded default: SQLite under .data/, in-process bus, limits and search.
run: install
	$(BIN)/marketplace-gateway migrate
	test -f $(SEEDED) || ($(BIN)/marketplace-gateway seed --demo && touch $(SEEDED))
	$(BIN)/marketplace-gateway serve --host $(HOST) --port $(PORT)

services:
	bash deploy/local/services.sh up

services-down:
	bash deploy/local/services.sh down

services-status:
	bash deploy/local/services.sh status

# The whole suite, against real PostgreSQL, Redis, Kafka and Elasticsearch started here.
test: install node-deps services
	set -a && . deploy/local/services.env && set +a && $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy graph subgraphs resolvers persistence subscriptions

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: install
	$(BIN)/marketplace-gateway schema > schema.graphql

# Apollo composition and Apollo Gateway (deploy/federation), pinned by its package-lock.json.
NODE_DEPS := deploy/federation/node_modules/.package-lock.json

node-deps: $(NODE_DEPS)

$(NODE_DEPS): deploy/federation/package-lock.json
	npm ci --no-audit --no-fund --prefix deploy/federation

supergraph: install node-deps
	$(BIN)/python deploy/federation/subgraph_sdls.py | node deploy/federation/compose.mjs --out deploy/supergraph.graphql

schema-check: install
	$(BIN)/python deploy/schema_evolution.py

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .data
