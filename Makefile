# Two commands do all the set-up on a fresh machine (Python 3.11+ with venv):
#   make demo   go/no-go on the flagship promotion and its remediated twin (simulation + live window)
#   make test   lint (ruff), type-check (mypy) and run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo compare test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The flagship is expected to say NO-GO (exit 1) and its twin GO (exit 0); anything else
# (bad input 2, environment 3, inconclusive 4, interrupted 130) stops the demo.
demo: $(STAMP)
	$(BIN)/scanrush check scenarios/mall_promo.yaml -o results/flagship-check; test $$? -eq 1
	$(BIN)/scanrush check scenarios/mall_promo_fixed.yaml -o results/twin-check
	@echo "flagship: NO-GO, report in results/flagship-check/report.html"
	@echo "twin:     GO,    report in results/twin-check/report.html"

# Simulation only: the flagship against its twin, paired differences with common random numbers.
compare: $(STAMP)
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
