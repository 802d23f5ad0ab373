# `make demo` and `make test` set everything up themselves on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test test-all lint docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/siteopt solve scenarios/base.yaml

# the everyday suite; `test-all` adds the minutes-long checks on synthetic portfolios (slow)
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

test-all: $(STAMP)
	$(BIN)/python -m pytest -q

docs: $(STAMP)
	$(BIN)/python -m siteopt.inputs.schema_docs
	$(BIN)/python -m siteopt.model.docs

lint: $(STAMP)
	$(BIN)/ruff check siteopt tests

clean:
	rm -rf $(VENV) out build *.egg-info
