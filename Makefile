# BEGIN SOLUTION
# hw2: `make` runs the main job, `make test` runs every test. Both set up .venv first.
# BEGIN PROMPT
# # hw2 starter: `make` runs the public tests into the three logs and zips your submission. It sets up .venv first.
# END PROMPT
# END SOLUTION
#
# Variables: PYTHON3 (interpreter that creates the venv), GPU=1 (install
# tensorflow[and-cuda] for a GPU VM), HW2_DATA_MIRROR (local data folder).
#
# BEGIN SOLUTION
# Whether a log or submission.csv is out of date is decided by content, in Python: a log's
# fingerprint (hw2_submission.py logs) and the own model's run record (--resume auto). So
# these targets always ask, and an unchanged file is never made again, whatever its time stamp.

# The autograder runs student code as an unprivileged user, who must be able to run the venv's
# interpreter: prefer a system one (pyenv's lives in a home folder only its owner may enter).
# BEGIN PROMPT
# # Whether a log is out of date is decided by content: its fingerprint (the code it ran, your
# # username and seed; hw2_submission.py logs). Touching a file reruns nothing; editing one reruns
# # exactly the logs that exercise it.
# END PROMPT
# END SOLUTION
PYTHON3 ?= $(firstword $(wildcard /usr/bin/python3.1[1-9] /usr/local/bin/python3.1[1-9]) python3)
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
export PYTHON := $(abspath $(PY))
export PYTHONPATH := $(CURDIR)

EPOCHS  ?= 1
PRESET  ?= fast
# BEGIN SOLUTION NO PROMPT
RUN     := runs/my_model
# END SOLUTION
ZIP     ?= submission/submission.zip

# BEGIN SOLUTION
.PHONY: all help venv data logs test mutation bench bench-cifar bench-pytorch train-cifar-spec train submission \
        check-submission report autograder grade regrade bench-grade bench-regrade starter similarity clean clean-logs FORCE
# BEGIN PROMPT
# .PHONY: all help venv data logs train-cifar-spec submission check-submission clean clean-logs FORCE
# END PROMPT
# END SOLUTION
.DEFAULT_GOAL := all

# BEGIN SOLUTION
all: submission ## the main job: data, the three logs, the own model (submission.csv), the zip and its check
	@echo "make: done: evaluation logs, submission.csv ($(RUN)/curves.png), $(ZIP) (checked)"
# BEGIN PROMPT
# all: submission ## data, the three logs (failing tests included), your submission.csv if there is one, the zip
#	@echo "make: done: evaluation logs, $(ZIP) (checked; anything unfinished is listed above)"
# END PROMPT
# END SOLUTION

help: ## list the targets
	@grep -E '^[a-z%.-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([^:]+):.*## /  \1\t/' | expand -t 24

# The venv is (re)built when requirements.txt changes, not on every target.
$(STAMP): requirements.txt
	$(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	if [ "$(GPU)" = "1" ]; then $(PY) -m pip install --quiet "tensorflow[and-cuda]==2.21.0"; fi
	cp requirements.txt $@

venv: $(STAMP) ## create .venv with the pinned packages

data: $(STAMP) ## fetch or copy the data into data/ (HW2_DATA_MIRROR=dir for a local mirror)
	./get_dataset.sh

# BEGIN SOLUTION
logs: $(STAMP) | data ## regenerate each evaluation log whose code, username or seed changed
	$(PY) hw2_submission.py logs

evaluation_%.txt: FORCE $(STAMP) | data ## one log (a failing run leaves evaluation_X.txt.failed)
	$(PY) hw2_submission.py logs $@
# BEGIN PROMPT
# logs: $(STAMP) | data ## run the public tests into each log whose code, username or seed changed
#	$(PY) hw2_submission.py logs --partial
#
# evaluation_%.txt: FORCE $(STAMP) | data ## one log (a run that crashes leaves evaluation_X.txt.failed)
#	$(PY) hw2_submission.py logs --partial $@
# END PROMPT
# END SOLUTION

# BEGIN SOLUTION NO PROMPT
# Two pytest-xdist workers: gradings that wait on their boxes' limits overlap with the rest (each
# worker's boxes run as a sandbox identity of its own); more workers need more memory (2-3 GB each).
# One test at a time to a worker: the longest start first (tests/conftest.py), the rest fill in.
TEST_JOBS ?= 2
test: $(STAMP) data ## every test: data step, pytest (unit tests and the public test scripts), TEST_JOBS=2 at once
	$(PY) -m pytest -n $(TEST_JOBS) --maxschedchunk 1

# Mutation testing: mutmut plants one bug at a time in the grading code and runs the quick tests
# that reach it (pyproject.toml says which). mutmut goes into the venv for this target only.
MUTMUT := mutmut==3.8.1
$(VENV)/.mutmut: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check $(MUTMUT)
	touch $@

# The copy (mutants/) reads the project's data through links to its files, in a folder of its own:
# what a test writes into the copy's data/ stays there (and is inside the copy, as the tests
# expect). It runs its scripts (get_dataset.sh) with the project's venv, which has mutmut.
mutation: $(VENV)/.mutmut | data ## plant bugs in the grading code (mutmut, not part of test): score and survivors -> mutants/
	rm -rf mutants/data && mkdir -p mutants/data && cp -rs $(CURDIR)/data/. mutants/data/
	ln -sfn $(CURDIR)/.venv mutants/.venv
	$(VENV)/bin/mutmut run --max-children $(shell nproc)
	$(PY) tests/mutation_report.py

bench: $(STAMP) data ## numpy ops and the Session loop against TensorFlow's, ratios from one run
	$(PY) bench/bench_numpy.py
	$(PY) bench/bench_train_loop.py

bench-cifar: $(STAMP) data ## a whole own-model training (PRESET=fast|accurate|sgd): epochs and seconds to 83/90/94%
	$(PY) bench/bench_cifar.py --preset $(PRESET)

# PyTorch is never the project's: it goes into a venv of its own, for this benchmark only. torch 2.13.0
# is a CPU build where this project is developed; elsewhere PyPI's Linux wheel is a CUDA build
# (several GB): TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu" takes the CPU one.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed:
	$(PYTHON3) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check $(TORCH_PIP_ARGS) torch==2.13.0 \
	  $$(grep -E '^numpy==' requirements.txt | cut -d' ' -f1)
	touch $@

bench-pytorch: $(STAMP) $(BENCH_VENV)/.installed ## our training loop vs PyTorch's step on the accurate net, float32 and bf16
	$(PY) bench/bench_vs_pytorch.py --torch-python $(BENCH_VENV)/bin/python

# END SOLUTION
train-cifar-spec: $(STAMP) data ## the 7.1 model with the 7.2 step for EPOCHS=n, public-test accuracy
	$(PY) hw2_cifar.py --epochs $(EPOCHS)

# BEGIN SOLUTION NO PROMPT
# Continues an interrupted run of the same settings and code; a run of other code is moved to
# $(RUN).old-N, never deleted; a finished run that already wrote this CSV does nothing.
submission.csv: FORCE $(STAMP) | data
	$(PY) hw2_cifar_my_model.py --run $(RUN) --out $@ --resume auto

train: submission.csv ## the own model (default preset) -> submission.csv, runs/my_model/

# END SOLUTION
# BEGIN SOLUTION
submission: logs submission.csv ## build $(ZIP) from the logs and the CSV, checked before it replaces one
	$(PY) hw2_submission.py build --out $(ZIP)
# BEGIN PROMPT
# submission: logs ## build $(ZIP) from the logs and submission.csv, checked before it replaces one
#	$(PY) hw2_submission.py build --partial --out $(ZIP)
# END PROMPT
# END SOLUTION

# BEGIN SOLUTION
check-submission: $(STAMP) ## check any zip: make check-submission ZIP=path
	$(PY) hw2_submission.py check $(ZIP)
# BEGIN PROMPT
# check-submission: $(STAMP) ## check any zip, listing unfinished work: make check-submission ZIP=path
#	$(PY) hw2_submission.py check --partial $(ZIP)
# END PROMPT
# END SOLUTION

# BEGIN SOLUTION NO PROMPT
report: logs submission.csv ## report/hw2_report.md: summaries, accuracies, curves, formulas
	$(PY) hw2_report.py --run $(RUN) --out report/hw2_report.md

# Course staff: the Gradescope autograder (README, "Course staff").
autograder: $(STAMP) | data ## autograder/autograder.zip for Gradescope: make autograder LABELS=path/private_test_y.npy
	@if [ -z "$(LABELS)" ]; then echo "make autograder: give LABELS=path/to/private_test_y.npy" \
	  "(python hw2_data.py private-labels ARCHIVE OUT)" >&2; exit 2; fi
	$(PY) autograder/package.py --labels "$(LABELS)" --out autograder/autograder.zip

grade: $(STAMP) | data ## grade a zip as Gradescope would: make grade [ZIP=path] [LABELS=path] -> grade/results.json
	$(PY) autograder/grade.py "$(ZIP)" $(if $(LABELS),--labels "$(LABELS)") --results grade/results.json

bench-grade: $(STAMP) | data ## wall time and peak memory of grading a zip, per task: make bench-grade [ZIP=] [LABELS=]
	$(PY) bench/bench_grade.py "$(ZIP)" $(if $(LABELS),--labels "$(LABELS)")

bench-regrade: $(STAMP) | data ## a class graded with --jobs 1 and 2: seconds per submission, ratio, same gradebook
	$(PY) bench/bench_regrade.py $(if $(ONLY),--only "$(ONLY)")

# A whole class (README, "Course staff at semester scale"): every submission of Gradescope's export
# graded as Gradescope grades it, JOBS at once; a second run grades only what changed.
JOBS       ?= 1
AUTOGRADER ?= autograder/autograder.zip
regrade: $(STAMP) | data ## grade a class: make regrade EXPORT=export.zip|folder [JOBS=N] [COMPARE=old.csv] -> regrade/
	@if [ -z "$(EXPORT)" ]; then echo "make regrade: give EXPORT=Gradescope's export (zip or folder) or a folder" \
	  "of NAME.zip; the grader's seed and labels come from AUTOGRADER=$(AUTOGRADER) (make autograder)" >&2; exit 2; fi
	$(PY) autograder/regrade.py "$(EXPORT)" --out regrade --jobs $(JOBS) --autograder "$(AUTOGRADER)" \
	  $(if $(COMPARE),--compare "$(COMPARE)") $(if $(SIMILARITY),--similarity "$(SIMILARITY)")

# Course staff: the student release and the similarity check (README, "Course staff").
starter: $(STAMP) ## release/hw2-starter/ and release/hw2-starter.zip: the reference with its solutions taken out
	$(PY) staff/starter.py --out release

similarity: $(STAMP) ## compare every pair of submissions: make similarity SUBMISSIONS=folder of zips -> similarity/
	@if [ -z "$(SUBMISSIONS)" ]; then echo "make similarity: give SUBMISSIONS=folder holding one zip per student" >&2; exit 2; fi
	$(PY) staff/similarity.py "$(SUBMISSIONS)" --out similarity

# END SOLUTION
clean-logs: ## remove the evaluation logs (and failed runs' output)
	rm -f evaluation_*.txt evaluation_*.txt.failed

# BEGIN SOLUTION
clean: clean-logs ## remove everything built here except data/ and .venv: logs, runs/, submission, report
	rm -rf runs report submission.csv $(ZIP) .pytest_cache grade regrade autograder/autograder.zip release similarity mutants
# BEGIN PROMPT
# clean: clean-logs ## remove the logs, runs/ and the zip (never data/, .venv or your submission.csv)
#	rm -rf runs $(ZIP)
# END PROMPT
# END SOLUTION
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +

FORCE:
