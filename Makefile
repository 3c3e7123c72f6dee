# The two commands a newcomer needs (README.md):
#   make run   install, migrate, seed a demo and serve http://127.0.0.1:8000 with a huey consumer
#   make test  install test tools and run ruff and the whole pytest suite
# Set DATABASE_URL / REDIS_URL to use PostgreSQL / Redis (see docs/configuration.md).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DEMO_SUBJECTS ?= 8

.PHONY: run test install install-dev browser

run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	$(PY) manage.py import_face_corpus --limit $(DEMO_SUBJECTS)
	./scripts/run_demo.sh

test: install-dev browser
	$(VENV)/bin/ruff check .
	DJANGO_PROFILE=test $(VENV)/bin/pytest $(PYTEST_ARGS)

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

# Debian's Chromium for the browser tests; Playwright never downloads a browser here.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }
