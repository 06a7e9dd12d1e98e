# Two commands: `make serve` (set up and run the main job) and `make test` (set up and test).
# Both create .venv if missing and install what they need, bundled models included.
# `make docs` regenerates the demo pictures in docs/ (tests never write into the tree).

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The shared data sets live beside the checkout; tests that need them skip without them.
EARFUL_DATA ?= $(if $(wildcard $(CURDIR)/../shared/data),$(abspath $(CURDIR)/../shared/data),)
export EARFUL_DATA
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup serve test lint typecheck unit browser docs clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml requirements.txt
	$(PY) -m pip install --upgrade pip
	# torch first and pinned: the CPU wheel; a bare `torch` would pull a multi-GB CUDA build.
	$(PY) -m pip install "torch==2.13.0"
	$(PY) -m pip install -e ".[all,dev]"
	touch $(STAMP)

setup: $(STAMP)

serve: setup
	$(PY) -m earful serve --host $(HOST) --port $(PORT)

lint: setup
	$(VENV)/bin/ruff check .

typecheck: setup
	$(VENV)/bin/mypy

unit: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# The demo's browser test drives Debian's Chromium (Playwright's own browser download does
# not work offline). Installed when missing and we may; otherwise that test skips, saying why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	      >/dev/null) || echo "could not install chromium: the browser test will skip"; \
	  else echo "chromium not installed (apt-get install chromium): the browser test will skip"; fi; }

test: lint typecheck browser unit

# The demo pictures in the docs (docs/screenshots/*.png, docs/demo.gif), taken by the browser
# test. `make test` writes its pictures to a temporary folder and leaves these alone; here
# they are replaced, only once every tab has passed, and a missing browser is an error.
docs: setup browser
	EARFUL_DEMO_DOCS=$(CURDIR)/docs $(PY) -m pytest -q -p no:cacheprovider tests/demo/test_browser.py

clean:
	rm -rf $(VENV) outputs .pytest_cache .mypy_cache .ruff_cache
