"""The similarity check (staff/similarity.py) on a corpus built here: the reference, a disguised copy
of it (variables and helpers renamed, functions reordered, comments rewritten), an independently
written solution (tests/independent/), two untouched starters, and files that are not submissions."""
import ast
import csv
import html
import itertools
import json
import os
import re
import zipfile

import pytest

import hw2_submission
import hw2_utils
from staff import similarity, starter

ROOT = hw2_utils.ROOT
INDEPENDENT = os.path.join(ROOT, "tests", "independent")
STUDENT_FILES = hw2_submission.EXERCISE_FILES + (hw2_submission.OWN_MODEL,)


class Rename(ast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.mapping.get(node.arg, node.arg)
        return node

    def visit_FunctionDef(self, node):
        node.name = self.mapping.get(node.name, node.name)
        self.generic_visit(node)
        return node


def disguised(source):
    """What a copier does to hide a copy: every local variable, argument and private helper renamed,
    the functions in reverse order, the comments gone and one of their own added (the public names,
    which the tests call, stay)."""
    tree = ast.parse(source)
    top = tree.body
    public = {node.name for node in top if isinstance(node, (ast.FunctionDef, ast.ClassDef))
              and not node.name.startswith("_")}
    private = {node.name for node in top if isinstance(node, ast.FunctionDef) and node.name.startswith("_")}
    local = {sub.id if isinstance(sub, ast.Name) else sub.arg
             for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
             for sub in ast.walk(node) if isinstance(sub, ast.arg)
             or isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store)}
    tree = Rename({name: f"my_{name.strip('_')}" for name in (local | private) - public - {"self"}}).visit(tree)
    imports = [node for node in top if isinstance(node, (ast.Import, ast.ImportFrom))]
    definitions = [node for node in top if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    tree.body = imports + definitions[::-1] + [node for node in top if node not in imports + definitions]
    return "# Homework 2: my own solution.\n" + ast.unparse(tree) + "\n"


def write_zip(path, files):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def reference_python():
    """The reference's Python files of a submission: what a student who finished submits."""
    return {name: hw2_submission.read_project_file(name) for name in hw2_submission.submission_files()
            if name.endswith(".py")}


def starter_python():
    """The starter's Python files at the top level: what a student who changed nothing submits."""
    return {name: text.encode() for name, (text, _) in starter.starter_files().items()
            if name.endswith(".py") and "/" not in name}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    reference = reference_python()
    write_zip(folder / "alice.zip", reference)
    write_zip(folder / "bob.zip", {name: disguised(data.decode()).encode() if name in STUDENT_FILES else data
                                   for name, data in reference.items()})
    independent = {**starter_python(), **{name: open(os.path.join(INDEPENDENT, name), "rb").read()
                                          for name in os.listdir(INDEPENDENT) if name.endswith(".py")}}
    write_zip(folder / "carol.zip", independent)
    write_zip(folder / "dave.zip", starter_python())
    write_zip(folder / "erin.zip", starter_python())
    (folder / "frank.zip").write_bytes(b"this is not a zip")
    write_zip(folder / "grace.zip", {"notes.txt": b"I could not finish."})
    with zipfile.ZipFile(folder / "heidi.zip", "w") as archive:   # a refused member; the rest compared
        archive.writestr("../escape.py", b"x = 1\n")
        for name, data in independent.items():
            archive.writestr(name, data.replace(b"def ", b"def  "))
    pasted = {**starter_python(), hw2_submission.OWN_MODEL: starter_python()[hw2_submission.OWN_MODEL]
              + b"\n\n" + starter.starter_files()["hw2_train.py"][0].encode()}
    write_zip(folder / "ivan.zip", pasted)   # the given training loop pasted into the model script
    write_zip(folder / "judy.zip", pasted)
    with zipfile.ZipFile(folder / "kate.zip", "w") as archive:   # nothing but refused members
        archive.writestr("../hw2_numpy.py", b"x = 1\n")
        archive.writestr("work/hw2_cifar.py", b"x = 2\n")
    (folder / "Roster.txt").write_text("alice bob carol dave erin frank grace heidi\n")   # first in name order
    return folder


@pytest.fixture(scope="module")
def checked(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("similarity")
    assert similarity.main([str(corpus), "--out", str(out)]) == 0
    with open(out / "pairs.csv", newline="") as stream:
        rows = list(csv.reader(stream))
    return out, rows


def test_pairs_csv_lists_every_pair_most_similar_first(checked):
    out, rows = checked
    assert rows[0] == ["student_a", "student_b", "similarity"]
    students = ["alice", "bob", "carol", "dave", "erin", "heidi", "ivan", "judy"]
    assert sorted(tuple(sorted(row[:2])) for row in rows[1:]) == sorted(itertools.combinations(students, 2))
    values = [float(row[2]) for row in rows[1:]]
    assert values == sorted(values, reverse=True) and all(0 <= value <= 1 for value in values)
    # each pair in name order, and pairs of equal similarity (the untouched starters' zeros) too
    assert all(a < b for a, b, _ in rows[1:])
    assert rows[1:] == sorted(rows[1:], key=lambda row: (-float(row[2]), row[0], row[1]))


def test_the_disguised_copy_is_flagged_and_nothing_else(checked, capsys):
    out, rows = checked
    similar = {frozenset(row[:2]): float(row[2]) for row in rows[1:]}
    assert similar[frozenset({"alice", "bob"})] > similarity.THRESHOLD
    assert similar[frozenset({"carol", "heidi"})] > similarity.THRESHOLD   # the same independent code, twice
    flagged = {pair for pair, value in similar.items() if value > similarity.THRESHOLD}
    assert flagged == {frozenset({"alice", "bob"}), frozenset({"carol", "heidi"})}
    # the independent solution against the reference, and its copy: far below the threshold
    assert similar[frozenset({"alice", "carol"})] < similarity.THRESHOLD / 2
    assert similar[frozenset({"bob", "carol"})] < similarity.THRESHOLD / 2


def test_the_starter_alone_flags_nothing(checked):
    """Untouched starters, and given code pasted elsewhere (ivan, judy), share nothing that counts."""
    out, rows = checked
    similar = {frozenset(row[:2]): float(row[2]) for row in rows[1:]}
    assert all(value == 0 for pair, value in similar.items() if pair & {"dave", "erin"})
    # only where the given pieces meet (a few dozen tokens) is ivan's code his own, and judy's the same
    assert all(value < similarity.THRESHOLD / 4 for pair, value in similar.items() if pair & {"ivan", "judy"})


def test_bad_zips_are_listed_and_skipped(corpus, tmp_path, capsys):
    """Every file that is not compared is named with the reason, in name order, before the pairs."""
    assert similarity.main([str(corpus), "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out == (
        "skipped: Roster.txt: not a .zip file\n"
        "skipped: frank.zip: not a readable zip (File is not a zip file)\n"
        "skipped: grace.zip: holds none of hw2_mnist.py, hw2_numpy.py, hw2_cifar.py or a model script\n"
        "skipped: kate.zip: ../hw2_numpy.py: folders are not allowed, files must be at the top level of the zip; "
        "work/hw2_cifar.py: folders are not allowed, files must be at the top level of the zip\n"
        "note: heidi.zip: compared without a refused member: ../escape.py: folders are not allowed, files must be "
        "at the top level of the zip\n"
        "similar: carol and heidi: 1.00\n"
        "similar: alice and bob: 0.93\n"
        f"28 pairs compared, 2 above 0.5: {tmp_path / 'pairs.csv'}, {tmp_path / 'report.html'}\n")


def test_the_report_shows_the_copied_code_by_student(checked):
    out, _ = checked
    report = (out / "report.html").read_text()
    # each file by student and name alone (the scratch folder copydetect read is cut from the names)
    assert re.search(r"<li>\d+=alice/hw2_numpy.py</li>", report) and re.search(r"<li>\d+=bob/hw2_numpy.py</li>", report)
    assert "highlight-red" in report and str(out) not in report


def test_too_few_submissions_and_no_folder(tmp_path, capsys):
    folder = tmp_path / "one"
    folder.mkdir()
    write_zip(folder / "solo.zip", starter_python())
    assert similarity.main([str(folder), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "pairs.csv").read_text() == "student_a,student_b,similarity\n"
    assert "nothing to compare" in (tmp_path / "out" / "report.html").read_text()
    assert similarity.main([str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_one_sided_copies_score_as_the_copiers_share_whichever_name_comes_first(tmp_path, monkeypatch, capsys):
    """kim copied alice's convolution file and wrote nothing else: all of kim's own code is alice's, a
    small part of alice's is kim's, and the pair scores as the copier's share, exactly 1. abe (whose
    name comes before alice's, where kim's comes after) pasted the same file beside an own-model
    script of his own: his share, most of his code but not all of it. Ties are in name order; the
    whole file, what is printed and the settings the report states are written out here, as a staff
    member reads them; the check writes nothing in the folder it is run from."""
    reference = reference_python()
    own_model = open(os.path.join(INDEPENDENT, hw2_submission.OWN_MODEL), "rb").read()
    folder = tmp_path / "submissions"
    folder.mkdir()
    write_zip(folder / "alice.zip", reference)
    write_zip(folder / "kim.zip", {**starter_python(), "hw2_numpy.py": reference["hw2_numpy.py"]})
    write_zip(folder / "abe.zip", {**starter_python(), "hw2_numpy.py": reference["hw2_numpy.py"],
                                   hw2_submission.OWN_MODEL: own_model})
    write_zip(folder / "dave.zip", starter_python())
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    out = tmp_path / "out"
    assert similarity.main([str(folder), "--out", str(out), "--threshold", "0.9"]) == 0
    assert (out / "pairs.csv").read_text() == (
        "student_a,student_b,similarity\n"
        "abe,kim,1.0000\n"
        "alice,kim,1.0000\n"
        "abe,alice,0.8627\n"
        "abe,dave,0.0000\n"
        "alice,dave,0.0000\n"
        "dave,kim,0.0000\n")
    assert capsys.readouterr().out == (
        "similar: abe and kim: 1.00\n"
        "similar: alice and kim: 1.00\n"
        f"6 pairs compared, 2 above 0.9: {out / 'pairs.csv'}, {out / 'report.html'}\n")
    assert os.listdir(here) == []
    # The settings copydetect ran with, as the report states them to the staff: only same-named files
    # compared, never two files of one student, the threshold the pairs were printed at. (Here, in a
    # test that runs the check itself: mutmut runs a mutant's tests by who called the code first.)
    report = (out / "report.html").read_text()
    assert re.search(r"<li>\d+=kim/hw2_numpy.py</li>", report)   # by student and name, the scratch folder cut
    settings = json.loads(html.unescape(re.search(r'<pre class="file-info-list">(.*?)</pre>', report, re.S)[1]))
    folders = [settings.pop(key) for key in ("test_directories", "reference_directories", "boilerplate_directories")]
    assert settings == {"extensions": ["py"], "same_name_only": True, "ignore_leaf": True, "disable_filtering": False,
                        "truncate": True, "out_file": "./report.html", "css_files": [], "silent": True,
                        "encoding": "utf-8", "window_size": 1, "noise_threshold": 25, "guarantee_threshold": 25,
                        "display_threshold": 0.9, "disable_autoopen": True}
    scratch = os.path.dirname(folders[0][0])
    assert folders == [[os.path.join(scratch, "submitted")]] * 2 + [[os.path.join(scratch, "starter")]]
    assert os.path.isabs(scratch) and not os.path.exists(scratch)   # a temporary folder, removed


def test_a_file_that_is_not_utf8_is_compared_all_the_same(tmp_path):
    """A copy saved in Latin-1 (one byte no UTF-8 decoder takes) is still read and compared: the byte
    becomes a replacement character, and the copy is found."""
    reference = reference_python()
    folder = tmp_path / "submissions"
    folder.mkdir()
    write_zip(folder / "alice.zip", reference)
    write_zip(folder / "kim.zip", {**starter_python(), "hw2_numpy.py": b"# na\xefve copy\n" + reference["hw2_numpy.py"]})
    assert similarity.main([str(folder), "--out", str(tmp_path / "out")]) == 0
    rows = (tmp_path / "out" / "pairs.csv").read_text().splitlines()
    assert rows[0] == "student_a,student_b,similarity" and rows[1].startswith("alice,kim,") and float(rows[1][10:]) > 0.9


def test_a_threshold_outside_0_and_1_is_refused_and_its_ends_are_taken(tmp_path, capsys, monkeypatch):
    for outside in ("-0.01", "1.01"):
        with pytest.raises(SystemExit) as refused:
            similarity.main([str(tmp_path), "--threshold", outside])
        assert refused.value.code == 2
        assert capsys.readouterr().err.endswith(f"error: --threshold is a share of code in [0, 1], got {float(outside)}\n")
    for end in ("0", "1"):
        assert similarity.main([str(tmp_path), "--out", str(tmp_path / end), "--threshold", end]) == 0
        assert capsys.readouterr().out.endswith(f"0 pairs compared, 0 above {float(end)}: {tmp_path / end / 'pairs.csv'}, "
                                                f"{tmp_path / end / 'report.html'}\n")
    monkeypatch.chdir(tmp_path)   # without --out: ./similarity
    assert similarity.main([str(tmp_path)]) == 0 and (tmp_path / "similarity" / "pairs.csv").is_file()
