# The two commands: `make run` (web + WebSocket + worker + scheduler) and `make test` (the whole suite).
# Both create .venv and install the pinned requirements on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: run test install install-dev check-python migrate clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "News Tunneler needs Python >= 3.11 (found %s); set PYTHON=/path/to/python3.11" % sys.version.split()[0])'

$(PY): | check-python
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt $(PY)
	@echo "Installing requirements into $(VENV) ..."
	$(PIP) -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	@echo "Installing test requirements into $(VENV) ..."
	$(PIP) -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py ensure_admin
	$(PY) manage.py run_stack

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
