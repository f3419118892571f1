"""pytest hooks: the public scripts' runs start in the background when the session starts, and the
tests that wait for them run last, so that the runs overlap with every other test (public_runs.py).
Under pytest-xdist the runs are the session's, shared by the workers through files."""
import public_runs

WAITS_FOR_PUBLIC_RUNS = ("tests/test_logs.py::test_public_script", "tests/test_logs.py::test_logs_are_remade",
                         "tests/test_grade.py::test_the_reference_submission")
public_runs.session_folder()   # made by the session's first process: xdist's workers inherit its name


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: item.nodeid.startswith(WAITS_FOR_PUBLIC_RUNS))   # stable: others keep their order


def pytest_collection_finish(session):
    if any(item.nodeid.startswith(WAITS_FOR_PUBLIC_RUNS) for item in session.items):
        public_runs.start()


def pytest_sessionfinish(session, exitstatus):
    if not hasattr(session.config, "workerinput"):   # the session's first process, not an xdist worker
        public_runs.stop()
