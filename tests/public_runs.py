"""Runs of the public test scripts for test_logs.py and the reference's grading, started in the
background when the session starts.

Each run is the student's command, `python tests/hw2_test_X.py`, in a fresh process. They train
real models and take most of the suite's time, while many unit tests leave a core idle; started
at once (two at a time, longest first) they overlap with the unit tests, and the tests that check
them wait for their results.

The runs belong to the session, not to a test process: with pytest-xdist every worker asks for
them, the first to ask starts one runner (`python tests/public_runs.py FOLDER`, a process of its
own, under a lock in FOLDER), and each run's result is a JSON file there that any worker reads.
FOLDER comes from the environment the workers inherit; the session's first process (the xdist
controller, or pytest alone) makes it and ends the runner when the session ends.
"""
import concurrent.futures
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT]
import hw2_submission  # noqa: E402
from hw2_data import atomic_write_text  # noqa: E402

# (log, run number): what the tests check. Two runs of a script for the determinism test; the
# longest first. The MNIST script has none: its tests train both MNIST models (minutes), and they
# run once, in the one full grading's box (test_grade.test_the_reference_submission...), where
# 5.1's and 5.2's points need each of them OK; its log there is forged, as a student could.
RUNS = [("evaluation_cifar.txt", 1), ("evaluation_cifar.txt", 2),
        ("evaluation_numpy.txt", 1), ("evaluation_numpy.txt", 2)]
LOGS_RUN = sorted({log for log, _ in RUNS})
TIMEOUT = 1800
PARALLEL = 2
# Each run on one core: beside the unit tests, thread pools sized for every core would oversubscribe
# them (TensorFlow's pools spin while they wait). Both runs of a script use the same setting.
ONE_CORE = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}
FOLDER_VARIABLE = "HW2_PUBLIC_RUNS"


def session_folder():
    """The session's folder for the runs' results and records (made by the session's first process)."""
    if not os.environ.get(FOLDER_VARIABLE):
        os.environ[FOLDER_VARIABLE] = tempfile.mkdtemp(prefix="hw2-test-runs-")
    return os.environ[FOLDER_VARIABLE]


def result_path(folder, log, number):
    return os.path.join(folder, f"{log}.{number}.json")


def run_script(folder, log, number):
    """Run the log's public test script as a student does; write {code, stdout, stderr} to its file."""
    env = {**os.environ, **ONE_CORE, "PYTHONPATH": ROOT, "HW2_RUNS_DIR": os.path.join(folder, "runs")}
    try:
        process = subprocess.run([sys.executable, hw2_submission.LOGS[log]], cwd=ROOT, env=env, text=True,
                                 capture_output=True, timeout=TIMEOUT)
        record = {"code": process.returncode, "stdout": process.stdout, "stderr": process.stderr}
    except subprocess.TimeoutExpired as expired:
        record = {"code": None, "stdout": str(expired.stdout or ""), "stderr": f"timed out after {TIMEOUT} s"}
    except OSError as error:   # the test that waits says so, rather than waiting out its limit
        record = {"code": None, "stdout": "", "stderr": f"could not run {hw2_submission.LOGS[log]}: {error}"}
    atomic_write_text(result_path(folder, log, number), json.dumps(record))   # whole or absent to a reader


def start():
    """Start the runner for this session unless a process already has (idempotent, any process)."""
    folder = session_folder()
    with open(os.path.join(folder, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(folder, "runner.pid")):
            return
        runner = subprocess.Popen([sys.executable, os.path.abspath(__file__), folder], cwd=ROOT,
                                  start_new_session=True, stdin=subprocess.DEVNULL)
        with open(os.path.join(folder, "runner.pid"), "w") as stream:
            stream.write(str(runner.pid))


def result(log, number=1):
    """(exit code, stdout, stderr) of that run, waiting for it (started now if nothing started it)."""
    start()
    path, deadline = result_path(session_folder(), log, number), time.monotonic() + 2 * TIMEOUT
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no result of {log} run {number} after {2 * TIMEOUT} s")
        time.sleep(0.5)
    with open(path) as stream:
        record = json.load(stream)
    return record["code"], record["stdout"], record["stderr"]


def stop():
    """End the runner and its runs (the session's first process, at the session's end)."""
    folder = os.environ.get(FOLDER_VARIABLE)
    if not folder:
        return
    try:
        with open(os.path.join(folder, "runner.pid")) as stream:
            os.killpg(int(stream.read()), signal.SIGKILL)
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    shutil.rmtree(folder, ignore_errors=True)


def main(folder):
    """The runner: every run of RUNS, PARALLEL at a time; each child in this process's session."""
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        for future in [pool.submit(run_script, folder, log, number) for log, number in RUNS]:
            future.result()


if __name__ == "__main__":
    main(sys.argv[1])
