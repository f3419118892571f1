"""pytest hooks: start the public scripts' background runs when test_logs.py's checks of them are selected."""
import public_runs


def pytest_collection_finish(session):
    if any(item.nodeid.startswith("tests/test_logs.py::test_public_script") for item in session.items):
        public_runs.start()


def pytest_sessionfinish(session, exitstatus):
    public_runs.stop()
