# lens-fast: `make demo` and `make test` work on a fresh clone.
# They create .venv when missing and install the package with its test extras.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# The torch wheels of this machine kind (pip is capped there); override elsewhere,
# e.g. `make test TORCH="torch torchvision"`.
TORCH  ?= torch==2.14.1 torchvision==0.29.1
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lens-fast --version
	bash scripts/demo.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check lens_fast tests bench scripts
	$(VENV)/bin/ruff format --check lens_fast tests bench scripts

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(PY) -m pytest

test: lint typecheck unit

bench: $(STAMP)
	$(PY) bench/bench_objectives.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
