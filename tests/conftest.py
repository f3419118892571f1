"""pytest hooks: the public scripts' runs start in the background when the session starts, and the
tests that only read their results run last, so that the runs overlap with every other test
(public_runs.py). Under pytest-xdist the runs are the session's, shared by the workers through files.

The tests that take minutes start first, each on a worker of its own, and the short tests fill in
around them instead of queueing behind them at the end. `make test` has xdist hand out the tests
in order (`--maxschedchunk 1`), keeping two queued per worker: the first worker gets places 0
and 1, the second 2 and 3, and so on, so the long tests go to places 0, 2, 4..."""
import os

import public_runs
from autograder import grade, sandbox

FULL_GRADING = "tests/test_grade.py::test_the_reference_submission"   # grades the public runs' logs
LONGEST = (FULL_GRADING, "tests/test_my_model.py::test_resume_gives_the_same_weights")
READS_PUBLIC_RUNS = ("tests/test_logs.py::test_public_script", "tests/test_logs.py::test_logs_are_remade")
WAITS_FOR_PUBLIC_RUNS = READS_PUBLIC_RUNS + (FULL_GRADING,)
public_runs.session_folder()   # made by the session's first process: xdist's workers inherit its name
os.environ.update(grade.thread_environment(public_runs.THREADS))   # before TensorFlow's first import, inherited


def pytest_collection_modifyitems(session, config, items):
    longest = [item for item in items if item.nodeid.startswith(LONGEST)]
    last = [item for item in items if item.nodeid.startswith(READS_PUBLIC_RUNS)]
    others = [item for item in items if item not in longest and item not in last]   # in their own order
    ordered = []
    for item in longest:
        ordered += [item] + others[:1]
        others = others[1:]
    items[:] = ordered + others + last


def pytest_collection_finish(session):
    if any(item.nodeid.startswith(WAITS_FOR_PUBLIC_RUNS) for item in session.items):
        public_runs.start()


def pytest_sessionfinish(session, exitstatus):
    sandbox.stop_adopting_orphans()   # mutmut forks its workers from this process once the session ends
    if not hasattr(session.config, "workerinput"):   # the session's first process, not an xdist worker
        public_runs.stop()
