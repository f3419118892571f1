"""Reading an upload (autograder/intake.py), in this process: what is read, what is refused, and the
words each refusal says, written out."""
import os
import zipfile

import numpy as np

import hw2_submission
from autograder import intake
from test_grade import forged_log, reference_files

NUMPY_TESTS = hw2_submission.script_tests(hw2_submission.read_project_file(hw2_submission.LOGS["evaluation_numpy.txt"]))


def test_no_upload_folder_reads_as_nothing(tmp_path):
    assert intake.read_submission(str(tmp_path / "absent")) == ({}, [])


def test_two_zips_and_no_files_are_refused_by_name(tmp_path):
    for name in ("b.zip", "a.zip"):
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            archive.writestr("submission.csv", "Id,Category\n")
    assert intake.read_submission(str(tmp_path)) == \
        ({}, ["the upload holds 2 zips (a.zip, b.zip); upload one submission.zip"])


def test_what_is_not_a_plain_file_is_named_and_the_rest_read(tmp_path):
    (tmp_path / "hw2_numpy.py").write_bytes(b"x = 1\n")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    (tmp_path / "link.py").symlink_to(tmp_path / "hw2_numpy.py")
    files, problems = intake.read_submission(str(tmp_path))
    assert files == {"hw2_numpy.py": b"x = 1\n"}
    assert problems == ["folder/: folders are not read; upload the files at the top level",
                        "link.py: not a plain file (Too many levels of symbolic links); upload the file itself",
                        "pipe: not a plain file"]


def test_a_log_that_is_not_utf8_or_lacks_a_test_is_a_problem_not_a_crash():
    files = reference_files()
    files["evaluation_numpy.txt"] = forged_log("evaluation_numpy.txt", files)
    good = intake.submitted_log("evaluation_numpy.txt", files, NUMPY_TESTS)
    assert good.problem == "" and set(good.outcomes) == set(NUMPY_TESTS)
    assert all(outcome == "OK" for outcome, _ in good.outcomes.values())
    lines = files["evaluation_numpy.txt"].decode().splitlines(keepends=True)
    begin = lines.index("=== BEGIN test_relu ===\n")
    cut = "".join(lines[:begin] + lines[begin + 3:]).encode()
    assert intake.submitted_log("evaluation_numpy.txt", {**files, "evaluation_numpy.txt": cut}, NUMPY_TESTS).problem \
        == "evaluation_numpy.txt: incomplete or out of order: expected BEGIN test_relu, found BEGIN test_max_pool; " \
           "regenerate it with `make evaluation_numpy.txt`"
    garbled = files["evaluation_numpy.txt"].replace(b"OK\n", b"OK \xff\n", 1)
    read = intake.submitted_log("evaluation_numpy.txt", {**files, "evaluation_numpy.txt": garbled}, NUMPY_TESTS)
    assert read.outcomes["test_convolution_small"] == (None, "OK \ufffd")   # read, and not an OK


def csv_rows(rows):
    return ("\n".join(["Id,Category"] + rows) + "\n").encode()


def test_the_csvs_problems_in_words():
    every = [f"{i},{i % 10}" for i in range(5000)]
    predictions, problem = intake.read_predictions(csv_rows(every[:2500] + [""] + every[2500:]))
    assert problem == "" and predictions.tolist() == [i % 10 for i in range(5000)]   # a blank line is skipped
    assert intake.read_predictions(b"id,category\n0,1\n") == (None, "submission.csv: the header must be 'Id,Category'")
    assert intake.read_predictions(csv_rows(["1,2,3,4"]))[1] == \
        "submission.csv line 2: expected 'Id,Category' integers, got ['1', '2', '3']"
    assert intake.read_predictions(csv_rows(["5000,1"]))[1] == \
        "submission.csv line 2: Id must be 0-4999 and Category 0-9"
    assert intake.read_predictions(csv_rows(["0,10"]))[1] == "submission.csv line 2: Id must be 0-4999 and Category 0-9"
    assert intake.read_predictions(csv_rows(["0,1", "0,2"]))[1] == "submission.csv line 3: Id 0 appears twice"
    assert intake.read_predictions(csv_rows(every[1:]))[1] == \
        "submission.csv lacks 1 Ids (first: 0); predict every private-test image"
    assert intake.read_predictions(b"\xff\xfe")[1].startswith("submission.csv is not a readable CSV (")


def test_labels_are_refused_with_the_fix(tmp_path):
    assert intake.load_labels("") is None and intake.load_labels(str(tmp_path / "absent.npy")) is None
    for name, value in (("short", np.zeros(10, int)), ("floats", np.zeros(5000)), ("eleven", np.full(5000, 10)),
                        ("negative", np.full(5000, -1))):
        np.save(tmp_path / f"{name}.npy", value)
        try:
            intake.load_labels(str(tmp_path / f"{name}.npy"))
        except intake.GraderError as error:
            assert f"{name}.npy: expected 5000 class ids 0-9, got {value.dtype} {value.shape}" in str(error)
        else:
            raise AssertionError(f"{name} accepted")
    (tmp_path / "text.npy").write_text("not numpy")
    try:
        intake.load_labels(str(tmp_path / "text.npy"))
    except intake.GraderError as error:
        assert "not a .npy array" in str(error) and "python hw2_data.py private-labels" in str(error)
    else:
        raise AssertionError("a text file accepted")
    good = np.arange(5000) % 10
    np.save(tmp_path / "good.npy", good)
    assert intake.load_labels(str(tmp_path / "good.npy")).tolist() == good.tolist()


def test_loose_files_past_the_bounds_are_refused_one_by_one(tmp_path):
    """8 MiB a file, 32 MiB the upload (hw2_submission's bounds, as for a zip): each file past one is named."""
    mib = 2 ** 20
    sizes = {"a.bin": 9 * mib, "b.bin": 7 * mib, "c.bin": 7 * mib, "d.bin": 7 * mib, "e.bin": 7 * mib, "z.py": 10}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    files, problems = intake.read_submission(str(tmp_path))
    assert sorted(files) == ["b.bin", "c.bin", "d.bin"]
    assert problems == ["a.bin: larger than 8 MiB; a submission file is never that large",
                        "e.bin: makes the upload larger than 32 MiB; a submission file is never that large",
                        "z.py: makes the upload larger than 32 MiB; a submission file is never that large"]


def test_an_upload_of_exactly_32_mib_is_read_whole(tmp_path):
    for name in "abcd":
        (tmp_path / f"{name}.bin").write_bytes(b"x" * 8 * 2 ** 20)   # 8 MiB each: both bounds met exactly
    files, problems = intake.read_submission(str(tmp_path))
    assert sorted(files) == ["a.bin", "b.bin", "c.bin", "d.bin"] and problems == []
