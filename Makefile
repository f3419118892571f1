# hw2: `make` runs the main job, `make test` runs every test. Both set up .venv first.
#
# Variables: PYTHON3 (interpreter that creates the venv), GPU=1 (install
# tensorflow[and-cuda] for a GPU VM), HW2_DATA_MIRROR (local data folder).

PYTHON3 ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
export PYTHON := $(abspath $(PY))
export PYTHONPATH := $(CURDIR)

LOGS    := evaluation_numpy.txt evaluation_mnist.txt evaluation_cifar.txt
EPOCHS  ?= 1

RUN     := runs/my_model
ZIP     ?= submission/submission.zip

.PHONY: all venv data test bench bench-cifar clean-logs train-cifar-spec train submission check-submission report
.DEFAULT_GOAL := all

# The main job: data, logs, own model, submission.zip, and its check.
all: submission
	@echo "make: done: $(LOGS), submission.csv ($(RUN)/curves.png), $(ZIP) (checked)"

# The venv is (re)built when requirements.txt changes, not on every target.
$(STAMP): requirements.txt
	$(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	if [ "$(GPU)" = "1" ]; then $(PY) -m pip install --quiet "tensorflow[and-cuda]==2.21.0"; fi
	cp requirements.txt $@

venv: $(STAMP)

data: $(STAMP)
	./get_dataset.sh

# A log is written under a temporary name and renamed when the script is done;
# a failing run leaves $@.failed to read and makes make fail.
evaluation_%.txt: tests/hw2_test_%.py hw2_%.py hw2_utils.py hw2_submission.py $(STAMP) | data
	$(PY) tests/hw2_test_$*.py > $@.part || { mv $@.part $@.failed; echo "make: tests failed, see $@.failed"; exit 1; }
	mv $@.part $@
	@rm -f $@.failed

test: $(STAMP) data
	$(PY) -m pytest

bench: $(STAMP) data
	$(PY) bench/bench_numpy.py
	$(PY) bench/bench_train_loop.py

# A whole own-model training (15 min for fast, about 35 for accurate): epochs and seconds to 83/90/94%.
PRESET ?= fast
bench-cifar: $(STAMP) data
	$(PY) bench/bench_cifar.py --preset $(PRESET)

# 7.1 model with the 7.2 train step on CIFAR-10-739 train (EPOCHS=n), public-test accuracy.
train-cifar-spec: $(STAMP) data
	$(PY) hw2_cifar.py --epochs $(EPOCHS)

# The own model (default preset), retrained when its code changes. `--resume auto` continues an
# interrupted run of the same settings and code, and moves any other run to $(RUN).old-N.
submission.csv: hw2_cifar_my_model.py hw2_utils.py hw2_data.py $(STAMP) | data
	$(PY) hw2_cifar_my_model.py --logdir $(RUN) --out $@ --resume auto

train: submission.csv

submission: $(LOGS) submission.csv
	$(PY) hw2_submission.py build --out submission/submission.zip

check-submission: $(STAMP)
	$(PY) hw2_submission.py check $(ZIP)

report: $(LOGS) submission.csv
	$(PY) hw2_report.py --run $(RUN) --out report/hw2_report.md

clean-logs:
	rm -f evaluation_*.txt evaluation_*.txt.failed
