"""hw2_submission: the checker accepts a good zip and names what is wrong with bad ones."""
import functools
import os
import pathlib
import stat
import tracemalloc
import zipfile

import numpy as np
import pytest

import hw2_submission as sub
from predictions import csv_bytes

ROOT = sub.ROOT
USER, SEED = "hw2ref", "42"


def script_tests(log):
    with open(os.path.join(ROOT, sub.LOGS[log]), "rb") as stream:
        return sub.script_tests(stream.read())


def passing_log(log, files, tests=None):
    """A complete passing log of `log` for the sources in `files`: every test of its script, in order."""
    header = sub.fingerprint_line(log, USER, SEED, read=files.__getitem__)
    body = "".join(f"=== BEGIN {t} ===\n=== EXERCISE f {USER} 2a 0 ===\nOK\n=== END {t} ===\n"
                   for t in (script_tests(log) if tests is None else tests))
    return (header + "\n" + body).encode()


def good_files():
    """name -> bytes of a submission whose logs belong to the project's current code (a fresh dict)."""
    return dict(_good_files())


@functools.cache
def _good_files():
    files = {}
    for name in sub.submission_files():
        if name == "submission.csv" or name in sub.LOGS:
            continue
        with open(os.path.join(ROOT, name), "rb") as stream:
            files[name] = stream.read()
    for log in sub.LOGS:
        files[log] = passing_log(log, files)
    files["submission.csv"] = csv_bytes(np.arange(5000) % 10)
    return files


def write_zip(path, files, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return str(path)


def test_good_zip_passes(tmp_path):
    assert sub.check(write_zip(tmp_path / "s.zip", good_files())) == []


def test_script_tests_match_the_harness():
    """The checker's reading of a test script (ast) gives the tests run_tests runs, in its order."""
    import importlib
    import hw2_utils
    for log, script in sub.LOGS.items():
        module = importlib.import_module(os.path.basename(script)[:-3])
        classes = [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, hw2_utils.TestCase)
                   and c is not hw2_utils.TestCase]
        assert [name for c in classes for name in hw2_utils.test_names(c)] == script_tests(log)


def python_sources():
    """The project's own Python files of a submission (name -> bytes)."""
    return {name: pathlib.Path(ROOT, name).read_bytes() for name in sub.submission_files() if name.endswith(".py")}


def project_with(tmp_path, monkeypatch, files):
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    for name, data in files.items():
        (project / name).write_bytes(data)
    (project / "tests").mkdir(exist_ok=True)
    for script in sub.LOGS.values():   # a project has its public test scripts
        (project / script).write_bytes(pathlib.Path(ROOT, script).read_bytes())
    monkeypatch.setattr(sub, "ROOT", str(project))
    return project


def test_build_writes_a_zip_that_checks(tmp_path, monkeypatch):
    project = project_with(tmp_path, monkeypatch, good_files())
    out = tmp_path / "out" / "submission.zip"
    assert sub.main(["build", "--out", str(out)]) == 0
    assert sorted(zipfile.ZipFile(out).namelist()) == sorted(sub.submission_files())
    assert {info.compress_type for info in zipfile.ZipFile(out).infolist()} == {zipfile.ZIP_DEFLATED}
    (project / "submission.csv").unlink()
    assert sub.main(["build", "--out", str(tmp_path / "other.zip")]) == 1
    assert not (tmp_path / "other.zip").exists()


@pytest.mark.parametrize("spoil", ["failed test", "cut log", "stale log"])
def test_failing_build_leaves_the_previous_zip_untouched(tmp_path, monkeypatch, spoil):
    files = good_files()
    project = project_with(tmp_path, monkeypatch, files)
    out = tmp_path / "submission.zip"
    assert sub.main(["build", "--out", str(out)]) == 0
    good = out.read_bytes()
    change, _ = BAD[spoil]
    for name, data in mutate(files, change).items():
        (project / name).write_bytes(data)
    assert sub.main(["build", "--out", str(out)]) == 1
    assert out.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir() if ".part" in p.name] == []


def mutate(files, change):
    files = dict(files)
    change(files)
    return files


def replace_in(name, old, new):
    def change(files):
        assert old in files[name], (name, old)
        files[name] = files[name].replace(old, new, 1)
    return change


def cut_after(log, marker):
    """Keep a log up to and including the first line that starts with `marker`."""
    def change(files):
        text = files[log].decode()
        end = text.index(marker)
        files[log] = (text[:text.index("\n", end) + 1]).encode()
    return change


FIRST_TEST = {log: script_tests(log)[0] for log in sub.LOGS}
LAST_TEST = {log: script_tests(log)[-1] for log in sub.LOGS}

BAD = {
    "missing file": (lambda f: f.pop("evaluation_cifar.txt"), "evaluation_cifar.txt: missing"),
    "nested folder": (lambda f: f.update({"hw2/hw2_numpy.py": f["hw2_numpy.py"]}), "folders are not allowed"),
    "csv header": (replace_in("submission.csv", b"Id,Category", b"id,label"), "header"),
    "csv rows": (lambda f: f.update({"submission.csv": f["submission.csv"].rsplit(b"\n", 2)[0] + b"\n"}),
                 "4999 rows"),
    "csv class": (replace_in("submission.csv", b"\n17,7\n", b"\n17,12\n"), "row 19"),
    "csv not utf-8": (replace_in("submission.csv", b"\n17,7\n", b"\n17,\xff\n"), "not a readable CSV"),
    "stale log": (lambda f: f.update({"hw2_numpy.py": f["hw2_numpy.py"] + b"\n# changed\n"}),
                  "evaluation_numpy.txt: stale"),
    "failed test": (replace_in("evaluation_mnist.txt", b"OK", b"FAIL\nTraceback ..."),
                    "evaluation_mnist.txt: test"),
    "OK printed, then a failure": (replace_in("evaluation_numpy.txt", b"OK\n=== END",
                                              b"OK\nFAIL\nTraceback (most recent call last):\n=== END"),
                                   "evaluation_numpy.txt: test"),
    "OK printed, no outcome": (replace_in("evaluation_numpy.txt", b"OK\n=== END", b"OK\nTraceback ...\n=== END"),
                               "has no outcome"),
    "backslash folder": (lambda f: f.update({"..\\hw2_numpy.py": f["hw2_numpy.py"]}), "folders are not allowed"),
    "windows folder": (lambda f: f.update({"hw2\\hw2_cifar.py": f["hw2_cifar.py"]}), "folders are not allowed"),
    "no fingerprint": (lambda f: f.update({"evaluation_cifar.txt": b"=== BEGIN t ===\nOK\n=== END t ===\n"}),
                       "no fingerprint"),
    "other user": (replace_in("hw2_utils.py", b'ANDREW_USERNAME = "hw2ref"', b'ANDREW_USERNAME = "other"'),
                   "hw2_utils.py says other"),
    "other seed, written another way": (replace_in("hw2_utils.py", b"SEED = 42", b"SEED = 0x2b"),
                                        "hw2_utils.py says hw2ref / 43"),
    # Logs cut short or tampered with: each must be complete, every test in order, OK before END.
    "cut log": (cut_after("evaluation_numpy.txt", "=== EXERCISE"), "evaluation_numpy.txt: incomplete"),
    "header only": (cut_after("evaluation_cifar.txt", "=== FINGERPRINT"), "evaluation_cifar.txt: incomplete"),
    "begin without end": (cut_after("evaluation_mnist.txt", f"=== BEGIN {LAST_TEST['evaluation_mnist.txt']}"),
                          "evaluation_mnist.txt: incomplete"),
    "end without outcome": (replace_in("evaluation_numpy.txt", b"OK\n=== END", b"=== END"), "has no outcome"),
    "test missing": (lambda f: f.update({"evaluation_numpy.txt": passing_log(
        "evaluation_numpy.txt", f, script_tests("evaluation_numpy.txt")[1:])}), "evaluation_numpy.txt: incomplete"),
    "tests reordered": (lambda f: f.update({"evaluation_cifar.txt": passing_log(
        "evaluation_cifar.txt", f, script_tests("evaluation_cifar.txt")[::-1])}), "out of order"),
    "extra test": (lambda f: f.update({"evaluation_mnist.txt": passing_log(
        "evaluation_mnist.txt", f, script_tests("evaluation_mnist.txt") + ["test_extra"])}), "does not define"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_zip_is_rejected_by_name(tmp_path, kind):
    change, message = BAD[kind]
    problems = sub.check(write_zip(tmp_path / "s.zip", mutate(good_files(), change)))
    assert any(message in problem for problem in problems), problems


# Every log's fingerprint is checked: a change to a source makes exactly the logs whose scripts
# import it (directly or not) stale: its exercise file one, a shared module all three.
ALL_LOG_SOURCES = sorted({name for log in sub.LOGS for name in sub.log_sources(log)})


@pytest.mark.parametrize("source", ALL_LOG_SOURCES)
def test_each_source_makes_exactly_its_logs_stale(tmp_path, source):
    files = good_files()
    files[source] += b"\n# changed\n"
    problems = sub.check(write_zip(tmp_path / "s.zip", files))
    stale = sorted(log for log in sub.LOGS if any(p.startswith(f"{log}: stale") for p in problems))
    assert stale == sorted(log for log in sub.LOGS if source in sub.log_sources(log)), problems
    assert stale


def test_sources_follow_the_imports():
    """Each log covers its exercise file and the shared modules; hw2_data comes in through hw2_utils."""
    for log, exercise_file in zip(sorted(sub.LOGS), ("hw2_cifar.py", "hw2_mnist.py", "hw2_numpy.py")):
        sources = sub.log_sources(log)
        assert {exercise_file, "hw2_utils.py", "hw2_data.py", "hw2_submission.py"} <= set(sources), sources
        assert not set(sub.EXERCISE_FILES) - {exercise_file} & set(sources)
    assert sub.imported_sources(b"import hw2_a\nfrom hw2_b import x\ndef f():\n    import hw2_c.d\n",
                                read=lambda name: b"import hw2_e" if name == "hw2_a.py" else None) == \
        ["hw2_a.py", "hw2_b.py", "hw2_c.py", "hw2_e.py"]
    assert set(sub.model_sources()) <= set(sub.submission_files()) and "hw2_cifar_my_model.py" in sub.model_sources()


def test_a_member_named_twice_is_reported(tmp_path):
    path = tmp_path / "s.zip"
    write_zip(path, good_files())
    with pytest.warns(UserWarning), zipfile.ZipFile(path, "a") as archive:
        archive.writestr("submission.csv", b"Id,Category\n")
    assert any("submission.csv: appears 2 times" in p for p in sub.check(str(path)))


def test_links_encrypted_and_unknown_compression_are_problems(tmp_path):
    path = tmp_path / "s.zip"
    files = good_files()
    write_zip(path, {k: v for k, v in files.items() if k != "hw2_numpy.py"})
    with zipfile.ZipFile(path, "a") as archive:
        link = zipfile.ZipInfo("hw2_numpy.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    assert any("hw2_numpy.py: a symbolic link" in p for p in sub.check(str(path)))
    # Flip bits in the raw headers: the encryption flag of one member, the compression method of another.
    data = bytearray(pathlib.Path(write_zip(path, files, zipfile.ZIP_STORED)).read_bytes())
    for name, offset, value in ((b"hw2_cifar.py", 6, 1), (b"hw2_mnist.py", 8, 99)):
        for header in (b"PK\x03\x04", b"PK\x01\x02"):
            start = 0
            while (start := data.find(header, start)) >= 0:
                name_at = start + (30 if header == b"PK\x03\x04" else 46)
                if data[name_at:name_at + len(name)] == name:
                    field = start + offset + (0 if header == b"PK\x03\x04" else 2)
                    data[field] = value if offset == 8 else data[field] | value
                start += 4
    path.write_bytes(bytes(data))
    problems = sub.check(str(path))
    assert any("hw2_cifar.py: encrypted" in p for p in problems), problems
    assert any("hw2_mnist.py: compressed with method 99" in p for p in problems), problems


def test_corrupt_member_is_a_problem_not_a_traceback(tmp_path):
    path = tmp_path / "s.zip"
    data = bytearray(pathlib.Path(write_zip(path, good_files(), zipfile.ZIP_STORED)).read_bytes())
    at = data.find(b"def convolution")
    data[at:at + 3] = b"XYZ"  # the stored CRC no longer matches
    path.write_bytes(bytes(data))
    problems = sub.check(str(path))
    assert any(p.startswith("hw2_numpy.py: corrupt") for p in problems), problems


@pytest.mark.parametrize("member", ["submission.csv", "evaluation_cifar.txt", "hw2_utils.py"])
def test_huge_member_is_refused_with_bounded_memory(tmp_path, member):
    """A 200 MB member compressing to a few hundred KB: refused after reading a bounded amount."""
    files = good_files()
    files[member] = b"Id,Category\n" + b"1" * (200 * 2 ** 20)
    path = write_zip(tmp_path / "s.zip", files)
    assert os.path.getsize(path) < 2 ** 20
    tracemalloc.start()
    try:
        problems = sub.check(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert any(p.startswith(f"{member}: larger than") for p in problems), problems
    assert peak < 4 * sub.MAX_MEMBER_BYTES


def test_total_size_is_bounded_too(tmp_path):
    files = good_files()
    for i in range(6):
        files[f"extra{i}.py"] = b"#" * (sub.MAX_MEMBER_BYTES - 10)
    problems = sub.check(write_zip(tmp_path / "s.zip", files))
    assert any("makes the zip's content larger than" in p for p in problems), problems


def test_csv_with_a_huge_field_is_a_problem(tmp_path):
    files = good_files()
    files["submission.csv"] = b"Id,Category\n0,\"" + b"x" * 300_000 + b"\"\n"
    problems = sub.check(write_zip(tmp_path / "s.zip", files))
    assert any(p.startswith("submission.csv: not a readable CSV") for p in problems), problems


def test_check_command_exit_codes(tmp_path, capsys):
    good = write_zip(tmp_path / "good.zip", good_files())
    assert sub.main(["check", good]) == 0
    bad = write_zip(tmp_path / "bad.zip", mutate(good_files(), BAD["stale log"][0]))
    assert sub.main(["check", bad]) == 1
    assert "stale" in capsys.readouterr().err
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    assert sub.main(["check", str(tmp_path / "junk.zip")]) == 1


def test_read_identity_uses_no_execution():
    assert sub.read_identity(b'import os\nANDREW_USERNAME = "abc"\nSEED = 7\n') == ("abc", 7)
    with pytest.raises(ValueError, match="literal"):
        sub.read_identity(b'ANDREW_USERNAME = os.system("true")\nSEED = 1\n')
    with pytest.raises(ValueError, match="assigns no SEED"):
        sub.read_identity(b'ANDREW_USERNAME = "abc"\n')


# Work in progress (`--partial`): failing tests and a missing submission.csv are listed, every other
# problem still refuses the zip.
UNFINISHED = ("failed test", "OK printed, then a failure", "missing csv")
BAD["missing csv"] = (lambda f: f.pop("submission.csv"), "submission.csv: missing")


@pytest.mark.parametrize("kind", sorted(BAD))
def test_partial_accepts_only_unfinished_work(tmp_path, kind):
    change, message = BAD[kind]
    problems, unfinished = sub.examine(write_zip(tmp_path / "s.zip", mutate(good_files(), change)), partial=True)
    where = unfinished if kind in UNFINISHED else problems
    assert any(message in item for item in where), (problems, unfinished)
    assert (problems == []) == (kind in UNFINISHED), problems
    assert sub.check(str(tmp_path / "s.zip"), partial=True) == problems


def test_partial_build_zips_failing_logs_and_no_csv(tmp_path, monkeypatch, capsys):
    files = mutate(good_files(), BAD["failed test"][0])
    del files["submission.csv"]
    project_with(tmp_path, monkeypatch, files)
    out = tmp_path / "submission.zip"
    assert sub.main(["build", "--out", str(out)]) == 1          # a finished submission: refused
    assert not out.exists()
    assert sub.main(["build", "--partial", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "unfinished: submission.csv: missing" in printed and "unfinished: evaluation_mnist.txt: test" in printed
    assert "submission.csv" not in zipfile.ZipFile(out).namelist()
    assert sub.main(["check", "--partial", str(out)]) == 0
    assert sub.main(["check", str(out)]) == 1


def write_log_script(project, log, body):
    (project / sub.LOGS[log]).write_text(body)


@pytest.mark.parametrize("partial", [False, True])
def test_logs_keep_a_completed_run_with_failures_only_when_partial(tmp_path, monkeypatch, partial):
    """`logs --partial` keeps a whole log whose tests fail (and then finds it current); a run that
    crashes half-way is never kept; without --partial a failing run leaves LOG.failed."""
    files = good_files()
    project = project_with(tmp_path, monkeypatch, files)
    log = "evaluation_numpy.txt"
    tests = script_tests(log)
    header = sub.fingerprint_line(log, USER, SEED, read=files.__getitem__)
    blocks = "".join(f"print('=== BEGIN {t} ===')\nprint('FAIL')\nprint('=== END {t} ===')\n" for t in tests)
    # The script's imports are kept (the fingerprint covers them); the body only prints a log.
    imports = "".join(line + "\n" for line in pathlib.Path(ROOT, sub.LOGS[log]).read_text().splitlines()
                      if line.startswith(("import hw2_", "from reference")))
    fake = "import sys\nif False:\n" + "".join("    " + line + "\n" for line in imports.splitlines())
    defs = "class T:\n" + "".join(f"    def {t}(self): pass\n" for t in tests)
    write_log_script(project, log, fake + defs + f"print({header!r})\n" + blocks + "sys.exit(1)\n")
    (project / log).unlink()
    failed = sub.update_logs([log], partial=partial)
    assert failed == ([] if partial else [log])
    assert (project / log).exists() == partial
    assert (project / (log + ".failed")).exists() != partial
    if partial:
        assert sub.log_state(log, USER, int(SEED)) == "failed"
        assert sub.update_logs([log], partial=True) == []   # current: not run again
        write_log_script(project, log, fake + defs + f"print({header!r})\nprint('=== BEGIN {tests[0]} ===')\n"
                         "sys.exit(1)\n")
        (project / log).unlink()
        assert sub.update_logs([log], partial=True) == [log]   # cut short: not a log
        assert not (project / log).exists()


def test_the_command_line_hands_each_command_its_arguments_and_says_what_failed(monkeypatch, capsys):
    """hw2_submission.py's commands as `make` and a student type them: what reaches update_logs, build
    and report, the exit status, and the refusals in words."""
    calls = []
    monkeypatch.setattr(sub, "update_logs", lambda logs, partial=False: calls.append(("logs", logs, partial)) or [])
    monkeypatch.setattr(sub, "build", lambda out, partial=False: calls.append(("build", out, partial)) or ([], []))
    monkeypatch.setattr(sub, "report", lambda path, problems, unfinished=(): calls.append(("report", path)) or 0)
    assert sub.main(["logs"]) == 0
    assert sub.main(["logs", "--partial", "evaluation_numpy.txt", "evaluation_cifar.txt"]) == 0
    assert sub.main(["build"]) == 0
    assert sub.main(["build", "--partial", "--out", "elsewhere.zip"]) == 0
    assert calls == [("logs", ["evaluation_cifar.txt", "evaluation_mnist.txt", "evaluation_numpy.txt"], False),
                     ("logs", ["evaluation_numpy.txt", "evaluation_cifar.txt"], True),
                     ("build", os.path.join(sub.ROOT, "submission", "submission.zip"), False),
                     ("report", os.path.join(sub.ROOT, "submission", "submission.zip")),
                     ("build", "elsewhere.zip", True), ("report", "elsewhere.zip")]
    monkeypatch.setattr(sub, "update_logs", lambda logs, partial=False: ["evaluation_numpy.txt"])
    assert sub.main(["logs"]) == 1   # a log whose tests failed

    def refuses(*args, **kwargs):
        raise ValueError("ANDREW_USERNAME is not set")
    monkeypatch.setattr(sub, "update_logs", refuses)
    capsys.readouterr()
    assert sub.main(["logs"]) == 1 and capsys.readouterr().err == "error: ANDREW_USERNAME is not set\n"

    def missing(out, partial=False):
        raise FileNotFoundError("submission.csv: no such file")
    monkeypatch.setattr(sub, "build", missing)
    assert sub.main(["build"]) == 1 and capsys.readouterr().err == "error: submission.csv: no such file\n"
    monkeypatch.setattr(sub, "build", lambda out, partial=False: (["hw2_numpy.py: missing"], []))
    assert sub.main(["build", "--out", "kept.zip"]) == 0   # report (stubbed here) decides the status
    assert capsys.readouterr().err == "kept.zip: not written (a zip already there is unchanged)\n"
    for argv, refusal in ((["logs", "evaluation_nump.txt"], "error: no such log: evaluation_nump.txt; the logs are "
                           "evaluation_cifar.txt, evaluation_mnist.txt, evaluation_numpy.txt\n"),
                          ([], "error: the following arguments are required: command\n")):
        with pytest.raises(SystemExit) as exited:
            sub.main(argv)
        assert exited.value.code == 2 and capsys.readouterr().err.endswith(refusal)


def test_update_logs_keeps_a_current_log_and_writes_failing_runs_aside_unless_partial(tmp_path, monkeypatch, capsys):
    """`make evaluation_numpy.txt`'s decisions, with a stand-in interpreter printing a chosen log: a
    whole passing run becomes the log and is not run again; a run with a failing test goes to
    LOG.failed (the log stays), or with --partial becomes the log, which partial then keeps; a cut
    run never counts."""
    project = project_with(tmp_path, monkeypatch, python_sources())
    log_name = "evaluation_numpy.txt"
    user, seed = sub.read_identity(sub.read_project_file("hw2_utils.py"))
    tests = sub.script_tests(sub.read_project_file("tests/hw2_test_numpy.py"))
    header = sub.fingerprint_line(log_name, user, seed)

    def run_prints(outcomes, code, cut=False):   # the stand-in "python" prints this log and exits with code
        blocks = [f"=== BEGIN {test} ===\n{outcome}\n=== END {test} ===" for test, outcome in zip(tests, outcomes)]
        text = "\n".join([header] + blocks[:-1 if cut else None]) + "\n"
        (tmp_path / "output.txt").write_text(text)
        python = tmp_path / "python"
        python.write_text(f"#!/bin/sh\ncat {tmp_path / 'output.txt'}\nexit {code}\n")
        python.chmod(0o755)
        return str(python), text
    log, failed = project / log_name, project / (log_name + ".failed")
    all_ok = ["OK"] * len(tests)
    one_fails = ["FAIL"] + ["OK"] * (len(tests) - 1)

    python, passing = run_prints(all_ok, 0)
    assert sub.update_logs([log_name], python=python) == [] and log.read_text() == passing
    assert capsys.readouterr().out == f"{log_name}: running tests/hw2_test_numpy.py\n"
    python, _ = run_prints(one_fails, 1)
    assert sub.update_logs([log_name], python=python) == [] and log.read_text() == passing   # current: not run
    assert capsys.readouterr().out == f"{log_name}: up to date\n"

    log.unlink()
    python, failing = run_prints(one_fails, 1)
    assert sub.update_logs([log_name], python=python) == [log_name]
    assert not log.exists() and failed.read_text() == failing
    assert capsys.readouterr().err == f"{log_name}: tests failed (exit 1); see {log_name}.failed\n"
    assert sub.update_logs([log_name], python=python, partial=True) == []
    assert log.read_text() == failing and not failed.exists()
    assert capsys.readouterr().out.endswith(f"{log_name}: written, with failing tests (see the FAIL blocks in it)\n")
    python, _ = run_prints(all_ok, 0, cut=True)
    assert sub.update_logs([log_name], python=python, partial=True) == [] and log.read_text() == failing
    assert capsys.readouterr().out == f"{log_name}: up to date (with failing tests)\n"
    assert sub.update_logs([log_name], python=python) == [log_name]   # without partial it runs: cut (exit 0), refused
    assert log.read_text() == failing and failed.read_text().count("=== END") == len(tests) - 1
    log.unlink()
    assert sub.update_logs([log_name], python=python, partial=True) == [log_name] and not log.exists()


@pytest.mark.parametrize("data, problem", [
    (b"", "submission.csv: the header must be 'Id,Category', got nothing"),
    (b"id,category,x,y\n", "submission.csv: the header must be 'Id,Category', got ['id', 'category', 'x']"),
    (b"\xff\xfe", "submission.csv: not a readable CSV ('utf-8' codec can't decode byte 0xff in position 0: invalid "
                  "start byte); write it with save_csv"),
    (b"Id,Category\n0,1\n", "submission.csv: 1 rows, expected 5000 (one per private-test image)"),
    ("Id,Category\n" + "".join(f"{i},{i % 10}\n" for i in range(4999)) + "4999,X\n",
     "submission.csv: row 5001 is ['4999', 'X'], expected [4999, a class 0-9]"),
    ("Id,Category\n" + "".join(f"{i},{i % 10}\n" for i in range(4999)) + "4999,10\n",
     "submission.csv: row 5001 is ['4999', '10'], expected [4999, a class 0-9]"),
    ("Id,Category\n1,1\n" + "".join(f"{i},{i % 10}\n" for i in range(1, 5000)),
     "submission.csv: row 2 is ['1', '1'], expected [0, a class 0-9]"),
    (" Id , Category \n" + "".join(f" {i} , {i % 10} \n" for i in range(5000)), None),
])
def test_the_csv_check_names_what_is_wrong_in_words(data, problem):
    data = data.encode() if isinstance(data, str) else data
    assert sub.check_csv(data) == ([problem] if problem else [])


def test_report_says_in_words_what_the_autograder_would_make_of_the_zip(capsys):
    assert sub.report("s.zip", ["hw2_numpy.py: missing", "submission.csv: missing"], ["x"]) == 1
    assert capsys.readouterr() == ("", "problem: hw2_numpy.py: missing\nproblem: submission.csv: missing\n"
                                       "s.zip: 2 problem(s); the autograder would not accept it\n")
    assert sub.report("s.zip", [], ["evaluation_numpy.txt: test test_relu failed"]) == 0
    assert capsys.readouterr() == ("unfinished: evaluation_numpy.txt: test test_relu failed\ns.zip: ok as work in "
                                   "progress (1 unfinished item(s) above: the autograder gives them no credit)\n", "")
    assert sub.report("s.zip", []) == 0
    assert capsys.readouterr() == ("s.zip: ok (the 16 files, logs complete and matching the code)\n", "")


def test_build_names_the_files_it_lacks(tmp_path, monkeypatch):
    """The sources copied, the logs, the CSV and the data step missing: build names exactly those;
    work in progress may lack only the CSV."""
    project_with(tmp_path, monkeypatch, python_sources())
    lacking = ["submission.csv", "evaluation_numpy.txt", "evaluation_mnist.txt", "evaluation_cifar.txt", "get_dataset.sh"]
    with pytest.raises(FileNotFoundError) as refused:
        sub.build(str(tmp_path / "s.zip"))
    assert str(refused.value) == f"cannot build the submission, missing: {', '.join(lacking)} (run `make`)"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "submission.csv").write_text("Id,Category\n")
    monkeypatch.chdir(tmp_path / "elsewhere")   # a CSV where the command runs is not the project's
    with pytest.raises(FileNotFoundError) as refused:
        sub.build(str(tmp_path / "s.zip"), partial=True)
    assert str(refused.value) == f"cannot build the submission, missing: {', '.join(lacking[1:])} (run `make`)"


def test_a_log_without_its_header_is_no_log_at_all():
    assert sub.check_log("evaluation_numpy.txt", "", lambda name: None, ["test_relu"])[1] == []
    problems, failing = sub.check_log("evaluation_numpy.txt", "=== BEGIN test_relu ===\nOK\n=== END test_relu ===\n",
                                      lambda name: None, ["test_relu"])
    assert problems and failing == [] and all("FINGERPRINT" in problem or "header" in problem or "fingerprint"
                                              in problem for problem in problems), problems


def test_bytes_that_are_not_utf8_in_a_log_are_read_not_raised(tmp_path, monkeypatch):
    """A log with a stray byte (a test printed binary) is still a log to judge: its state and its
    check come back, never a UnicodeDecodeError."""
    project = project_with(tmp_path, monkeypatch, good_files())
    log = project / "evaluation_numpy.txt"
    user, seed = sub.read_identity(sub.read_project_file("hw2_utils.py"))
    assert sub.log_state("evaluation_numpy.txt", user, seed) == "passed"
    log.write_bytes(log.read_bytes().replace(b"OK\n", b"OK\xff\n", 1))
    assert sub.log_state("evaluation_numpy.txt", user, seed) is None   # "OK\ufffd" is no outcome: not whole
    cut = b"\n".join(log.read_bytes().splitlines()[:-1]) + b"\n"
    problems, _ = sub.check_log("evaluation_numpy.txt", cut.decode("utf-8", "replace"), lambda name: None,
                                sub.script_tests(sub.read_project_file("tests/hw2_test_numpy.py")))
    assert problems and all(problem.endswith("regenerate it with `make evaluation_numpy.txt`")
                            for problem in problems if "fingerprint" not in problem), problems


def member(name, data=b"x = 1\n", mode=0o100644):
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr, info.compress_type = mode << 16, zipfile.ZIP_DEFLATED
    return info, data


FOLDERS = "folders are not allowed, files must be at the top level of the zip"


@pytest.mark.parametrize("bad, problem", [
    (member("hw2/a.py"), f"hw2/a.py: {FOLDERS}"),
    (member("..\\a.py"), f"..\\a.py: {FOLDERS}"),
    (member("/a.py"), f"/a.py: {FOLDERS}"),
    (member(".."), f"..: {FOLDERS}"),
    (member("."), f".: {FOLDERS}"),
    (member(""), f": {FOLDERS}"),
    (member("link.py", b"/etc/passwd", mode=0o120777), "link.py: a symbolic link; zip the file itself"),
    (member("big.py", b"x" * 11), "big.py: larger than 0 MiB; a submission file is never that large"),
])
def test_a_refused_member_is_named_and_the_rest_of_the_zip_is_still_read(tmp_path, bad, problem):
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in (bad, member("after.py", b"y = 2\n")):
            archive.writestr(info, data)
    files, refused, problems = sub.read_zip(path, max_member=10, max_total=1000)
    assert problems == [problem] and refused == {bad[0].filename}
    assert files == {"after.py": b"y = 2\n"}


def test_a_zip_of_more_members_than_allowed_is_refused_whole(tmp_path):
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(3):
            archive.writestr(*member(f"m{number}.py"))
    assert sub.read_zip(path, max_members=3) == ({f"m{number}.py": b"x = 1\n" for number in range(3)}, set(), [])
    assert sub.read_zip(path, max_members=2) == ({}, set(), [
        "the zip has 3 entries, more than 2; zip only the submission files"])
    # the bounds a submission is read with by default (the checker's and the grader's): 64 members,
    # 8 MiB each, 32 MiB in all
    assert (sub.MAX_MEMBERS, sub.MAX_MEMBER_BYTES, sub.MAX_TOTAL_BYTES) == (64, 8 * 2 ** 20, 32 * 2 ** 20)
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(65):
            archive.writestr(*member(f"m{number}.py"))
    assert sub.read_zip(path)[2] == ["the zip has 65 entries, more than 64; zip only the submission files"]
