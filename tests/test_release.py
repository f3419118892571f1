"""The student release (staff/starter.py, staff/markers.py): markers refused when they cannot be taken
out cleanly, the starter made from the reference holds only what a student gets, imports, runs its
public tests to the end (every test FAIL, naming its exercise), zips through its own Makefile into a
submission the autograder grades 0, and gives the reference back byte for byte with its solutions."""
import ast
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

import hw2_submission
import hw2_utils
from staff import markers, starter
from test_grade import check_results_format, grade_zip_cli, needs_root, scores

ROOT = hw2_utils.ROOT
EXERCISE_STUBS = {   # what each exercise's first stub says; every auto-graded exercise has one
    "hw2_numpy.py": ["6.1 convolution", "6.1 grayscale_filter", "6.2 relu", "6.3 max_pool", "6.4 dropout"],
    "hw2_mnist.py": ["5.1 build_model_mnist1", "5.1 train_model_mnist1", "5.2 build_model_mnist2",
                     "5.2 train_model_mnist2"],
    "hw2_cifar.py": ["7.1 build_keras_model", "7.2 build_loss_optimizer"],
    "hw2_cifar_my_model.py": ["7.3 main"],
}


# --------------------------------------------------------------------------- markers

def split(text, name="f.py"):
    return markers.split(text, name)


def test_a_block_becomes_a_stub_naming_the_exercise_and_merges_back():
    text = ('import numpy as np\n\n\ndef relu(x):\n    """ReLU."""\n    # BEGIN SOLUTION 6.2\n'
            "    y = np.maximum(x, 0)\n    return y\n    # END SOLUTION\n\n\n# BEGIN SOLUTION NO PROMPT\n"
            "def helper():\n    return 1\n# END SOLUTION\n"
            "def pool(x):\n    return x.max()  # SOLUTION 6.3\n"
            "ONLY_REFERENCE = 1  # SOLUTION NO PROMPT\n")
    starter_text, solutions = split(text)
    assert starter_text == ('import numpy as np\n\n\ndef relu(x):\n    """ReLU."""\n'
                            '    raise NotImplementedError("6.2 relu: your code here")\n\n\n'
                            'def pool(x):\n    raise NotImplementedError("6.3 pool: your code here")\n')
    assert markers.merge(starter_text, solutions) == text


def test_a_stub_names_the_innermost_function_around_it():
    text = ("def outer(x):\n    def inner(y):\n        # BEGIN SOLUTION 6.1\n        return y\n        # END SOLUTION\n"
            "    # BEGIN SOLUTION 6.2\n    return inner(x)\n    # END SOLUTION\n\n\n"
            "class Model:\n    def fit(self):\n        return 1  # SOLUTION 7.3\n")
    starter_text, solutions = split(text)
    stubs = [line.strip() for line in starter_text.splitlines() if "NotImplementedError" in line]
    assert stubs == ['raise NotImplementedError("6.1 inner: your code here")',
                     'raise NotImplementedError("6.2 outer: your code here")',
                     'raise NotImplementedError("7.3 fit: your code here")']
    assert markers.merge(starter_text, solutions) == text


def test_a_prompt_replaces_the_stub_uncommented():
    text = ("all: x\n# BEGIN SOLUTION\nx:\n\treference\n# BEGIN PROMPT\n# x:\n#\tstudent\n#\n# END PROMPT\n"
            "# END SOLUTION\n")
    starter_text, solutions = split(text, "Makefile")
    assert starter_text == "all: x\nx:\n\tstudent\n\n"
    assert markers.merge(starter_text, solutions) == text


BAD_MARKERS = {
    "unbalanced": ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "not closed"),
    "end without begin": ("x = 1\n# END SOLUTION\n", "outside a solution block"),
    "nested": ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n"
               "    # END SOLUTION\n", "nested"),
    "suffix inside a block": ("def f():\n    # BEGIN SOLUTION\n    return 1  # SOLUTION\n    # END SOLUTION\n",
                              "inside the solution block"),
    "misspelled": ("def f():\n    # BEGIN SOLUTIONS\n    return 1\n    # END SOLUTION\n", "looks like a marker"),
    "no space": ("def f():\n    #BEGIN SOLUTION\n    return 1\n", "looks like a marker"),
    "lower case leftover": ("x = 1  # solution\n", "looks like a marker"),
    "prompt outside": ("# BEGIN PROMPT\n# x\n# END PROMPT\n", "outside a solution block"),
    "prompt not closed": ("def f():\n    # BEGIN SOLUTION\n    # BEGIN PROMPT\n    # x = 1\n    # END SOLUTION\n"
                          "    return 1\n",
                          "inside the prompt block"),
    "two prompts": ("def f():\n    # BEGIN SOLUTION\n    # BEGIN PROMPT\n    # pass\n    # END PROMPT\n"
                    "    # BEGIN PROMPT\n    # pass\n    # END PROMPT\n    return 1\n    # END SOLUTION\n",
                    "a second prompt"),
    "prompt line not a comment": ("def f():\n    # BEGIN SOLUTION\n    # BEGIN PROMPT\n    pass\n    # END PROMPT\n"
                                  "    # END SOLUTION\n", "must be a comment"),
    "stub outside a function": ("# BEGIN SOLUTION 6.1\nx = 1\n# END SOLUTION\n", "outside a function"),
    "no prompt with a prompt": ("# BEGIN SOLUTION NO PROMPT\n# BEGIN PROMPT\n# y = 2\n# END PROMPT\n"
                                "# END SOLUTION\n", "cannot hold a prompt"),
    "starter does not parse": ("if True:\n    # BEGIN SOLUTION NO PROMPT\n    x = 1\n    # END SOLUTION\n",
                               "does not parse"),
    "half a statement": ("x = (1 +  # SOLUTION NO PROMPT\n     2)\n", "does not parse"),
    "reference does not parse": ("def f(:\n    pass\n", "reference does not parse"),
    "no prompt misspelt": ("def f():\n    # BEGIN SOLUTION No Prompts\n    return 1\n    # END SOLUTION\n",
                           "did you mean"),
    "no prompt misspelt in a suffix": ("def f():\n    return 1  # SOLUTION NOPROMPT\n", "did you mean"),
}


@pytest.mark.parametrize("kind", sorted(BAD_MARKERS))
def test_bad_markers_are_refused_naming_the_line(kind):
    text, message = BAD_MARKERS[kind]
    with pytest.raises(markers.MarkerError, match=message) as raised:
        split(text)
    assert str(raised.value).startswith("f.py")


def test_a_stub_needs_python():
    with pytest.raises(markers.MarkerError, match="only Python gets a stub"):
        split("x:\n# BEGIN SOLUTION\n\ty\n# END SOLUTION\n", "Makefile")


def test_merge_refuses_a_starter_without_its_stub():
    text = "x = 1\n\n\ndef f():\n    return 1  # SOLUTION 5.1\n"
    starter_text, solutions = split(text)
    with pytest.raises(markers.MarkerError) as refused:
        markers.merge(starter_text.replace("5.1", "5.2"), solutions, "f.py")
    assert str(refused.value) == "f.py: the starter does not hold the stub expected at its line 5"
    with pytest.raises(markers.MarkerError, match="^the file: .* at its line 5$"):
        markers.merge(starter_text, solutions * 2)   # a second stub where the first one already was


def test_a_marker_error_leaves_the_last_release_as_it_was(tmp_path, monkeypatch):
    starter.release(str(tmp_path))
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    reference = starter.read_reference

    def broken(name):
        return reference(name).replace("# END SOLUTION", "# END SOLUTON", 1) if name == "hw2_numpy.py" else \
            reference(name)
    monkeypatch.setattr(starter, "read_reference", broken)
    assert starter.main(["--out", str(tmp_path)]) == 1
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == before


def test_the_release_command_says_where_it_wrote_what_and_defaults_to_release(tmp_path, monkeypatch, capsys):
    given = []
    monkeypatch.setattr(starter, "release", lambda out: given.append(out) or ["Makefile", "hw2_numpy.py"])
    assert starter.main([]) == 0 and given == [os.path.join(ROOT, "release")]
    assert capsys.readouterr().out == (f"{os.path.join(ROOT, 'release', 'hw2-starter')}/ and hw2-starter.zip: 2 files: "
                                       "Makefile, hw2_numpy.py\n")

    def refuses(out):
        raise markers.MarkerError("hw2_numpy.py: line 3: END SOLUTION without BEGIN")
    monkeypatch.setattr(starter, "release", refuses)
    assert starter.main(["--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err == "error: hw2_numpy.py: line 3: END SOLUTION without BEGIN; nothing written\n"


# --------------------------------------------------------------------------- the starter

@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    assert starter.main(["--out", str(out)]) == 0
    return out / starter.NAME


def test_the_starter_holds_what_a_student_gets_and_no_more(release):
    names = sorted(str(path.relative_to(release)) for path in release.rglob("*") if path.is_file())
    assert names == sorted(["Makefile", "README.md", "requirements.txt", "get_dataset.sh", "hw2_cifar.py",
                            "hw2_cifar_my_model.py", "hw2_data.py", "hw2_mnist.py", "hw2_numpy.py",
                            "hw2_submission.py", "hw2_train.py", "hw2_utils.py", "tests/hw2_test_cifar.py",
                            "tests/hw2_test_mnist.py", "tests/hw2_test_numpy.py", "tests/reference.py"])
    assert os.access(release / "get_dataset.sh", os.X_OK)
    with zipfile.ZipFile(release.parent / f"{starter.NAME}.zip") as archive:
        assert sorted(archive.namelist()) == [f"{starter.NAME}/{name}" for name in names]
        for name in names:
            assert archive.read(f"{starter.NAME}/{name}") == (release / name).read_bytes()
    everything = "".join((release / name).read_text() for name in names)
    assert not markers.LOOKS_LIKE_A_MARKER.search(everything)
    for reference_only in ("copydetect", "import autograder", "from autograder", "hw2_optim", "hw2_report",
                           "patch_rows", "airbench", "bench/", "from staff", "import staff", '"hw2ref"', "make test",
                           "make grade"):
        assert reference_only not in everything, reference_only
    for name, stubs in EXERCISE_STUBS.items():
        source = (release / name).read_text()
        ast.parse(source)
        assert [stub for stub in stubs if f'raise NotImplementedError("{stub}: your code here")' not in source] == []


def test_the_starter_is_the_same_every_time(tmp_path):
    starter.release(str(tmp_path / "a"))
    starter.release(str(tmp_path / "b"))
    zips = [(tmp_path / side / f"{starter.NAME}.zip").read_bytes() for side in ("a", "b")]
    assert zips[0] == zips[1]


def test_the_solutions_put_back_give_the_reference_byte_for_byte(release):
    for path in sorted(release.rglob("*")):
        name = str(path.relative_to(release))
        if not path.is_file() or name == "README.md":
            continue
        with open(os.path.join(ROOT, name), "rb") as stream:
            reference = stream.read()
        _, solutions = markers.split(reference.decode(), name)
        assert markers.merge(path.read_bytes().decode(), solutions, name).encode() == reference, name
        unmarked = [line for solution in solutions for line in solution.original
                    if markers.LOOKS_LIKE_A_MARKER.search(line)]
        assert unmarked or not solutions, name   # every difference sits between markers


def run_in(folder, code):
    return subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(folder)})


def test_the_starter_imports_and_each_stub_names_its_exercise(release, tmp_path):
    fresh = run_in(release, "import hw2_numpy, numpy as np\nhw2_numpy.relu(np.ones(3))")
    assert "ANDREW_USERNAME" in fresh.stderr and "in hw2_utils.py" in fresh.stderr   # step 1: set your username
    student = tmp_path / "student"
    shutil.copytree(release, student)
    set_username(student)
    code = ("import hw2_mnist, hw2_numpy, hw2_cifar, hw2_cifar_my_model, numpy as np, tensorflow as tf\n"
            "calls = [lambda: hw2_numpy.convolution(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), np.ones(1), 1, 0),\n"
            "         lambda: hw2_numpy.grayscale_filter(np.zeros((2, 3, 3, 3))), lambda: hw2_numpy.relu(np.ones(3)),\n"
            "         lambda: hw2_numpy.maxpool(np.ones((1, 1, 2, 2)), {}),\n"
            "         lambda: hw2_numpy.dropout(np.ones(3), 'train', .5),\n"
            "         hw2_mnist.build_model_mnist1, lambda: hw2_mnist.train_model_mnist1(None, None, None),\n"
            "         hw2_mnist.build_model_mnist2, lambda: hw2_mnist.train_model_mnist2(None, None, None),\n"
            "         lambda: hw2_cifar.build_model(tf.compat.v1.placeholder(tf.float32, (None, 32, 32, 3)), 10),\n"
            "         lambda: hw2_cifar.build_loss_optimizer(tf.zeros((1, 10)), tf.zeros((1, 10))),\n"
            "         lambda: hw2_cifar_my_model.main([])]\n"
            "for call in calls:\n"
            "    try:\n        call()\n    except NotImplementedError as error:\n        print(error)\n")
    result = run_in(student, code)
    assert result.returncode == 0, result.stderr[-3000:]
    said = [line.split(":")[0] for line in result.stdout.splitlines() if line.endswith(": your code here")]
    assert said == [stub for stubs in EXERCISE_STUBS.values() for stub in stubs]


def set_username(folder, username="jdoe"):
    utils = folder / "hw2_utils.py"
    text = utils.read_text()
    assert "ANDREW_USERNAME = None" in text
    utils.write_text(text.replace("ANDREW_USERNAME = None", f'ANDREW_USERNAME = "{username}"  #', 1))


def student_copy(release, folder):
    """A student's folder: the starter, their username set, the project's data (not copied again)."""
    shutil.copytree(release, folder)
    set_username(folder)
    (folder / "data").symlink_to(os.path.join(ROOT, "data"))
    os.utime(folder / "requirements.txt", (0, 0))   # older than the venv's stamp: the venv is not rebuilt
    return folder


def make_submission(student):
    """The student's `make submission`, with the project's venv; returns (the zip, what make printed)."""
    run = subprocess.run(["make", "submission", f"VENV={os.path.join(ROOT, '.venv')}"], cwd=student,
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return student / "submission" / "submission.zip", run.stdout


@needs_root
@pytest.mark.grading
def test_the_starters_make_submission_gives_a_zip_the_autograder_grades_0(release, tmp_path, monkeypatch):
    student = student_copy(release, tmp_path / "student")
    zip_path, _ = make_submission(student)
    monkeypatch.setattr(hw2_submission, "ROOT", str(student))   # what the student's checker expects
    problems, unfinished = hw2_submission.examine(str(zip_path), partial=True)
    assert problems == []
    every_test = [f"{log}: test {test} failed" for log, script in hw2_submission.LOGS.items()
                  for test in hw2_submission.script_tests((student / script).read_bytes())]
    assert sorted(unfinished) == sorted(every_test + ["submission.csv: missing"])   # each ran, each failed
    for log in hw2_submission.LOGS:
        assert "your code here" in (student / log).read_text()
    results, _ = grade_zip_cli(zip_path, tmp_path / "results.json")
    check_results_format(results)
    assert set(scores(results).values()) == {0} and len(scores(results)) == 9, scores(results)
    assert results["score"] == 0

    # Finishing one exercise earns its points with the rest still stubs: 6.2's solution put back.
    numpy_file = student / "hw2_numpy.py"
    _, solutions = markers.split(open(os.path.join(ROOT, "hw2_numpy.py")).read(), "hw2_numpy.py")
    relu_only = [s for s in solutions if "6.2" in "".join(s.stub)]
    finished = markers.merge(numpy_file.read_text(), relu_only)
    numpy_file.write_text(finished.replace("relu_forward(x)[0]", "np.maximum(x, x.dtype.type(0))"))
    zip_path, printed = make_submission(student)
    assert "evaluation_mnist.txt: up to date (with failing tests)" in printed   # only the numpy log reran
    results, _ = grade_zip_cli(zip_path, tmp_path / "results2.json", "--only", "6.1,6.2")
    assert scores(results) == {"6.1": 0, "6.2": 2}, results


def test_a_second_release_replaces_the_first_whole_and_leaves_nothing_else(tmp_path, monkeypatch):
    """The folder and the zip are replaced only once the new ones are built; no build or old folder is
    left beside them; the zip's members carry the reference's modes and one fixed time, from any
    working folder."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    starter.release(str(out))
    (out / starter.NAME / "stale.txt").write_text("from the first release")
    names = starter.release(str(out))
    assert sorted(os.listdir(out)) == [starter.NAME, starter.NAME + ".zip"]
    assert not (out / starter.NAME / "stale.txt").exists()
    with zipfile.ZipFile(out / (starter.NAME + ".zip")) as archive:
        infos = archive.infolist()
    assert sorted(info.filename for info in infos) == sorted(f"{starter.NAME}/{name}" for name in names)
    assert {info.date_time for info in infos} == {(2020, 1, 1, 0, 0, 0)}
    assert {info.compress_type for info in infos} == {zipfile.ZIP_DEFLATED}
    modes = {info.filename.split("/", 1)[1]: info.external_attr >> 16 for info in infos}
    assert modes["get_dataset.sh"] == 0o100755 and modes["README.md"] == modes["hw2_numpy.py"] == 0o100644
    assert (out / starter.NAME / "get_dataset.sh").stat().st_mode & 0o777 == 0o755
