# Two commands do all the set-up on a fresh machine (Python 3.11+ with venv):
#   make demo   simulate the flagship promotion and its remediated twin, print the summary
#   make test   lint (ruff), type-check (mypy) and run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/scanrush sim scenarios/mall_promo.yaml --against scenarios/mall_promo_fixed.yaml

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n auto

bench: $(STAMP)
	$(BIN)/python benchmarks/sim_throughput.py
	$(BIN)/python benchmarks/tcp_model.py
	$(BIN)/python benchmarks/histogram_record.py

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache .ruff_cache
