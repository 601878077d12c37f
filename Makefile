# The two commands of the README:  make repro   and   make test
# Both create .venv on first use (pinned torch==2.14.1, torchvision==0.29.1)
# and are safe to run again.
VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: setup repro test smoke clean-smoke

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PYTHON) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	$(PYTHON) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

repro: setup            ## the full default reproduction: every table and figure
	dvc repro

test: setup             ## unit tests + the smoke pipeline in a temporary copy
	$(PYTHON) -m pytest -q

smoke: setup            ## the smoke profile in a temporary copy (also part of make test)
	$(PYTHON) -m pytest -q -m slow

.PHONY: bench
bench: setup            ## step cost, students trained together, GFLOP/s -> bench/results.md
	$(PYTHON) bench/bench.py
