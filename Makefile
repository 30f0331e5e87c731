# Everyday commands. `make demo` and `make test` work on a fresh Debian 12 with Python 3.11:
# each one creates .venv, installs what is missing and then does its job.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
# pip runs only when a requirements file is newer than this stamp.
STAMP := $(VENV)/.requirements-installed
# Directories that are not ours to translate or compile.
I18N_IGNORE := --ignore=$(VENV) --ignore=staticfiles --ignore=var --ignore=node_modules

export PYTHON

.PHONY: help setup system-packages translations demo test lint format messages bench clean

help:
	@echo "make demo      set up, migrate, seed the demo data and run web + worker + beat"
	@echo "make test      set up, lint, check migrations and run the whole test suite"
	@echo "make lint      ruff check and ruff format --check"
	@echo "make format    ruff check --fix and ruff format"
	@echo "make messages  update the zh_Hans catalogues (makemessages)"
	@echo "make bench     run scripts/bench_*.py"
	@echo "make clean     remove caches and collected static files (keeps .venv and var/)"

system-packages:
	@scripts/system-packages

# Order-only: the package check runs first, but never makes an existing venv look stale.
$(PY): | system-packages
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }

$(STAMP): requirements/*.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -r requirements/test.txt
	touch $@

setup: system-packages $(STAMP)

# .mo files are built, not committed; skipped while the project has no catalogue.
translations: setup
	@if find . -path ./$(VENV) -prune -o -name '*.po' -print -quit | grep -q .; then \
		$(MANAGE) compilemessages $(I18N_IGNORE); \
	fi

demo: setup translations
	$(MANAGE) migrate --noinput
	$(MANAGE) ledger_baseline
	$(MANAGE) createcachetable
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) seed_demo
	$(MANAGE) seed_matters 24 --if-empty
	$(MANAGE) seed_watch_demo
	$(MANAGE) seed_workdesk_demo
	exec $(PY) scripts/run_demo.py

test: setup translations lint
	$(MANAGE) makemigrations --check --dry-run
	$(PY) -m pytest -n 2 -p no:randomly

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: setup
	$(MANAGE) makemessages -l zh_Hans --no-location --no-obsolete $(I18N_IGNORE)

bench: setup
	@found=; for script in scripts/bench_*.py; do \
		[ -e "$$script" ] || continue; found=1; \
		echo "== $$script"; PYTHONPATH=. $(PY) "$$script" || exit 1; \
	done; [ -n "$$found" ] || echo "No scripts/bench_*.py yet."

clean:
	rm -rf staticfiles .pytest_cache .ruff_cache test-results
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
