"""Runs of the public test scripts for test_logs.py and the reference's grading, started in the
background when the session starts.

Each run is the student's command, `python tests/hw2_test_X.py`, in a fresh process. The CIFAR
script trains a real model; started at once, both together, the runs overlap with the unit tests,
and the tests that check them wait for their results.

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
from autograder.grade import thread_environment  # noqa: E402
from hw2_data import atomic_write_text  # noqa: E402

# The logs whose scripts run here, the longest first, once each. Their second run is the full
# grading's re-run in the box (test_grade.test_the_reference_submission...), which must print the
# same numbers: that is the determinism check. The MNIST script does not run here: its tests train
# both MNIST models (minutes), and they run once, in that grading's box, where 5.1's and 5.2's
# points need each of them OK; its log there is forged, as a student could.
LOGS_RUN = ["evaluation_cifar.txt", "evaluation_numpy.txt"]
TIMEOUT = 1800
PARALLEL = 2
# The threads every TensorFlow and numpy of the suite may use (conftest.py, these runs, the gradings'
# boxes): beside the unit tests, pools sized for every core would oversubscribe the cores
# (TensorFlow's spin while they wait). The count changes how sums are split, so a log and its
# re-run in the box print the same numbers only with the same count.
THREADS = 1
FOLDER_VARIABLE = "HW2_PUBLIC_RUNS"


def session_folder():
    """The session's folder for the runs' results and records (made by the session's first process)."""
    if not os.environ.get(FOLDER_VARIABLE):
        os.environ[FOLDER_VARIABLE] = tempfile.mkdtemp(prefix="hw2-test-runs-")
    return os.environ[FOLDER_VARIABLE]


def result_path(folder, log):
    return os.path.join(folder, f"{log}.json")


def run_script(folder, log):
    """Run the log's public test script as a student does; write {code, stdout, stderr} to its file."""
    env = {**os.environ, **thread_environment(THREADS), "PYTHONPATH": ROOT, "HW2_RUNS_DIR": os.path.join(folder, "runs")}
    try:
        process = subprocess.run([sys.executable, hw2_submission.LOGS[log]], cwd=ROOT, env=env, text=True,
                                 capture_output=True, timeout=TIMEOUT)
        record = {"code": process.returncode, "stdout": process.stdout, "stderr": process.stderr}
    except subprocess.TimeoutExpired as expired:
        record = {"code": None, "stdout": str(expired.stdout or ""), "stderr": f"timed out after {TIMEOUT} s"}
    except OSError as error:   # the test that waits says so, rather than waiting out its limit
        record = {"code": None, "stdout": "", "stderr": f"could not run {hw2_submission.LOGS[log]}: {error}"}
    atomic_write_text(result_path(folder, log), json.dumps(record))   # whole or absent to a reader


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


def result(log):
    """(exit code, stdout, stderr) of the run of log's script, waiting for it (started now if nothing
    started it)."""
    start()
    path, deadline = result_path(session_folder(), log), time.monotonic() + 2 * TIMEOUT
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no result of {log}'s run after {2 * TIMEOUT} s")
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
    """The runner: a run of each script of LOGS_RUN, PARALLEL at a time; each child in this process's session."""
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        for future in [pool.submit(run_script, folder, log) for log in LOGS_RUN]:
            future.result()


if __name__ == "__main__":
    main(sys.argv[1])
