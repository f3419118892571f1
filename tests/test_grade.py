"""The autograder (autograder/grade.py) on real submissions: the reference scores 34/34, a broken
function loses exactly its points, and an adversarial corpus built from the reference leaves each
attacked part at 0, the honest parts at their points and the grader's files, labels and results
untouched; and every rule that decides points, made to bite in this process (no box).

One full grading (the reference's) re-runs all three public scripts in the box (minutes; the
suite's only run of the MNIST script's tests, which train both MNIST models); the others grade
only the parts they are about (`selected`), several attacks a grading where they cannot mask
each other, with short limits, and their logs are forged the way a cheating student would: a
correct fingerprint of the submitted sources and OK for every test. The private labels are stood
in for: the public-test labels for the full grading, random labels (a byte pattern found nowhere
else) for the attacks.
"""
import dataclasses
import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
import zipfile

import numpy as np
import pytest

import hw2_submission
import hw2_utils
import public_runs
from autograder import grade, intake, sandbox, scoring
from predictions import csv_bytes, predictions_with

ROOT = hw2_utils.ROOT
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the box's user switch and namespaces need root "
                                "(CI and Gradescope run as root)")
PART2_AND_CSV = frozenset({"6.1", "6.2", "6.3", "6.4", "7.3"})
HONEST_PART2 = {"6.1": 5, "6.2": 2, "6.3": 3, "6.4": 2, "7.3": 10}
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")   # written out: every user may write these


def reference_files():
    """name -> bytes of the reference's own submission files (no logs, no CSV)."""
    return {name: hw2_submission.read_project_file(name) for name in hw2_submission.submission_files()
            if name.endswith((".py", ".sh"))}


def forged_log(log_name, files):
    """What a student could write by hand: the right fingerprint for `files` and OK for every test."""
    user, seed = hw2_submission.read_identity(files["hw2_utils.py"])
    lines = [hw2_submission.fingerprint_line(log_name, user, seed, read=files.get)]
    for test in hw2_submission.script_tests(hw2_submission.read_project_file(hw2_submission.LOGS[log_name])):
        lines += [f"=== BEGIN {test} ===", "OK", f"=== END {test} ==="]
    return ("\n".join(lines) + "\n").encode()


def write_zip(path, members):
    """members: name -> bytes, or name -> (bytes, ZipInfo-adjusting function)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def files_under(top):
    """Regular files under a folder (or the file itself), not following links, caches left out."""
    if not os.path.isdir(top):
        return [top] if os.path.isfile(top) else []
    found = []
    for folder, folders, names in os.walk(top):
        folders[:] = [name for name in folders if name != "__pycache__"]
        found += [os.path.join(folder, name) for name in names
                  if os.path.isfile(os.path.join(folder, name)) and not os.path.islink(os.path.join(folder, name))]
    return found


def snapshot(paths):
    """sha256 of every file under paths (files or folders), to show that grading changed none."""
    found = {}
    for path in (path for top in paths for path in files_under(top)):
        with open(path, "rb") as stream:
            found[path] = hashlib.sha256(stream.read()).hexdigest()
    return found


def reference_tree():
    return [os.path.join(ROOT, name) for name in os.listdir(ROOT) if name.startswith("hw2_") and name.endswith(".py")] \
        + [os.path.join(ROOT, "tests"), os.path.join(ROOT, "autograder")]


def scores(results):
    return {test["number"]: test["score"] for test in results["tests"] if test["max_score"] > 0}


def explain(results):
    """What a failed assertion shows: each test's score and the start of its output."""
    return "\n".join(f"{test['name']}: {test['score']}: {test['output'][:600]}" for test in results["tests"])


def check_results_format(results):
    """results.json as Gradescope's autograder spec defines it (the fields we use, with their types)."""
    assert isinstance(results["score"], (int, float)) and isinstance(results["execution_time"], int)
    assert results["stdout_visibility"] in ("hidden", "visible", "after_due_date", "after_published")
    for test in results["tests"]:
        assert set(test) >= {"name", "number", "score", "max_score", "status", "output", "visibility"}
        assert test["name"].startswith(test["number"] + " ")
        assert test["status"] in ("passed", "failed") and 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in ("hidden", "visible", "after_due_date", "after_published")
    for entry in results.get("leaderboard", []):
        assert set(entry) <= {"name", "value", "order"} and entry.get("order", "desc") in ("asc", "desc")
    assert abs(results["score"] - sum(test["score"] for test in results["tests"])) < 1e-6
    json.dumps(results)


# --------------------------------------------------------------------------- full gradings

def reference_zip(tmp_path):
    """The reference submission with the logs of the session's public runs (the MNIST log forged:
    the suite runs that script's tests only in the grading's box) and a CSV at 84% of the
    public-test labels (which stand in for the private ones)."""
    files = reference_files()
    for log in hw2_submission.LOGS:
        if log not in public_runs.LOGS_RUN:
            files[log] = forged_log(log, files)
            continue
        code, out, err = public_runs.result(log)
        assert code == 0, err[-2000:]
        files[log] = out.encode()
    files["submission.csv"] = csv_bytes(predictions_with(np.load(labels_path()), 0.843), seed=0)
    path = tmp_path / "submission.zip"
    write_zip(path, files)
    return path


def labels_path():
    return os.path.join(hw2_utils.find_dataset([os.path.join(hw2_utils.CIFAR_FOLDER, "public_test_y.npy")]),
                        hw2_utils.CIFAR_FOLDER, "public_test_y.npy")


def grade_zip_cli(zip_path, results_path, *extra):
    process = subprocess.run([sys.executable, os.path.join(ROOT, "autograder", "grade.py"), str(zip_path),
                              "--labels", labels_path(), "--results", str(results_path), "--hidden-seed", "11",
                              "--threads", str(public_runs.THREADS), *extra],
                             cwd=ROOT, capture_output=True, text=True, timeout=1500)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    with open(results_path) as stream:
        return json.load(stream), process.stdout


@needs_root
@pytest.mark.grading
def test_the_reference_submission_scores_full_marks(tmp_path):
    before = snapshot(reference_tree())
    results, printed = grade_zip_cli(reference_zip(tmp_path), tmp_path / "results.json")
    check_results_format(results)
    assert results["score"] == scoring.MAX_SCORE == 34, printed
    assert all(test["status"] == "passed" for test in results["tests"]), printed
    assert scores(results) == {**{exercise.number: exercise.points for exercise in scoring.EXERCISES}, "7.3": 10}
    exact = next(test for test in results["tests"] if test["name"].startswith("7.3 own model: exact"))
    assert exact["visibility"] == "after_due_date" and exact["output"] == "0.8430"
    assert results["leaderboard"] == [{"name": "Private-test accuracy", "value": 0.843, "order": "desc"}]
    manual = [test for test in results["tests"] if "graded by hand" in test["name"]]
    assert [test["max_score"] for test in manual] == [0, 0, 0] and len(manual) == len(scoring.MANUAL)
    assert "34/34" in printed and "7.3 own model: private-test accuracy" in printed   # the table
    assert snapshot(reference_tree()) == before
    # Determinism: the box ran each public script again in a fresh process, with the threads of the
    # session's runs that wrote the logs, and it printed the same numbers test by test (durations
    # aside). The MNIST log is forged (no numbers): its exercises carry notes.
    for exercise in scoring.EXERCISES:
        noted = "printed other numbers" in output_of_results(results, exercise.number)
        assert noted == (exercise.log not in public_runs.LOGS_RUN), (exercise.number, explain(results))


@needs_root
@pytest.mark.grading
def test_a_broken_function_loses_exactly_its_points(tmp_path):
    """relu broken (returns its input): its public test fails in the honestly regenerated log, and
    only 6.2's points go (Part II graded: the other logs are not this test's matter)."""
    source = hw2_submission.read_project_file("hw2_numpy.py").decode()
    broken = source.replace("def relu(x):", "def relu(x):\n    return x.copy()\n\n\ndef _unused_relu(x):", 1)
    assert broken != source
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".venv", "data", "runs", "submission*", ".git",
                                                                  "__pycache__", "report", "mutants"))
    (project / "hw2_numpy.py").write_text(broken)
    run = subprocess.run([sys.executable, "tests/hw2_test_numpy.py"], cwd=project, capture_output=True, text=True,
                         env={**os.environ, "HW2_DATA_DIR": os.path.join(ROOT, "data")}, timeout=600)
    assert run.returncode == 1 and "FAIL" in run.stdout   # test_relu fails: the log says so
    graded = grade_attack(tmp_path, {"hw2_numpy.py": broken}, replace={"evaluation_numpy.txt": run.stdout.encode()})
    expect(graded, {**HONEST_PART2, "6.2": 0})
    assert "test_relu is not OK in evaluation_numpy.txt" in output_of(graded, "6.2")


# --------------------------------------------------------------------------- the adversarial corpus
#
# Several attacks share a grading where they cannot mask each other: each in a module or function of
# its own, each of which the grader runs in a box of its own (a module's import, each Part II
# exercise's hidden cases); one honest exercise stays in each function-level grading, to show that
# the attacks cost nothing beyond their own exercises, so no grading of an honest Part II of its own
# is needed (those honest exercises score under these limits in every grading below). The limits
# are short (fast_budgets) so that the hogs cost seconds.

@dataclasses.dataclass
class Graded:
    results: dict
    root: str
    secret: bytes


def fast_budgets(import_seconds=20):
    """The attacks' limits: short enough that a hang costs seconds, long enough for honest code (a
    box's start-up, TensorFlow's import included, is outside the per-check limit; an import is
    not: import_seconds must leave room for TensorFlow's where a module that imports it is honest)."""
    def shorter(budget, wall, check, processes=128):   # a fork bomb then stops at 128, not 512
        return grade.Budget(dataclasses.replace(budget.limits, wall_seconds=wall, processes=processes), check)
    budgets = dict(grade.BUDGETS)
    budgets["import"] = shorter(budgets["import"], import_seconds, import_seconds)
    budgets["numpy"] = shorter(budgets["numpy"], 30, 2)
    budgets["public_tests"] = shorter(budgets["public_tests"], 120, 2)
    return budgets


def grade_attack(tmp_path, sources=None, extra_members=(), replace=None, selected=PART2_AND_CSV,
                 budgets=None):
    """Grade the reference with attacks: `sources` (name -> source text) replace its modules, extra zip
    members are added ((name or ZipInfo, bytes)), members replaced (name -> bytes). Only `selected`
    is graded, with `budgets` (default fast_budgets()). Returns the results, the grading root and the
    secret labels' bytes; checks on the way that the grader's folders and the reference are unchanged,
    that the labels' content is nowhere the box could write, and that no process of the sandbox
    identity outlives the grading."""
    root = tmp_path / "root"
    paths = grade.Paths.under(str(root))
    os.makedirs(paths.submission)
    os.makedirs(paths.source)
    os.chmod(root, 0o700)
    labels = np.random.default_rng(99).integers(0, 10, 5000)
    np.save(paths.labels, labels)
    os.chmod(paths.labels, 0o600)
    files = reference_files()
    files.update({name: text.encode() for name, text in (sources or {}).items()})
    for log in hw2_submission.LOGS:
        files[log] = forged_log(log, files)
    files["submission.csv"] = csv_bytes(predictions_with(labels, 0.9), seed=0)
    files.update(replace or {})
    with zipfile.ZipFile(os.path.join(paths.submission, "submission.zip"), "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for info, data in extra_members:
            archive.writestr(info, data)
    before = snapshot(reference_tree() + [paths.source])
    started = time.time()
    results = grade.grade_root(paths, hidden_seed=5, selected=selected, budgets=budgets or fast_budgets(),
                               threads=public_runs.THREADS)
    check_results_format(results)
    with open(paths.results) as stream:
        assert json.load(stream) == results   # the grader's own file, whatever the box tried
    assert snapshot(reference_tree() + [paths.source]) == before
    secret = labels.tobytes()
    assert secret not in json.dumps(results).encode()
    # What the box could have written there, had it not had its own. Folders private to us (0700: pytest's
    # own, other gradings' temporary roots) are left out: the box cannot write there, and other gradings
    # running meanwhile (pytest-xdist workers, a regrade) may keep the same labels in them.
    for folder in SHARED_WRITABLE:
        for path in files_under(folder):
            if in_a_folder_closed_to_others(path, folder):
                continue
            assert "hw2-attack" not in path
            data = recent_file(path, started)
            assert data is None or secret[:4000] not in data, path
    if os.geteuid() == 0:
        assert sandbox.user_processes(sandbox.default_identity().uid) == []
    return Graded(results, str(root), secret)


def in_a_folder_closed_to_others(path, shared):
    """Whether a folder between the shared one and path is ours (this process's user) and closed to
    everyone else (mode 0700): the box, another user, can write nothing there."""
    folder = os.path.dirname(os.path.realpath(path))
    shared = os.path.realpath(shared)
    while folder.startswith(shared + os.sep):
        try:
            info = os.stat(folder)
        except FileNotFoundError:
            return False
        if info.st_uid == os.getuid() and info.st_mode & 0o077 == 0:
            return True
        folder = os.path.dirname(folder)
    return False


def recent_file(path, since, max_bytes=2 ** 24):
    """The bytes of a file changed since `since` (at most max_bytes), or None: in a folder other
    processes share, a file listed a moment ago may be gone (the box is dead by then: not its doing)."""
    try:
        if os.path.getmtime(path) < since or os.path.getsize(path) >= max_bytes:
            return None
        with open(path, "rb") as stream:
            return stream.read()
    except FileNotFoundError:
        return None


EXERCISE_OF = {"convolution": "6.1", "relu": "6.2", "max_pool": "6.3", "dropout": "6.4"}


def attacked(functions=None, at_import="", module="hw2_numpy.py"):
    """The reference module's source with `at_import` code appended and each function of `functions`
    (name -> indented-free code) running that code first, then the honest function."""
    source = hw2_submission.read_project_file(module).decode() + "\n\n" + at_import.strip() + "\n"
    for name, body in (functions or {}).items():
        indented = "\n".join("    " + line for line in body.strip().splitlines())
        source += (f"\n\n_honest_{name} = {name}\n\n\ndef {name}(*args, **kwargs):\n{indented}\n"
                   f"    return _honest_{name}(*args, **kwargs)\n")
    return source


def expect(graded, expected):
    assert scores(graded.results) == expected, explain(graded.results)


def output_of(graded, number):
    return output_of_results(graded.results, number)


def output_of_results(results, number):
    return next(test["output"] for test in results["tests"] if test["number"] == number)


HOGS = {
    "endless loop": "while True:\n    pass",
    "20 GB": "_hog = bytearray(20 * 2 ** 30)",
    "fork bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
}
EXITS = {"sys.exit(0)": "import sys\nsys.exit(0)", "os._exit(0)": "import os\nos._exit(0)"}
ALL_ZERO_BUT_7_3 = {**{exercise.number: 0 for exercise in scoring.EXERCISES}, "7.3": 10}


@needs_root
@pytest.mark.grading
def test_hogs_at_import_cost_each_module_its_own_exercises(tmp_path):
    """20 GB in hw2_numpy's import, an endless loop in hw2_mnist's, a fork bomb in hw2_cifar's: each
    costs the exercises of its module, named there with what stopped it; 7.3 (no import) keeps its
    points. No module here imports honestly, so the imports' limit is short: the hang and the bomb
    run to it."""
    graded = grade_attack(tmp_path, {"hw2_numpy.py": attacked(at_import=HOGS["20 GB"]),
                                     "hw2_mnist.py": attacked(at_import=HOGS["endless loop"], module="hw2_mnist.py"),
                                     "hw2_cifar.py": attacked(at_import=HOGS["fork bomb"], module="hw2_cifar.py")},
                          selected=scoring.ALL_PARTS, budgets=fast_budgets(import_seconds=10))
    expect(graded, ALL_ZERO_BUT_7_3)
    for numbers, module, stopped_by in ((("6.1", "6.2", "6.3", "6.4"), "hw2_numpy", "MemoryError"),
                                        (("5.1", "5.2"), "hw2_mnist", "10 s wall-clock limit"),
                                        (("7.1", "7.2"), "hw2_cifar", "10 s wall-clock limit")):
        assert all(f"importing {module}.py" in output_of(graded, number) and stopped_by in output_of(graded, number)
                   for number in numbers), explain(graded.results)


@needs_root
@pytest.mark.grading
def test_exiting_at_import_costs_each_module_its_own_exercises(tmp_path):
    graded = grade_attack(tmp_path, {"hw2_numpy.py": attacked(at_import=EXITS["sys.exit(0)"]),
                                     "hw2_mnist.py": attacked(at_import=EXITS["os._exit(0)"], module="hw2_mnist.py")},
                          selected=PART2_AND_CSV | {"5.1", "5.2"})
    expect(graded, {number: score for number, score in ALL_ZERO_BUT_7_3.items() if number not in ("7.1", "7.2")})
    assert "importing hw2_numpy.py" in output_of(graded, "6.2") and "importing hw2_mnist.py" in output_of(graded, "5.1")


@needs_root
@pytest.mark.grading
def test_hogs_in_functions_cost_only_their_exercises(tmp_path):
    """An endless loop in convolution, 20 GB in max_pool, a fork bomb in dropout: relu, untouched,
    keeps its points (the re-run of the public tests, in one box, must not run out of time)."""
    graded = grade_attack(tmp_path, {"hw2_numpy.py": attacked({"convolution": HOGS["endless loop"],
                                                               "max_pool": HOGS["20 GB"],
                                                               "dropout": HOGS["fork bomb"]})})
    expect(graded, {**HONEST_PART2, "6.1": 0, "6.3": 0, "6.4": 0})


@pytest.fixture
def loopback_server():
    """A server on the grader's loopback that records every connection: (port, connections)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    connections, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connections.append(server.accept())
            except OSError:
                pass
    thread = threading.Thread(target=accept)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join()
    server.close()


def read_the_labels(tmp_path):
    """Code that reads the private labels by path and by searching, then tries to leak them. It
    searches once per process (a public test calls convolution many times), for a second: well within
    a check's limit (fast_budgets), so that were the labels there, the leak and the honest answer
    after it would run, and the points would show it."""
    labels = str(tmp_path / "root" / "source" / "private_test_y.npy")
    return f"""
global _found
if "_found" not in globals():
    import os, time
    _found = []
    for path in [{labels!r}, "/autograder/source/private_test_y.npy"]:
        try:
            _found.append(open(path, "rb").read())
        except OSError:
            pass
    deadline = time.monotonic() + 1
    for top in ("/tmp", "/autograder", {str(tmp_path)!r}, "/"):
        for folder, _, names in os.walk(top):
            if time.monotonic() > deadline:
                break
            for name in names:
                if name == "private_test_y.npy":
                    try:
                        _found.append(open(os.path.join(folder, name), "rb").read())
                    except OSError:
                        pass
    for data in _found:
        for place in ("/tmp/hw2-attack-labels", "/var/tmp/hw2-attack-labels", "/dev/shm/hw2-attack-labels", "leak"):
            try:
                open(place, "wb").write(data)
            except OSError:
                pass
        print(data)
if not _found:
    raise RuntimeError("found no labels")
"""


def write_the_results(tmp_path):
    results = str(tmp_path / "root" / "results" / "results.json")
    return f"""
import json
fake = json.dumps({{"score": 1000, "tests": []}})
written = 0
for path in ({results!r}, "/autograder/results/results.json", "/tmp/hw2-attack-results.json"):
    try:
        open(path, "w").write(fake)
        written += 1
    except OSError:
        pass
if written < 2:
    raise RuntimeError("could not write the grader's results")
"""


@needs_root
@pytest.mark.grading
def test_reading_the_labels_writing_results_and_calling_out_fail(tmp_path, loopback_server):
    """convolution reads the labels by path and by searching, max_pool writes results.json, dropout
    connects to a server on the grader's loopback: each fails and scores 0, relu keeps its points."""
    port, connections = loopback_server
    connect = f'import socket\nsocket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"leak")'
    graded = grade_attack(tmp_path, {"hw2_numpy.py": attacked({"convolution": read_the_labels(tmp_path),
                                                               "max_pool": write_the_results(tmp_path),
                                                               "dropout": connect})})
    assert connections == []
    expect(graded, {**HONEST_PART2, "6.1": 0, "6.3": 0, "6.4": 0})


@needs_root
@pytest.mark.grading
def test_deleting_files_and_printing_results_and_ok_lines_fail(tmp_path):
    """convolution deletes the grader's files; the module prints a results JSON and an OK block at
    import, relu prints OK and returns its input; hw2_cifar.py is 200 MB that compress to kilobytes:
    each scores 0, max_pool and dropout keep their points, the data and the reference stay."""
    delete = f"""
import os, shutil
failures = 0
for path in ({str(tmp_path / 'root')!r}, {os.path.join(ROOT, 'tests')!r}, {os.path.join(ROOT, 'autograder')!r},
             {os.path.join(ROOT, 'data')!r}, {os.path.join(ROOT, 'hw2_numpy.py')!r}):
    try:
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    except OSError:
        failures += 1
if failures:
    raise RuntimeError("could not delete")
"""
    printing = attacked({"convolution": delete}, at_import='print(\'{"score": 34, "tests": []}\')\n'
                        'print("=== BEGIN test_relu ===\\nOK\\n=== END test_relu ===")')
    printing = printing.replace("def relu(x):", "def relu(x):\n    print('OK')\n    return x\n\n\ndef _unused(x):", 1)
    bomb = b"#" * (200 * 2 ** 20)
    graded = grade_attack(tmp_path, {"hw2_numpy.py": printing}, replace={"hw2_cifar.py": bomb},
                          selected=PART2_AND_CSV | {"7.1", "7.2"})
    expect(graded, {**HONEST_PART2, "6.1": 0, "6.2": 0, "7.1": 0, "7.2": 0})
    assert os.path.isfile(os.path.join(ROOT, "data", hw2_utils.MNIST_FILE))
    compressed = os.path.getsize(os.path.join(graded.root, "submission", "submission.zip"))
    assert compressed < 2 ** 20
    assert "hw2_cifar.py: larger than 8 MiB" in graded.results["output"]


@needs_root
@pytest.mark.grading
def test_monkeypatching_numpy_and_the_harness_and_zip_slip_fail(tmp_path):
    """hw2_numpy patches numpy's and unittest's assertions at import and relu returns its input: the
    re-run is fooled (every assertion passes), the hidden cases, judged in the grader, are not.
    Beside it, zip members that slip out of the folder, an absolute path and a link to the labels
    are refused by name, and the rest graded."""
    source = attacked(at_import="""
import numpy as _np, unittest as _unittest
_np.testing.assert_array_almost_equal = lambda *args, **kwargs: None
_np.testing.assert_allclose = lambda *args, **kwargs: None
_np.allclose = lambda *args, **kwargs: True
_np.array_equal = lambda *args, **kwargs: True
for _name in ("assertEqual", "assertTrue", "assertAlmostEqual", "assertIs"):
    setattr(_unittest.TestCase, _name, lambda *args, **kwargs: None)
""")
    source = source.replace("def relu(x):", "def relu(x):\n    return x\n\n\ndef _unused(x):", 1)
    link = zipfile.ZipInfo("labels_link.py")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    extra = [(zipfile.ZipInfo("../../hw2-attack-slip.py"), b"print('slip')"),
             (zipfile.ZipInfo("/tmp/hw2-attack-absolute.py"), b"print('absolute')"),
             (link, str(tmp_path / "root" / "source" / "private_test_y.npy").encode())]
    graded = grade_attack(tmp_path, {"hw2_numpy.py": source}, extra_members=extra)
    expect(graded, {**HONEST_PART2, "6.2": 0})
    assert "folders are not allowed" in graded.results["output"] and "symbolic link" in graded.results["output"]
    assert not os.path.exists(tmp_path / "hw2-attack-slip.py") and not os.path.exists("/tmp/hw2-attack-absolute.py")


@needs_root
@pytest.mark.grading
def test_a_box_killed_from_outside_is_the_graders_failure_not_the_students_0(tmp_path):
    """Something on the machine kills the box mid-task (as two gradings sharing a sandbox user did):
    the results say to contact the course staff, with no score for any test."""
    identity = sandbox.default_identity()
    stop = threading.Event()

    def kill_the_relu_box():
        while not stop.is_set():
            for pid in sandbox.user_processes(identity.uid):
                try:
                    with open(f"/proc/{pid}/cwd/task.json") as stream:
                        if "relu" in stream.read():
                            os.kill(pid, 9)
                            return
                except OSError:
                    pass
            time.sleep(0.02)
    killer = threading.Thread(target=kill_the_relu_box)
    killer.start()
    try:
        graded = grade_attack(tmp_path, {"hw2_numpy.py": attacked({"relu": "import time\ntime.sleep(2)"})},
                              selected=frozenset({"6.2"}))
    finally:
        stop.set()
        killer.join()
    assert graded.results["tests"] == [] and graded.results["output"] == scoring.CONTACT



# --------------------------------------------------------------------------- uploads, CSV, labels, failures

def test_the_upload_may_be_the_zip_or_its_files(tmp_path):
    files = {"hw2_numpy.py": b"x = 1\n", "submission.csv": b"Id,Category\n"}
    (tmp_path / "zip").mkdir()
    write_zip(tmp_path / "zip" / "anything.zip", files)
    assert intake.read_submission(str(tmp_path / "zip")) == (files, [])
    (tmp_path / "files").mkdir()
    for name, data in files.items():
        (tmp_path / "files" / name).write_bytes(data)
    os.symlink("/etc/passwd", tmp_path / "files" / "hw2_utils.py")
    (tmp_path / "files" / "folder").mkdir()
    read, problems = intake.read_submission(str(tmp_path / "files"))
    assert read == files and any("hw2_utils.py: not a plain file" in p for p in problems)
    assert any("folder/: folders are not read" in p for p in problems)
    (tmp_path / "zip" / "second.zip").write_bytes(b"")
    assert "upload one submission.zip" in intake.read_submission(str(tmp_path / "zip"))[1][0]


@pytest.mark.parametrize("mutate, problem", [
    (lambda rows: rows[:1] + rows[:0:-1], None),
    (lambda rows: rows[:-1], "lacks 1 Ids"),
    (lambda rows: rows + [rows[1]], "appears twice"),
    (lambda rows: rows[:1] + ["5000,1"] + rows[2:], "Id must be"),
    (lambda rows: rows[:1] + ["0,10"] + rows[2:], "Category 0-9"),
    (lambda rows: rows[:1] + ["0,1.0"] + rows[2:], "integers"),
    (lambda rows: ["Id,Label"] + rows[1:], "header"),
])
def test_the_csv_is_read_in_any_order_and_strictly(mutate, problem):
    rows = ["Id,Category"] + [f"{i},{i % 10}" for i in range(5000)]
    predictions, found = intake.read_predictions(("\n".join(mutate(rows)) + "\n").encode())
    if problem is None:
        assert found == "" and np.array_equal(predictions, np.arange(5000) % 10)
    else:
        assert predictions is None and problem in found


@pytest.mark.parametrize("accuracy, points", [(0.69, 0), (0.70, 3), (0.749, 3), (0.75, 5), (0.80, 8), (0.83, 10),
                                              (1.0, 10)])
def test_tiers(tmp_path, accuracy, points):
    labels = np.arange(5000) % 10
    np.save(tmp_path / "labels.npy", labels)
    csv = csv_bytes(predictions_with(labels, accuracy))
    entries, leaderboard = scoring.own_model_entries({"submission.csv": csv}, str(tmp_path / "labels.npy"))
    assert entries[0]["score"] == points and leaderboard[0]["value"] == round(accuracy, 4)


def test_without_labels_7_3_says_so_and_scores_0():
    csv = csv_bytes(np.zeros(5000, int))
    entries, leaderboard = scoring.own_model_entries({"submission.csv": csv}, "/nonexistent/labels.npy")
    assert entries[0]["score"] == 0 and "private labels are not available" in entries[0]["output"]
    assert leaderboard == []


def test_a_failing_grader_still_writes_results_json(tmp_path):
    """No hidden seed in the root: the grader cannot run, and says so to the student (score 0)."""
    paths = grade.Paths.under(str(tmp_path))
    results = grade.grade_root(paths)
    with open(paths.results) as stream:
        assert json.load(stream) == results
    assert results["score"] == 0 and scoring.CONTACT in results["output"]


def test_every_public_test_is_covered_by_an_exercise():
    covered = {(exercise.log, test) for exercise in scoring.EXERCISES for test in exercise.public_tests}
    for log, script in hw2_submission.LOGS.items():
        tests = hw2_submission.script_tests(hw2_submission.read_project_file(script))
        assert {(log, test) for test in tests} == {pair for pair in covered if pair[0] == log}


def test_the_autograder_zip_holds_what_gradescope_needs(tmp_path, monkeypatch):
    labels = tmp_path / "private_test_y.npy"
    np.save(labels, np.arange(5000) % 10)
    out = tmp_path / "autograder.zip"
    from autograder import package
    monkeypatch.chdir(tmp_path)   # every member comes from the project, wherever the command runs
    assert package.main(["--labels", str(labels), "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        seed = archive.read("hidden_seed.txt")
        assert {info.date_time for info in archive.infolist()} == {(2020, 1, 1, 0, 0, 0)}   # no build time inside
        assert archive.read("setup.sh") == open(os.path.join(ROOT, "autograder", "setup.sh"), "rb").read()
    assert modes["private_test_y.npy"] & 0o777 == modes["hidden_seed.txt"] & 0o777 == 0o600   # root's alone
    assert modes["setup.sh"] & 0o777 == modes["run_autograder"] & 0o777 == 0o755
    assert modes["data-checksums/MNIST.SHA256SUMS"] & 0o777 == 0o644
    for name in package.reference_files():
        assert modes[name] & 0o777 == (0o755 if os.access(os.path.join(ROOT, name), os.X_OK) else 0o644), name
    assert {"setup.sh", "run_autograder", "autograder/grade.py", "autograder/box_task.py", "hw2_numpy.py",
            "tests/hw2_test_numpy.py", "tests/reference.py", "requirements.txt", "private_test_y.npy",
            "data-checksums/cifar-10-739/SHA256SUMS"} <= set(names)
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111 and int(seed) >= 0
    assert not any(name.startswith(("data/", ".venv", "runs/")) or name.endswith(".npy") and "private" not in name
                   for name in names)
    bad = tmp_path / "bad.npy"
    np.save(bad, np.arange(10))
    assert package.main(["--labels", str(bad), "--out", str(tmp_path / "x.zip")]) == 1
    assert not (tmp_path / "x.zip").exists()


def test_the_autograder_command_names_what_it_lacks_and_where_it_writes(tmp_path, capsys, monkeypatch):
    from autograder import package
    labels = tmp_path / "private_test_y.npy"
    np.save(labels, np.arange(5000) % 10)
    with pytest.raises(SystemExit) as exited:
        package.main([])
    assert exited.value.code == 2 and "error: the following arguments are required: --labels" in capsys.readouterr().err
    out = tmp_path / "a.zip"
    assert package.main(["--labels", str(tmp_path / "none.npy"), "--out", str(out)]) == 1
    assert capsys.readouterr().err == (f"error: no labels at {tmp_path / 'none.npy'}; write them with "
                                       "`python hw2_data.py private-labels`\n")
    assert package.main(["--labels", str(labels), "--out", str(out), "--data", str(tmp_path / "nodata")]) == 1
    assert capsys.readouterr().err == (f"error: {tmp_path / 'nodata'} lacks MNIST.SHA256SUMS, cifar-10-739/SHA256SUMS: "
                                       "run `make data` first (the autograder records which data its labels "
                                       "belong to)\n")
    assert not out.exists()
    assert package.main(["--labels", str(labels), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        count = len(archive.namelist())
    assert printed == (f"{out}: {count} files (setup.sh, run_autograder, the reference, labels, a new hidden seed); "
                       "upload it as the assignment's autograder\n")
    given = []
    monkeypatch.setattr(package, "build", lambda *args: given.append(args) or [])
    assert package.main(["--labels", str(labels)]) == 0
    assert given == [(str(labels), os.path.join(ROOT, "autograder", "autograder.zip"), os.path.join(ROOT, "data"))]


# ------------------------------------------------------------------- rules that decide points, each made to bite

@pytest.mark.parametrize("cell", ["٣", "²", "３", "3.0", "-3", "0x3", "３a"])
def test_a_category_that_is_not_ascii_digits_is_refused_by_name(cell):
    """Unicode digits ("٣" Arabic-Indic three, "²" superscript two, "３" full-width) are digits to
    str.isdigit(); the grader must refuse them with the CSV's problem, never read them or raise."""
    rows = ["Id,Category"] + [f"{i},{cell if i == 7 else i % 10}" for i in range(5000)]
    predictions, found = intake.read_predictions(("\n".join(rows) + "\n").encode())
    assert predictions is None and "line 9: expected 'Id,Category' integers" in found


def test_an_id_in_unicode_digits_is_refused_too():
    rows = ["Id,Category"] + [f"{'٣' if i == 3 else i},{i % 10}" for i in range(5000)]
    predictions, found = intake.read_predictions(("\n".join(rows) + "\n").encode())
    assert predictions is None and "line 5" in found


@pytest.mark.parametrize("points, outcomes, expected", [
    (5, [True, True, False, False], 2.5),        # half the checks: half the points (5 // 4 * 2 would be 2)
    (2, [True, False, False], 0.6667),           # rounded to 4 places
    (3, [False, True, True, True, True], 2.4),
    (2, [False, False], 0),
    (2, [True, True], 2),
])
def test_partial_credit_is_points_in_proportion_to_the_checks_passed(points, outcomes, expected):
    exercise = scoring.Exercise("6.1", "convolution", points, "evaluation_numpy.txt", ())
    grading = scoring.Grading(checks={"6.1": [(f"check {i}", "" if ok else "wrong") for i, ok in enumerate(outcomes)]})
    original = scoring.EXERCISES
    try:
        scoring.EXERCISES = (exercise,)
        entries = scoring.exercise_entries(grading, [], {"6.1"})
    finally:
        scoring.EXERCISES = original
    assert [entry["score"] for entry in entries] == [expected]
    assert entries[0]["status"] == ("passed" if expected == points else "failed")
    assert entries[0]["output"].startswith(f"{sum(outcomes)}/{len(outcomes)} checks passed")
    failed = [line for line in entries[0]["output"].splitlines() if line.startswith("FAILED: ")]
    assert len(failed) == outcomes.count(False)


def test_a_gate_takes_every_point_however_many_checks_pass():
    grading = scoring.Grading(checks={"6.2": [("relu", "")]}, gates={"6.2": "evaluation_numpy.txt is missing"})
    entries = scoring.exercise_entries(grading, [], {"6.2"})
    assert entries[0]["score"] == 0 and entries[0]["output"].startswith("0 points: the log does not back")
    no_checks = scoring.exercise_entries(scoring.Grading(), [], {"6.3"})
    assert no_checks[0]["score"] == 0   # an exercise whose checks never ran earns nothing


def test_a_log_with_exactly_one_problem_does_not_count():
    """Each header problem alone bars the log: stale (code edited after the run), another username,
    another seed; a fresh log of the same files counts."""
    files = reference_files()
    tests = hw2_submission.script_tests(hw2_submission.read_project_file(hw2_submission.LOGS["evaluation_numpy.txt"]))
    files["evaluation_numpy.txt"] = forged_log("evaluation_numpy.txt", files)
    assert intake.submitted_log("evaluation_numpy.txt", files, tests).problem == ""
    stale = {**files, "hw2_numpy.py": files["hw2_numpy.py"] + b"\n# edited after the run\n"}
    problem = intake.submitted_log("evaluation_numpy.txt", stale, tests).problem
    assert "stale" in problem and len(hw2_submission.log_header_problems(
        "evaluation_numpy.txt", stale["evaluation_numpy.txt"].decode().splitlines(), stale.get)) == 1
    user, seed = hw2_submission.read_identity(files["hw2_utils.py"])
    other_seed = files["hw2_utils.py"].replace(f"SEED = {seed}".encode(), f"SEED = {seed + 1}".encode())
    assert other_seed != files["hw2_utils.py"]
    relogged = {**files, "hw2_utils.py": other_seed}
    header = hw2_submission.fingerprint_line("evaluation_numpy.txt", user, seed, read=relogged.get)
    relogged["evaluation_numpy.txt"] = (header + "\n").encode() + files["evaluation_numpy.txt"].split(b"\n", 1)[1]
    problems = hw2_submission.log_header_problems("evaluation_numpy.txt",
                                                  relogged["evaluation_numpy.txt"].decode().splitlines(), relogged.get)
    assert len(problems) == 1 and "hw2_utils.py says" in problems[0]
    assert "hw2_utils.py says" in intake.submitted_log("evaluation_numpy.txt", relogged, tests).problem
    missing = {name: data for name, data in files.items() if name != "evaluation_numpy.txt"}
    assert intake.submitted_log("evaluation_numpy.txt", missing, tests).problem == "evaluation_numpy.txt is missing"


def test_loose_files_win_over_a_stray_zip_in_the_upload(tmp_path):
    """A student who uploads the files and, by mistake, an old zip beside them is graded on the files."""
    files = {"hw2_numpy.py": b"x = 1\n", "submission.csv": b"Id,Category\n"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    write_zip(tmp_path / "old.zip", {"hw2_numpy.py": b"x = 2\n"})
    read, problems = intake.read_submission(str(tmp_path))
    assert read == {**files, "old.zip": (tmp_path / "old.zip").read_bytes()} and problems == []
    assert read["hw2_numpy.py"] == b"x = 1\n"


def test_the_leak_scan_skips_only_folders_closed_to_others(tmp_path):
    shared = tmp_path / "shared"
    closed, open_inside, opened = shared / "closed", shared / "closed" / "open", shared / "opened"
    for folder in (closed, open_inside, opened):
        folder.mkdir(parents=True)
    os.chmod(closed, 0o700)
    os.chmod(open_inside, 0o777)
    os.chmod(opened, 0o1777)
    assert in_a_folder_closed_to_others(str(open_inside / "labels.npy"), str(shared))   # an ancestor is closed
    assert not in_a_folder_closed_to_others(str(opened / "labels.npy"), str(shared))
    assert not in_a_folder_closed_to_others(str(shared / "labels.npy"), str(shared))  # the shared folder itself
    if os.geteuid() == 0:   # a 0700 folder of another user (the box's own) is scanned
        os.chown(closed, 65534, 65534)
        assert not in_a_folder_closed_to_others(str(closed / "labels.npy"), str(shared))
