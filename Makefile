# dadan — two commands do all the set-up on a fresh machine:
#   make run    create .venv, install, open the app on a loopback demo platform (orders, e-waybills)
#   make test   create .venv, install system + test dependencies, run the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DEMO_HOME ?= $(CURDIR)/.dadan

.PHONY: run test lint venv system-deps bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

venv: $(BIN)/.installed

system-deps:
	bash scripts/system-deps.sh

run: venv
	@bash scripts/system-deps.sh --optional
	DADAN_HOME=$${DADAN_HOME:-$(DEMO_HOME)} $(BIN)/dadan demo --platform --orders 400

lint: venv
	$(BIN)/ruff check --no-cache .

test: venv system-deps
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: venv system-deps
	@for b in bench/bench_render.py bench/bench_print.py bench/bench_waybill.py bench/bench_sync.py \
	          bench/bench_import.py bench/bench_all.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
