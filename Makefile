# digitrec: `make demo` installs everything and starts the Gradio app; `make test` installs
# everything and runs the whole test suite. Both work on a fresh machine with Python 3.11.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DIGITREC_MNIST_DIR ?= $(abspath ../shared/data/mnist)
export DIGITREC_HANDWRITING_DIR ?= $(abspath ../shared/data/handwriting)

.PHONY: install demo test test-fast lint bench notebooks lab flask pygame clean

# The pinned requirements, then this checkout in editable mode (its dependencies are the pins), so
# `digitrec`, `python -m digitrec`, the scripts and the notebooks' kernel import it from anywhere.
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) gradio_app.py

flask: install
	$(PY) -m flask_app

pygame: install
	$(PY) pygame_frontend.py

# JupyterLab refuses to start as root unless told to (containers often run as root).
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: install
	$(VENV)/bin/jupyter lab $(LAB_ROOT) notebooks/

# The linter and formatter first: a tree they complain about fails before any test runs.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Chromium for the browser tests and PostgreSQL for the drawing store's come from Debian
# (Playwright's own browser download is not used).
test: lint
	scripts/install-chromium.sh
	scripts/install-postgresql.sh
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not browser and not slow" tests

bench: install
	$(PY) -m benchmarks

# Re-run every notebook on full data and save its outputs (the committed versions).
notebooks: install
	PYTHONPATH=$(CURDIR) DIGITREC_QUICK=0 $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=7200 notebooks/*.ipynb

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
