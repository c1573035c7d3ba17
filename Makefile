# kraken-ws developer tasks. `make help` lists them.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PY      = $(BIN)/python
STAMP   = $(VENV)/.installed
export PYTHONASYNCIODEBUG ?= 1

.DEFAULT_GOAL := help

.PHONY: help install test lint types schemas check-schemas bench chaos demo demo-gateway serve docs clean

help: ## list targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-15s %s\n", $$1, $$2}'

# The editable install is hatchling's: a .pth entry naming this folder, which mypy, pyright and
# IDEs follow from scripts anywhere (pyproject.toml's [build-system] says why). The egg-info that
# the former setuptools build left here would be a second, stale kraken-ws on sys.path.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	rm -rf kraken_ws.egg-info
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the package with its dev extra

test: $(STAMP) ## run the test suite (sets up .venv first)
	$(BIN)/pytest -q -p no:cacheprovider

lint: $(STAMP) ## ruff + mypy --strict over kraken_ws/ and examples/
	$(BIN)/ruff check kraken_ws tests examples benchmarks tools
	$(BIN)/ruff format --check kraken_ws
	$(BIN)/mypy kraken_ws examples

schemas: $(STAMP) ## regenerate schemas/ from the models
	$(PY) tools/gen_schemas.py schemas

check-schemas: $(STAMP) ## fail if schemas/ drifted from the models
	$(PY) tools/gen_schemas.py --check schemas

bench: $(STAMP) ## print throughput/latency figures against baselines measured in the same run
	PYTHONASYNCIODEBUG= $(PY) -m benchmarks

chaos: $(STAMP) ## order-safety chaos soak: 500 orders in 60 s through faulty proxies, not in CI (CHAOS_ARGS="--seed 3")
	PYTHONASYNCIODEBUG= $(PY) -m benchmarks.chaos_orders $(CHAOS_ARGS)

demo: $(STAMP) ## live checksum-verified BTC/USD book from the embedded local exchange (DEMO_SECONDS=N stops it)
	PYTHONASYNCIODEBUG= $(BIN)/kraken-ws book BTC/USD $(if $(DEMO_SECONDS),--duration $(DEMO_SECONDS))

demo-gateway: $(STAMP) ## nats-server + gateway (embedded exchange) + two readers of BTC/USD, for DEMO_SECONDS (default 15)
	@set -e; dir=$$(mktemp -d); secs=$${DEMO_SECONDS:-15}; \
	$(BIN)/nats-server -js -a 127.0.0.1 -p 4333 -sd $$dir > $$dir/nats.log 2>&1 & nats=$$!; \
	trap 'kill $$nats 2>/dev/null; wait $$nats 2>/dev/null; rm -rf $$dir' EXIT; sleep 1; \
	PYTHONASYNCIODEBUG= $(BIN)/kraken-ws gateway --nats-url nats://127.0.0.1:4333 --book BTC/USD --depth 25 --duration $$((secs + 2)) & gw=$$!; \
	PYTHONASYNCIODEBUG= $(PY) -m kraken_ws.gateway --nats-url nats://127.0.0.1:4333 --book BTC/USD --depth 25 --duration $$secs --name reader-1 & r1=$$!; \
	PYTHONASYNCIODEBUG= $(PY) -m kraken_ws.gateway --nats-url nats://127.0.0.1:4333 --book BTC/USD --depth 25 --duration $$secs --name reader-2 & r2=$$!; \
	wait $$r1 $$r2 $$gw

docs: $(STAMP) ## build the documentation site into site/ (mkdocs build --strict, offline)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build *.egg-info
