# Two commands: `make run` (the embedded server) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements

.PHONY: run test install

install: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py first_run
	$(PY) manage.py serve

# The layer contract (.importlinter) first: a forbidden import fails the build.
test: $(STAMP)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest
