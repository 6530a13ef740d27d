# The two commands of the README:
#   make run    install everything and open Crosscurrent (server + window) on the default data folder
#   make test   install what the tests need and run them
PYTHON ?= python3
VENV := .venv
PIP := $(VENV)/bin/pip

.PHONY: run serve test test-fast install install-test bench bench-quick extensions clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

install: $(VENV)/bin/python
	bash packaging/install-system.sh run
	$(PIP) install -q -e .

install-test: $(VENV)/bin/python
	bash packaging/install-system.sh test
	$(PIP) install -q -e '.[test]'
	cd packaging && npm ci --no-audit --no-fund --loglevel=error

run: install
	$(VENV)/bin/crosscurrent

serve: install
	$(VENV)/bin/crosscurrent serve

# The tests, then the quick benchmarks: they fail when a quality figure drops below bench/floors.json.
test: install-test
	$(VENV)/bin/pytest -q
	$(VENV)/bin/python -m bench all --quick --skip-without-data

# Unit tests only: no browser, no window, no model.
test-fast: install-test
	$(VENV)/bin/pytest -q -m "not model and not browser and not window"

bench: install-test
	$(VENV)/bin/python -m bench all

bench-quick: install-test
	$(VENV)/bin/python -m bench all --quick

extensions: $(VENV)/bin/python
	$(VENV)/bin/python packaging/build_extensions.py

clean:
	rm -rf build dist *.egg-info .pytest_cache
