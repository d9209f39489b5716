# Two commands do all the set-up on a fresh machine:
#   make demo   -> create .venv, install, run the main job on embedded defaults
#   make test   -> create .venv, install, run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_OUT ?= demo-out
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: demo test bench install clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements-nodeps.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,bench]' 2>&1 | { grep -v 'is ignored' || true; }
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements-nodeps.txt 2>&1 | { grep -v 'is ignored' || true; }
	$(PY) -c "import distillguard, polars, stix2, pytest" 
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/distillguard demo --out $(DEMO_OUT)

# lint and strict type check first (a few seconds): CI (.ci/run) runs exactly this target
test: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy src
	$(VENV)/bin/pytest -n 2 -p no:cacheprovider

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(DEMO_OUT)
