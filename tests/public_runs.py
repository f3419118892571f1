"""Runs of the public test scripts for test_logs.py, started in the background when the session starts.

Each run is the student's command, `python tests/hw2_test_X.py`, in a fresh process. They train
real models and take most of the suite's time, while many unit tests leave a core idle; started
at once (two at a time, longest first) they overlap with the unit tests, and test_logs.py waits
for the results it checks. conftest.py starts them only when those tests are selected.
"""
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile
import threading

import hw2_submission
import hw2_utils

# (log, run number): what test_logs.py checks. Two runs of a script for the determinism test.
RUNS = [("evaluation_mnist.txt", 1), ("evaluation_cifar.txt", 1), ("evaluation_cifar.txt", 2),
        ("evaluation_numpy.txt", 1), ("evaluation_numpy.txt", 2)]
TIMEOUT = 1800
PARALLEL = 2
# Each run on one core: beside the unit tests, thread pools sized for every core would oversubscribe
# them (TensorFlow's pools spin while they wait). Both runs of a script use the same setting.
ONE_CORE = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}

# Their run records go here, not to the project's runs/: the student's own (from `make`) stay as they are.
RUNS_DIR = tempfile.mkdtemp(prefix="hw2-test-runs-")

_pool = None
_futures = {}
_processes = []
_lock = threading.Lock()


def run_script(log):
    """(exit code, stdout, stderr) of the log's public test script run as a student runs it."""
    process = subprocess.Popen([sys.executable, hw2_submission.LOGS[log]], cwd=hw2_utils.ROOT,
                               env={**os.environ, **ONE_CORE, "PYTHONPATH": hw2_utils.ROOT, "HW2_RUNS_DIR": RUNS_DIR},
                               text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with _lock:
        _processes.append(process)
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()   # no-op once it has exited
    return process.returncode, out, err


def start():
    """Start every run of RUNS in the background (idempotent)."""
    global _pool
    if _pool is None:
        _pool = concurrent.futures.ThreadPoolExecutor(PARALLEL)
        for key in RUNS:
            _futures[key] = _pool.submit(run_script, key[0])


def result(log, number=1):
    """The (exit code, stdout, stderr) of that run, waiting for it (started now if nothing started it)."""
    start()
    return _futures[(log, number)].result(timeout=2 * TIMEOUT)


def stop():
    """End the runs still going (an interrupted or partial session) and the pool."""
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        with _lock:
            for process in _processes:
                process.kill()
    shutil.rmtree(RUNS_DIR, ignore_errors=True)
