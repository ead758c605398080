# The two commands: `make run` (set up and run everything) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000

.PHONY: help run test lint format bench venv clean

help: ## List the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

venv: $(VENV)/.installed ## Create or update the virtual environment

run: venv ## Set up (migrate, policy, demo data, login) and run web + worker + beat
	PORT=$(PORT) $(PY) scripts/run.py

test: venv ## Run ruff and the whole test suite
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv ## Ruff check only
	$(VENV)/bin/ruff check .

format: venv ## Ruff format and fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: venv ## Print the performance figures (see README)
	$(PY) manage.py bench

clean: ## Remove the environment and local data
	rm -rf $(VENV) var
