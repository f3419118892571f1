"""The public test scripts, each run as the student runs it (a fresh process): every test passes, and
the log is complete and carries the right fingerprint. That a second fresh run prints the same log
is checked by the full grading (test_grade), whose box runs each script again on the same code.

pytest does not collect the scripts themselves (pytest.ini); their runs start in the background
when the session starts (public_runs.py). The MNIST script's tests run in the full grading's box
instead, not here: they train both MNIST models, and one run of them is what the suite can afford.
"""
import os
import subprocess
import sys

import pytest

import hw2_submission
import hw2_utils
import public_runs



@pytest.mark.parametrize("log", public_runs.LOGS_RUN)
def test_public_script_passes_with_a_complete_current_log(log):
    code, out, err = public_runs.result(log)
    assert code == 0 and "FAIL" not in out, out + err
    with open(os.path.join(hw2_utils.ROOT, hw2_submission.LOGS[log]), "rb") as stream:
        expected_tests = hw2_submission.script_tests(stream.read())
    assert hw2_submission.check_log(log, out, hw2_submission.project_file_or_none, expected_tests) == ([], [])


def copy_project(tmp_path):
    """The project's sources and public test scripts in a fresh folder (no data: the numpy log needs none)."""
    import shutil
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    for name in os.listdir(hw2_utils.ROOT):
        if name.startswith("hw2_") and name.endswith(".py"):
            shutil.copy(os.path.join(hw2_utils.ROOT, name), project / name)
    for name in ("hw2_test_numpy.py", "reference.py"):
        shutil.copy(os.path.join(hw2_utils.ROOT, "tests", name), project / "tests" / name)
    return project


def update_numpy_log(project):
    return subprocess.run([sys.executable, "hw2_submission.py", "logs", "evaluation_numpy.txt"], cwd=project,
                          env={**os.environ, "PYTHONPATH": str(project)}, capture_output=True, text=True, timeout=600)


def test_logs_are_remade_by_content_not_by_time(tmp_path):
    """`make evaluation_numpy.txt` runs `hw2_submission.py logs`: a current log (here the background
    run's output, which the script writes) is kept, a touched file changes nothing, a failing run keeps
    the good log and writes LOG.failed, and an edited source reruns the script."""
    project = copy_project(tmp_path)
    log = project / "evaluation_numpy.txt"
    code, out, _ = public_runs.result("evaluation_numpy.txt")
    assert code == 0
    log.write_text(out)
    written = log.stat().st_mtime_ns
    os.utime(project / "hw2_utils.py")                  # newer, same content
    again = update_numpy_log(project)
    assert again.returncode == 0 and "up to date" in again.stdout and log.stat().st_mtime_ns == written
    good = log.read_bytes()
    source = (project / "hw2_numpy.py").read_text()
    (project / "hw2_numpy.py").write_text(source.replace("    out = np.maximum(x, x.dtype.type(0))",
                                                         "    out = np.maximum(x, x.dtype.type(1))"))
    failed = update_numpy_log(project)
    assert failed.returncode == 1 and "tests failed" in failed.stderr
    assert log.read_bytes() == good and "FAIL" in (project / "evaluation_numpy.txt.failed").read_text()
    (project / "hw2_numpy.py").write_text(source + "\n# an edit\n")
    remade = update_numpy_log(project)
    assert remade.returncode == 0 and "running" in remade.stdout
    assert log.read_bytes() != good and not (project / "evaluation_numpy.txt.failed").exists()
