# The two commands of the README:  make repro   and   make test
# Both create .venv on first use (pinned torch==2.14.1, torchvision==0.29.1)
# and are safe to run again.
VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: setup check repro test unit demo smoke slow recipes paper latex-deps

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PYTHON) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	$(PYTHON) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

repro: check            ## the full default reproduction: every table and figure
	dvc repro

check: setup            ## validate params.yaml before DVC removes any output
	$(PYTHON) -m layerkd.check params.yaml

test: setup             ## unit tests + the smoke pipeline in a temporary copy
	$(PYTHON) -m pytest -q --durations=15

unit: setup             ## the fast tests only (no smoke pipeline, no PDF build)
	$(PYTHON) -m pytest -q -m "not slow"

demo: setup             ## a quick look: the smoke profile end to end in tmp/demo/ (its paper, notebooks)
	$(PYTHON) -m layerkd.demo tmp/demo --profile profiles/smoke.yaml

smoke: demo             ## the same as make demo

slow: setup             ## the slow tests only (smoke pipelines, PDF); their copies stay in tmp/slow/
	rm -rf tmp/slow && mkdir -p tmp
	$(PYTHON) -m pytest -q -m slow --basetemp=tmp/slow

recipes: setup          ## every documented `dvc exp run` recipe on the smoke profile; copies stay in tmp/recipes/
	rm -rf tmp/recipes && mkdir -p tmp
	$(PYTHON) -m pytest -q --recipes -m recipes --basetemp=tmp/recipes

# `dvc exp show` narrowed to the headline: the spread per task (metrics/spread.json)
# and the distillation settings most often changed (docs/configuration.md).
EXP_COLUMNS := ^(Experiment|mnist|digits|mnist1d|listops|scan|numbers_ro)$$|^distill\.(epochs|lr|a_hid)$$

.PHONY: exp-show
exp-show: setup         ## dvc exp show, the headline columns only
	dvc exp show --no-pager --drop '.*' --keep '$(EXP_COLUMNS)'

.PHONY: bench
bench: setup            ## step cost, students trained together, GFLOP/s, backends -> bench/results.md, generation.md, backends.md
	$(PYTHON) bench/bench.py
	$(PYTHON) bench/generation.py
	$(PYTHON) bench/backends.py

.PHONY: bench-paper
bench-paper: setup      ## on a GPU: the paper's own models, one step each at full size -> bench/paper_scale.md
	$(PYTHON) bench/paper_scale.py

# The PDF of paper/main.tex from the generated tables, figures and macros.
# Needs LaTeX (make latex-deps on Debian/Ubuntu); `make repro` does not. poppler-utils:
# pdftotext, with which the PDF test reads the built pages (type size, margins).
LATEX_PACKAGES := latexmk texlive-latex-base texlive-latex-recommended texlive-fonts-recommended \
                  poppler-utils

paper:                  ## paper/main.pdf (run make repro first for fresh numbers)
	cd paper && latexmk -pdf -interaction=nonstopmode -halt-on-error main.tex

latex-deps:             ## install LaTeX from Debian packages (needs root or sudo)
	command -v latexmk >/dev/null && command -v pdftotext >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(LATEX_PACKAGES); }
