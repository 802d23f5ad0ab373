# `make demo` and `make test` set everything up themselves on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test test-all lint docs clean

$(STAMP): pyproject.toml
	@echo "installing siteopt and its dependencies into $(VENV) (a minute or two, quietly) …"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# uv resolves and installs the same versions as pip in seconds rather than most of a
	@# minute (a fresh machine's setup is part of make test's five minutes); pip if uv fails
	$(BIN)/python -m pip install --quiet uv && \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test]' || \
	  $(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/siteopt solve scenarios/base.yaml

# the everyday suite on 2 cores (a test file per worker; tests/conftest.py keeps the files that
# read the solved base plan on one worker); `test-all` adds the long checks marked slow (the
# funded scenario end to end, re-planning a synthetic M portfolio, the whole plan.xlsx rendered)
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" -n $(TEST_WORKERS) --dist loadfile

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

docs: $(STAMP)
	$(BIN)/python -m siteopt.inputs.schema_docs
	$(BIN)/python -m siteopt.model.docs

lint: $(STAMP)
	$(BIN)/ruff check siteopt tests

clean:
	rm -rf $(VENV) out build *.egg-info
