# Two commands: `make run` (the embedded server) and `make test` (the whole suite).
# Both install into .venv from the lock files (requirements.txt: the server;
# requirements-dev.txt: the server and the test tools), made by pip-tools from the .in
# files: after editing a .in file, `make lock`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_TOOLS := pip-tools==7.7.0
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test install install-dev lock

install: $(RUNTIME_STAMP)

install-dev: $(DEV_STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): requirements.in requirements.txt | $(PY)
	$(PY) -m pip install --quiet --require-hashes -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.in requirements.txt requirements-dev.in requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@ $(RUNTIME_STAMP)

run: $(RUNTIME_STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py first_run
	$(PY) manage.py serve

# The layer contract (.importlinter) first: a forbidden import fails the build.
test: $(DEV_STAMP)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

# Pin every package (with hashes) from the .in files; the runtime lock first, since the
# development lock is constrained to it.
lock: | $(PY)
	$(PY) -m pip install --quiet $(PIP_TOOLS)
	$(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements.txt requirements.in
	$(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements-dev.txt requirements-dev.in
