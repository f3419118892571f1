"""hw2_submission: the checker accepts a good zip and names what is wrong with bad ones."""
import os
import zipfile

import pytest

import hw2_submission as sub

ROOT = sub.ROOT
USER, SEED = "hw2ref", "42"


def good_files():
    """name -> bytes of a submission whose logs belong to the project's current code."""
    files = {name: open(os.path.join(ROOT, name), "rb").read()
             for name in ("hw2_mnist.py", "hw2_numpy.py", "hw2_cifar.py") + sub.OWN_MODEL_SCRIPTS}
    for log in sub.LOG_SOURCES:
        header = sub.fingerprint_line(log, USER, SEED, read=files.__getitem__)
        files[log] = (header + "\n=== BEGIN test_x ===\nOK\n=== END test_x ===\n").encode()
    files["submission.csv"] = ("Id,Category\n" + "".join(f"{i},{i % 10}\n" for i in range(5000))).encode()
    return files


def write_zip(path, files):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return str(path)


def test_good_zip_passes(tmp_path):
    assert sub.check(write_zip(tmp_path / "s.zip", good_files())) == []


def test_build_writes_a_zip_that_checks(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    for name, data in good_files().items():
        (project / name).write_bytes(data)
    monkeypatch.setattr(sub, "ROOT", str(project))
    out = tmp_path / "out" / "submission.zip"
    assert sub.main(["build", "--out", str(out)]) == 0
    assert sorted(zipfile.ZipFile(out).namelist()) == sorted(sub.REQUIRED + sub.OWN_MODEL_SCRIPTS)
    (project / "submission.csv").unlink()
    assert sub.main(["build", "--out", str(tmp_path / "other.zip")]) == 1
    assert not (tmp_path / "other.zip").exists()


def mutate(files, change):
    files = dict(files)
    change(files)
    return files


BAD = {
    "missing file": (lambda f: f.pop("evaluation_cifar.txt"), "evaluation_cifar.txt: missing"),
    "nested folder": (lambda f: f.update({"hw2/hw2_numpy.py": f["hw2_numpy.py"]}), "folders are not allowed"),
    "csv header": (lambda f: f.update({"submission.csv": f["submission.csv"].replace(b"Id,Category", b"id,label")}),
                   "header"),
    "csv rows": (lambda f: f.update({"submission.csv": f["submission.csv"].rsplit(b"\n", 2)[0] + b"\n"}),
                 "4999 rows"),
    "csv class": (lambda f: f.update({"submission.csv": f["submission.csv"].replace(b"\n17,7\n", b"\n17,12\n")}),
                  "row 19"),
    "stale log": (lambda f: f.update({"hw2_numpy.py": f["hw2_numpy.py"] + b"\n# changed\n"}),
                  "evaluation_numpy.txt: stale"),
    "failed test": (lambda f: f.update({"evaluation_mnist.txt": f["evaluation_mnist.txt"].replace(b"OK", b"FAIL")}),
                    "evaluation_mnist.txt: a test failed"),
    "no fingerprint": (lambda f: f.update({"evaluation_cifar.txt": b"=== BEGIN t ===\nOK\n=== END t ===\n"}),
                       "no fingerprint"),
    "other user": (lambda f: f.update({"hw2_utils.py": f["hw2_utils.py"].replace(b'ANDREW_USERNAME = "hw2ref"',
                                                                                 b'ANDREW_USERNAME = "other"')}),
                   "hw2_utils.py says other"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_zip_is_rejected_by_name(tmp_path, kind):
    change, message = BAD[kind]
    problems = sub.check(write_zip(tmp_path / "s.zip", mutate(good_files(), change)))
    assert any(message in problem for problem in problems), problems


def test_check_command_exit_codes(tmp_path, capsys):
    good = write_zip(tmp_path / "good.zip", good_files())
    assert sub.main(["check", good]) == 0
    bad = write_zip(tmp_path / "bad.zip", mutate(good_files(), BAD["stale log"][0]))
    assert sub.main(["check", bad]) == 1
    assert "stale" in capsys.readouterr().err
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    assert sub.main(["check", str(tmp_path / "junk.zip")]) == 1
