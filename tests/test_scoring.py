"""What a submission's results.json says (autograder/scoring.py), written out literally: the points of
each exercise and tier as the handout gives them, every entry's fields as Gradescope reads them, and
the text a student or the staff see. Nothing here is read back from the code under test."""
import io
import time

import numpy as np
import pytest

from autograder import scoring
from predictions import csv_bytes, predictions_with

TIERS_TEXT = ">= 70%: 3, >= 75%: 5, >= 80%: 8, >= 83%: 10"
NAME = "7.3 own model: private-test accuracy"


def test_the_handouts_points():
    assert [(e.number, e.title, e.points, e.log) for e in scoring.EXERCISES] == [
        ("5.1", "MNIST model 1", 3, "evaluation_mnist.txt"), ("5.2", "MNIST model 2 (your own)", 5, "evaluation_mnist.txt"),
        ("6.1", "convolution", 5, "evaluation_numpy.txt"), ("6.2", "relu", 2, "evaluation_numpy.txt"),
        ("6.3", "max-pool", 3, "evaluation_numpy.txt"), ("6.4", "dropout", 2, "evaluation_numpy.txt"),
        ("7.1", "CIFAR-10 model", 2, "evaluation_cifar.txt"), ("7.2", "loss and optimizer", 2, "evaluation_cifar.txt")]
    assert scoring.OWN_MODEL_TIERS == ((0.83, 10), (0.80, 8), (0.75, 5), (0.70, 3)) and scoring.MAX_SCORE == 34
    assert scoring.ALL_PARTS == {"5.1", "5.2", "6.1", "6.2", "6.3", "6.4", "7.1", "7.2", "7.3"}


def test_entry_fields():
    assert scoring.test_entry("n", "6.2", 2, 2, "out") == {
        "name": "n", "number": "6.2", "score": 2, "max_score": 2, "status": "passed", "output": "out",
        "visibility": "visible"}
    assert scoring.test_entry("n", "6.2", 1.5, 2, "out", visibility="hidden") == {
        "name": "n", "number": "6.2", "score": 1.5, "max_score": 2, "status": "failed", "output": "out",
        "visibility": "hidden"}
    assert scoring.test_entry("n", "7.3", 0, 0, "")["status"] == "passed"   # an information entry


@pytest.fixture
def labels(tmp_path):
    values = np.arange(5000) % 10
    np.save(tmp_path / "labels.npy", values)
    return values, str(tmp_path / "labels.npy")


def test_the_own_model_entries_in_full(labels):
    values, path = labels
    entries, board = scoring.own_model_entries({"submission.csv": csv_bytes(predictions_with(values, 0.8))}, path)
    assert entries == [
        {"name": NAME, "number": "7.3", "score": 8, "max_score": 10, "status": "failed",
         "output": f"reached the 80% tier ({TIERS_TEXT})", "visibility": "visible"},
        {"name": "7.3 own model: exact private-test accuracy", "number": "7.3", "score": 0, "max_score": 0,
         "status": "passed", "output": "0.8000", "visibility": "after_due_date"}]
    assert board == [{"name": "Private-test accuracy", "value": 0.8, "order": "desc"}]
    entries, board = scoring.own_model_entries({"submission.csv": csv_bytes(predictions_with(values, 0.6998))}, path)
    assert entries[0]["output"] == f"reached no tier ({TIERS_TEXT})" and entries[0]["score"] == 0
    assert entries[1]["output"] == "0.6998" and board[0]["value"] == 0.6998
    entries, _ = scoring.own_model_entries({"submission.csv": csv_bytes(values)}, path)
    assert (entries[0]["score"], entries[0]["status"], entries[0]["output"]) == \
        (10, "passed", f"reached the 83% tier ({TIERS_TEXT})")


@pytest.mark.parametrize("files, output", [
    ({}, "submission.csv is missing from the submission"),
    ({"submission.csv": b"id,category\n0,1\n"}, "submission.csv: the header must be 'Id,Category'"),
])
def test_no_usable_csv_is_one_entry_of_0_and_no_leaderboard(labels, files, output):
    entries, board = scoring.own_model_entries(files, labels[1])
    assert entries == [{"name": NAME, "number": "7.3", "score": 0, "max_score": 10, "status": "failed",
                        "output": output, "visibility": "visible"}]
    assert board == []


def test_no_labels_is_one_entry_that_tells_the_staff_the_fix(labels):
    entries, board = scoring.own_model_entries({"submission.csv": csv_bytes(labels[0])}, "/nonexistent/labels.npy")
    assert entries == [{"name": NAME, "number": "7.3", "score": 0, "max_score": 10, "status": "failed",
                        "output": "the private labels are not available to this grader, so 7.3 is not scored "
                                  "(course staff: pass --labels or build the autograder with LABELS=...)",
                        "visibility": "visible"}]
    assert board == []


def test_an_exercise_entry_in_full():
    grading = scoring.Grading(checks={"6.1": [("small", ""), ("large", "values differ"), ("float32", "")]},
                              notes={"6.1": ["a note"]})
    (entry,) = scoring.exercise_entries(grading, ["x.py: not a plain file"], {"6.1"})
    assert entry == {"name": "6.1 convolution", "number": "6.1", "score": 3.3333, "max_score": 5, "status": "failed",
                     "output": "2/3 checks passed\nFAILED: large: values differ\na note\n"
                               "problems reading the upload: x.py: not a plain file", "visibility": "visible"}
    gated = scoring.Grading(checks={"6.2": [("relu", "")]}, gates={"6.2": "evaluation_numpy.txt is missing"})
    (entry,) = scoring.exercise_entries(gated, ["a", "b"], {"6.2", "6.3"} - {"6.3"})
    assert entry["output"] == "0 points: the log does not back this exercise: evaluation_numpy.txt is missing\n" \
                              "1/1 checks passed\nproblems reading the upload: a; b"
    assert (entry["score"], entry["status"]) == (0, "failed")
    whole = scoring.Grading(checks={"6.2": [("relu", "")]})
    (entry,) = scoring.exercise_entries(whole, ["a"], {"6.2"})   # nothing lost: the problems go unmentioned
    assert (entry["score"], entry["status"], entry["output"]) == (2, "passed", "1/1 checks passed")
    assert [e["number"] for e in scoring.exercise_entries(scoring.Grading(), [], scoring.ALL_PARTS)] == \
        ["5.1", "5.2", "6.1", "6.2", "6.3", "6.4", "7.1", "7.2"]   # handout order, 7.3 apart


def test_failure_results_tell_the_student_it_is_not_their_fault():
    results = scoring.failure_results(start=time.monotonic() - 5)
    assert results.pop("execution_time") == 5
    assert results == {"score": 0, "output": "The autograder itself failed on this submission; please contact the "
                       "course staff (this is not your fault).", "stdout_visibility": "hidden", "tests": []}


def test_the_printed_table():
    results = {"score": 10.5, "execution_time": 12, "tests": [
        scoring.test_entry("6.2 relu", "6.2", 2, 2, "1/1 checks passed\nmore"),
        scoring.test_entry("6.1 convolution", "6.1", 0.5, 5, ""),
        scoring.test_entry("7.3 own model: private-test accuracy", "7.3", 8, 10, "reached the 80% tier")]}
    out = io.StringIO()
    scoring.print_table(results, out)
    assert out.getvalue() == (
        "6.2 relu                                  2/2  passed  1/1 checks passed\n"
        "6.1 convolution                         0.5/5  failed  \n"
        "7.3 own model: private-test accuracy     8/10  failed  reached the 80% tier\n"
        "total                                 10.5/17  (12 s)\n")
    empty = io.StringIO()
    scoring.print_table({"score": 0, "execution_time": 0, "tests": []}, empty)
    assert empty.getvalue() == "total  0/34  (0 s)\n"


def test_the_printed_table_cuts_a_long_first_line_at_100_characters():
    out = io.StringIO()
    scoring.print_table({"score": 0, "execution_time": 1, "tests": [
        scoring.test_entry("n", "6.2", 0, 2, "x" * 99 + "yz\nsecond line")]}, out)
    assert out.getvalue().splitlines()[0] == "n         0/2  failed  " + "x" * 99 + "y"
