"""The grader's judging in this process: autograder/grade.py's `grade` with a stand-in for the box, and
the checks of Part I and 7.1/7.2 on observations written out by hand.

The stand-in answers each box task as the box would, from the reference's own functions run here
(box_task's numpy task itself, with a mistake planted where a test needs one) or from a result written
out by hand; what only the real box can show (the sandbox, its limits, the attacks) is
tests/test_grade.py's. Here every rule that turns what a box saw into points must bite, in seconds
and in a process that mutmut sees (README, "Mutation testing")."""
import contextlib
import dataclasses
import io
import json
import os
import shutil
import sys
import tempfile
from unittest import mock

import numpy as np
import pytest

import hw2_numpy
import hw2_submission
from autograder import box_task, grade, intake, sandbox
from hw2_data import PRIVATE_TEST_SIZE
from commands import run_main
from predictions import csv_bytes, predictions_with
from test_box_task import as_the_students, student_module
from test_grade import explain, scores
from test_regrade import numpy_work

PART2_AND_CSV = frozenset({"6.1", "6.2", "6.3", "6.4", "7.3"})
SEED = 11
LABELS = np.random.default_rng(3).integers(0, 10, PRIVATE_TEST_SIZE)


def finished(result, seconds=0.5):
    """The Outcome of a task that ran to its end and wrote `result` (as JSON would carry it)."""
    return sandbox.Outcome(0, False, seconds, "", "", json.loads(json.dumps(result)), "", True)


class StandInBox:
    """grade.Box's interface without the sandbox: answers[kind](task, inputs, files) is the task's result
    (or an Outcome, returned as it is); `calls` lists the kinds asked for, in order, `tasks` their tasks."""
    def __init__(self, **answers):
        self.data_dir = os.path.join(hw2_submission.ROOT, "data")
        self.answers = {"import": lambda task, inputs, files: {"imported": task["module"]},
                        "numpy": numpy_answer(hw2_numpy), "public_tests": rerun_answer(), **answers}
        self.calls, self.tasks = [], []

    def run(self, kind, task, inputs, files):
        self.calls.append(kind)
        self.tasks.append(task)
        answer = self.answers[kind](task, inputs, files)
        return answer if isinstance(answer, sandbox.Outcome) else finished(answer)


def numpy_answer(module):
    """box_task's numpy task run here on `module` as the student's hw2_numpy."""
    def answer(task, inputs, files):
        with as_the_students(module):
            return box_task.numpy_task(task, inputs)
    return answer


def rerun_answer(changed=None):
    """A re-run of the public tests that prints what the submitted log printed; changed: test -> its entry's
    fields that differ ({"outcome": "FAIL", "error": ...}, {"printed": ...})."""
    def answer(task, inputs, files):
        log_name = next(log for log, script in hw2_submission.LOGS.items() if task["script"] in script)
        submitted = intake.submitted_log(log_name, files, task["tests"])
        return {"tests": {test: {"outcome": "OK", "printed": submitted.outcomes[test][1], "error": "",
                                **(changed or {}).get(test, {})} for test in task["tests"]}}
    return answer


def graded(tmp_path, box, files=None, selected=PART2_AND_CSV):
    """grade.grade's results of `files` (default: the reference's Part II with an all-OK log and a
    submission.csv 81% right) in a grading root under tmp_path; {number: entry} of its exercises too."""
    files = files if files is not None else {**numpy_work(), "submission.csv": csv_bytes(predictions_with(LABELS, 0.81))}
    upload = tmp_path / "upload"
    upload.mkdir(parents=True)
    for name, data in files.items():
        (upload / name).write_bytes(data)
    np.save(tmp_path / "labels.npy", LABELS)
    paths = grade.temporary_root(str(upload), str(tmp_path / "labels.npy"))
    try:
        results = grade.grade(paths, box, SEED, selected)
    finally:
        shutil.rmtree(paths.root, ignore_errors=True)
    return results, {test["number"]: test for test in results["tests"] if test["max_score"] > 0}


# --------------------------------------------------------------------------- Part II and the logs, graded

def test_the_reference_part2_scores_every_point_with_one_import_and_one_rerun(tmp_path):
    box = StandInBox()
    results, by_number = graded(tmp_path, box)
    assert scores(results) == {"6.1": 5, "6.2": 2, "6.3": 3, "6.4": 2, "7.3": 8}
    assert results["score"] == 20 and results["output"] == "Auto-graded: 20 of 34 points."
    assert box.calls == ["import", "numpy", "numpy", "numpy", "numpy", "public_tests"]
    assert by_number["6.1"]["output"] == "20/20 checks passed" and by_number["6.1"]["status"] == "passed"
    assert by_number["6.2"]["output"] == "6/6 checks passed"
    assert by_number["6.3"]["output"] == "12/12 checks passed"
    assert by_number["6.4"]["output"] == "9/9 checks passed"
    assert results["extra_data"]["read_problems"] == []
    assert set(results["extra_data"]["seconds"]) == {"import hw2_numpy", "6.1 hidden cases", "6.2 hidden cases",
                                                    "6.3 hidden cases", "6.4 hidden cases",
                                                    "re-run of evaluation_numpy.txt"}
    assert "5.3 written answers (graded by hand)" not in {test["name"] for test in results["tests"]}


def test_the_whole_grading_lists_the_exercises_graded_by_hand_at_0_of_0(tmp_path):
    box = StandInBox(mnist=lambda *_: {"task_error": "Traceback\nImportError: no tensorflow here"},
                     cifar=lambda *_: {"task_error": "Traceback\nImportError: no tensorflow here"})
    box.answers["import"] = lambda task, inputs, files: (
        {"imported": task["module"]} if task["module"] == "hw2_numpy" else {"task_error": "SyntaxError: stand-in"})
    results, by_number = graded(tmp_path, box, selected=grade.ALL_PARTS)
    assert scores(results) == {"5.1": 0, "5.2": 0, "6.1": 5, "6.2": 2, "6.3": 3, "6.4": 2, "7.1": 0, "7.2": 0,
                                 "7.3": 8}
    by_hand = [(test["name"], test["score"], test["max_score"], test["output"]) for test in results["tests"]
               if test["max_score"] == 0 and test["number"] in ("5.3", "7.3") and "by hand" in test["name"]]
    assert by_hand == [("5.3 written answers (graded by hand)", 0, 0, "worth 7 points, graded by the course staff"),
                       ("7.3 own model: report (graded by hand)", 0, 0, "worth 2 points, graded by the course staff"),
                       ("7.3 own model: implementation (graded by hand)", 0, 0,
                        "worth 4 points, graded by the course staff")]
    # a module that does not import costs its exercises, checked once per module, and nothing is run
    assert box.calls == ["import", "numpy", "numpy", "numpy", "numpy", "import", "import", "public_tests"]
    assert "importing hw2_mnist.py: your code could not be run: SyntaxError: stand-in" in by_number["5.1"]["output"]


def test_partial_credit_is_the_share_of_hidden_cases_passed(tmp_path):
    """grayscale_filter returning its input fails 2 of 6.1's 20 cases: 5 * 18/20 = 4.5 points."""
    box = StandInBox(numpy=numpy_answer(student_module(hw2_numpy, grayscale_filter=lambda w: w)))
    results, by_number = graded(tmp_path, box)
    assert scores(results) == {"6.1": 4.5, "6.2": 2, "6.3": 3, "6.4": 2, "7.3": 8}
    lines = by_number["6.1"]["output"].splitlines()
    assert lines[0] == "18/20 checks passed" and by_number["6.1"]["status"] == "failed"
    assert [line.split(": ")[1] for line in lines[1:]] == ["grayscale_filter on random filters"] * 2


def test_a_function_that_raises_fails_each_case_with_its_error(tmp_path):
    def relu(x):
        raise ValueError("negative zero")
    box = StandInBox(numpy=numpy_answer(student_module(hw2_numpy, relu=relu)))
    _, by_number = graded(tmp_path, box)
    assert by_number["6.2"]["score"] == 0
    lines = by_number["6.2"]["output"].splitlines()
    assert lines[0] == "0/6 checks passed" and len(lines) == 7
    assert all(line.startswith("FAILED: relu ") and line.endswith(": raised ValueError: negative zero")
               for line in lines[1:])


def test_a_call_past_its_time_limit_fails_and_its_function_is_not_called_again(tmp_path, monkeypatch):
    monkeypatch.setattr(box_task, "check_seconds", 1)
    calls = []

    def relu(x):
        calls.append(x.shape)
        while True:
            pass
    box = StandInBox(numpy=numpy_answer(student_module(hw2_numpy, relu=relu)))
    results, by_number = graded(tmp_path, box, selected=frozenset({"6.2", "6.3"}))
    assert scores(results) == {"6.2": 0, "6.3": 3} and len(calls) == 1
    lines = by_number["6.2"]["output"].splitlines()
    assert lines[1].endswith(": raised autograder.box_task.CheckTimeout: stopped after 1 s")
    assert all(line.endswith(": raised not run: an earlier call of relu ran past its time limit") for line in lines[2:])
    assert len(lines) == 7


def test_a_task_that_did_not_finish_fails_its_own_exercise_saying_why(tmp_path):
    stopped = sandbox.Outcome(-9, True, 120.0, "", "Traceback (most recent call last):\n  ...\nMemoryError\n", None,
                              "ran past the 120 s wall-clock limit", True)
    answers = numpy_answer(hw2_numpy)
    box = StandInBox(numpy=lambda task, inputs, files: stopped if task["cases"][0]["function"] == "max_pool"
                     else answers(task, inputs, files))
    results, by_number = graded(tmp_path, box)
    assert scores(results) == {"6.1": 5, "6.2": 2, "6.3": 0, "6.4": 2, "7.3": 8}
    lines = by_number["6.3"]["output"].splitlines()
    assert lines[0] == "0/12 checks passed"
    assert all(line.endswith(": your code did not finish: ran past the 120 s wall-clock limit (MemoryError)")
               for line in lines[1:])


@pytest.mark.parametrize("result, reason", [
    ([1, 2], "the task's result is not an object"),
    ({"task_error": "Traceback (most recent call last):\n  x\nKeyError: 'cases'\n\n"},
     "your code could not be run: KeyError: 'cases'"),
    ({"outputs": []}, "not an encoded array"),
    ({"outputs": "all right"}, "not an encoded array"),
    ({"outputs": [{"value": [1.0]}] * 20}, "not an encoded array"),
])
def test_what_a_task_hands_back_must_be_each_cases_array(tmp_path, result, reason):
    box = StandInBox(numpy=lambda task, inputs, files: result)
    _, by_number = graded(tmp_path, box, selected=frozenset({"6.1"}))
    assert by_number["6.1"]["score"] == 0
    assert all(line.endswith(": " + reason) for line in by_number["6.1"]["output"].splitlines()[1:])


def test_a_rerun_that_fails_takes_the_exercise_and_other_printed_numbers_are_a_note(tmp_path):
    box = StandInBox(public_tests=rerun_answer({
        "test_relu": {"outcome": "FAIL", "error": "Traceback\n  ...\nAssertionError: -0.0 is not 0.0\n"},
        "test_max_pool": {"printed": "max difference 1e-17\n"},
        "test_dropout_test": {"outcome": "ERROR", "error": 42}}))   # whatever is not OK fails
    results, by_number = graded(tmp_path, box)
    assert scores(results) == {"6.1": 5, "6.2": 0, "6.3": 3, "6.4": 0, "7.3": 8}
    assert by_number["6.2"]["output"].splitlines()[0] == (
        "0 points: the log does not back this exercise: test_relu fails when the grader re-runs your code "
        "(AssertionError: -0.0 is not 0.0); your log says OK")
    assert by_number["6.2"]["output"].splitlines()[1] == "6/6 checks passed"
    assert by_number["6.3"]["output"].splitlines() == [
        "12/12 checks passed", "test_max_pool printed other numbers on the grader's CPU (information only): "
        "line 1: log '', re-run 'max difference 1e-17'"]
    assert "test_dropout_test fails when the grader re-runs your code (42)" in by_number["6.4"]["output"]


def test_a_rerun_that_could_not_run_or_lost_a_test_takes_the_exercises(tmp_path):
    box = StandInBox(public_tests=lambda task, inputs, files: sandbox.Outcome(   # exit 0: sys.exit(0) in a test
        0, False, 3.0, "", "Traceback (most recent call last):\nImportError: numpy.core\n", None,
        "the task wrote no result.json", True))
    results, by_number = graded(tmp_path, box)
    assert scores(results) == {"6.1": 0, "6.2": 0, "6.3": 0, "6.4": 0, "7.3": 8}
    assert by_number["6.2"]["output"].splitlines()[0] == (
        "0 points: the log does not back this exercise: re-running evaluation_numpy.txt: your code did not finish: "
        "the task wrote no result.json (ImportError: numpy.core)")
    missing = StandInBox(public_tests=lambda task, inputs, files: {"tests": {"test_relu": "OK"}})
    results, by_number = graded(tmp_path / "again", missing)
    assert by_number["6.2"]["output"].splitlines()[0].endswith(
        "test_relu fails when the grader re-runs your code (no outcome); your log says OK")
    assert "test_max_pool fails when the grader re-runs your code (no outcome)" in by_number["6.3"]["output"]


def test_a_test_not_ok_in_the_log_costs_its_exercise_and_a_bad_log_is_not_rerun(tmp_path):
    files = {**numpy_work(), "submission.csv": csv_bytes(predictions_with(LABELS, 0.81))}
    log = files["evaluation_numpy.txt"].decode()
    files["evaluation_numpy.txt"] = log.replace("=== BEGIN test_relu ===\nOK\n", "=== BEGIN test_relu ===\nFAIL\n") \
        .replace("=== BEGIN test_max_pool ===\nOK\n", "=== BEGIN test_max_pool ===\nPASSED\n").encode()   # not OK
    box = StandInBox()
    results, by_number = graded(tmp_path, box, files)
    assert scores(results) == {"6.1": 5, "6.2": 0, "6.3": 0, "6.4": 2, "7.3": 8}
    assert by_number["6.2"]["output"].splitlines()[0] == \
        "0 points: the log does not back this exercise: test_relu is not OK in evaluation_numpy.txt"
    assert by_number["6.3"]["output"].splitlines()[0] == \
        "0 points: the log does not back this exercise: test_max_pool is not OK in evaluation_numpy.txt"
    del files["evaluation_numpy.txt"]
    box = StandInBox()
    results, by_number = graded(tmp_path / "without", box, files)
    assert scores(results) == {"6.1": 0, "6.2": 0, "6.3": 0, "6.4": 0, "7.3": 8}
    assert "public_tests" not in box.calls


def test_only_the_selected_parts_are_graded_and_run(tmp_path):
    box = StandInBox()
    results, by_number = graded(tmp_path, box, selected=frozenset({"6.3"}))
    assert scores(results) == {"6.3": 3} and results["score"] == 3
    assert box.calls == ["import", "numpy", "public_tests"]
    box = StandInBox()
    results, by_number = graded(tmp_path / "csv", box, selected=frozenset({"7.3"}))
    assert scores(results) == {"7.3": 8} and box.calls == []
    assert results["leaderboard"] == [{"name": "Private-test accuracy", "value": 0.81, "order": "desc"}]


def test_the_hidden_cases_depend_on_the_seed_and_the_part_only():
    first, again = grade.part_rng(SEED, "part2").standard_normal(4), grade.part_rng(SEED, "part2").standard_normal(4)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, grade.part_rng(SEED + 1, "part2").standard_normal(4))
    assert not np.array_equal(first, grade.part_rng(SEED, "mnist").standard_normal(4))


# --------------------------------------------------------------------------- Parts I and III graded: what the box is given

def labels_by_image(split):
    """{image bytes: label} of an MNIST split (float32 rows, as the grader reads them)."""
    return {x.tobytes(): int(y) for x, y in zip(split.X, split.Y)}


def perfect_mnist_model(task, inputs, files):
    """A stand-in for the MNIST task (not TensorFlow's minutes) whose models are right on every image it is given: the reference's
    descriptions, and probabilities looked up from MNIST itself, so that only images that are MNIST's,
    paired with their own labels, (28, 28, 1) and float32, score."""
    import hw2_mnist
    import hw2_utils
    splits = hw2_utils.load_mnist(os.path.join(hw2_submission.ROOT, "data"))
    train, test = labels_by_image(splits.train), labels_by_image(splits.test)
    images_right = inputs["train_X"].shape == (3000, 28, 28, 1) and inputs["eval_X"].shape == (1000, 28, 28, 1) \
        and inputs["train_X"].dtype == inputs["eval_X"].dtype == np.float32
    trained = images_right and all(train.get(x.reshape(-1).tobytes()) == y
                                   for x, y in zip(inputs["train_X"], inputs["train_Y"]))
    found = [test.get(x.reshape(-1).tobytes(), 0) for x in inputs["eval_X"]] if trained else [0] * 1000
    probabilities = box_task.encode(np.eye(10, dtype=np.float32)[found])
    with contextlib.redirect_stdout(io.StringIO()):
        described = box_task.describe_mnist(hw2_mnist)
    return {"describe": described, "probabilities": {"1": {"value": probabilities}, "2": {"value": probabilities}}}


def reference_cifar_task(task, inputs, files):
    """The CIFAR task run here on the reference, on the grader's inputs."""
    import hw2_cifar
    with as_the_students(hw2_cifar):
        return box_task.cifar_task(task, inputs)


def test_the_models_are_given_mnists_images_with_their_labels_and_cifar_inputs_a_right_model_passes(tmp_path):
    """grade_mnist and grade_cifar with the grader's own inputs: a perfect MNIST stand-in and the reference's
    CIFAR model observed here score every point (the out_dim drawn for this seed: 7)."""
    box = StandInBox(mnist=perfect_mnist_model, cifar=reference_cifar_task)
    results, by_number = graded(tmp_path, box, selected=frozenset({"5.1", "5.2", "7.1", "7.2"}))
    assert scores(results) == {"5.1": 0, "5.2": 0, "7.1": 0, "7.2": 0}   # no MNIST or CIFAR log: gated
    checks = {number: test["output"].splitlines()[1] for number, test in by_number.items()}
    assert checks == {"5.1": "2/2 checks passed", "5.2": "3/3 checks passed", "7.1": "5/5 checks passed",
                      "7.2": "3/3 checks passed"}, explain(results)
    assert "FAILED" not in "".join(test["output"] for test in by_number.values())
    assert box.calls == ["import", "mnist", "import", "cifar"]
    assert box.tasks[1:4:2] == [{}, {"out_dim": 7, "out_dims": [10, 7]}]
    assert set(results["extra_data"]["seconds"]) == {"import hw2_mnist", "Part I models", "import hw2_cifar",
                                                    "7.1/7.2 models"}


# --------------------------------------------------------------------------- Part I: the MNIST checks

def description(**changed):
    return {"input_shape": [None, 28, 28, 1], "output_shapes": [[None, 10]], "trainable": 101770,
            "non_trainable": 0, "layers": [{"class": "Flatten"}, {"class": "Dense", "units": 128, "activation": "relu"},
                                           {"class": "Dense", "units": 10, "activation": "softmax"}], **changed}


MNIST_LABELS = np.arange(1000) % 10


def one_hot_right(share, labels=MNIST_LABELS):
    """Probabilities (float32) whose argmax is right for the first `share` of the images."""
    right = int(round(share * len(labels)))
    guesses = np.concatenate([labels[:right], (labels[right:] + 1) % 10])
    return np.eye(10, dtype=np.float32)[guesses] * 0.9 + 0.01


def mnist_observed(probabilities_1=None, probabilities_2=None, describe_1=None, describe_2=None):
    wrap = lambda value: value if isinstance(value, dict) and "error" in value else {"value": value}  # noqa: E731
    return {"describe": {"1": wrap(describe_1 or description()), "2": wrap(describe_2 or description())},
            "probabilities": {"1": wrap(box_task.encode(one_hot_right(0.9) if probabilities_1 is None
                                                        else probabilities_1)),
                              "2": wrap(box_task.encode(one_hot_right(0.9) if probabilities_2 is None
                                                        else probabilities_2))}}


def failures(checks):
    return {number: [(label, reason) for label, reason in found if reason] for number, found in checks.items()}


MNIST_REFERENCE = {"1": {"value": description()}, "2": {"value": description()}}


def test_models_that_match_and_learn_pass_every_mnist_check():
    checks = grade.mnist_checks(mnist_observed(), MNIST_REFERENCE, MNIST_LABELS)
    assert [label for label, _ in checks["5.1"]] == [
        "model 1 structure matches the handout (layers, sizes, activations, parameters)",
        "model 1 trains: 3000 images, held-out accuracy >= 0.6"]
    assert [label for label, _ in checks["5.2"]] == [
        "model 2 takes (None, 28, 28, 1) images to 10 outputs", "model 2 outputs probabilities",
        "model 2 trains: 3000 images, held-out accuracy >= 0.6"]
    assert failures(checks) == {"5.1": [], "5.2": []}


@pytest.mark.parametrize("observed, number, reason", [
    (dict(describe_1=description(trainable=101771)), "5.1", "trainable is 101771, expected 101770"),
    (dict(describe_1=description(input_shape=[None, 784])), "5.1", "input_shape is [None, 784], expected [None, 28, 28, 1]"),
    (dict(describe_1=description(output_shapes=[[None, 9]])), "5.1", "output_shapes is [[None, 9]], expected [[None, 10]]"),
    (dict(describe_1=description(non_trainable=2)), "5.1", "non_trainable is 2, expected 0"),
    (dict(describe_1=description(layers=[{"class": "Flatten"}, {"class": "Dense", "units": 64, "activation": "relu"},
                                         {"class": "Dense", "units": 10, "activation": "softmax"}])),
     "5.1", "layer 1: {'class': 'Dense', 'units': 64, 'activation': 'relu'}, expected "
            "{'class': 'Dense', 'units': 128, 'activation': 'relu'}"),
    (dict(describe_1=description(layers=description()["layers"][:2])),
     "5.1", "layer 2: None, expected {'class': 'Dense', 'units': 10, 'activation': 'softmax'}"),
    (dict(describe_1=description(layers=description()["layers"] + [{"class": "Dropout"}])), "5.1",
     "4 layers, expected 3"),
    (dict(describe_1={"error": "Traceback\nNameError: name 'Dense' is not defined\n"}), "5.1",
     "raised NameError: name 'Dense' is not defined"),
    (dict(describe_1=[1]), "5.1", "no description"),
    (dict(probabilities_1=one_hot_right(0.599)), "5.1", "held-out accuracy 0.599 after a short training, below 0.6"),
    (dict(probabilities_1=one_hot_right(0.9)[:999]), "5.1", "predictions of shape (999, 10), expected (1000, 10)"),
    (dict(describe_2=description(input_shape=[None, 784])), "5.2",
     "input [None, 784] and outputs [[None, 10]], expected [None, 28, 28, 1] and [[None, 10]]"),
    (dict(describe_2=description(output_shapes=[[None, 10], [None, 10]])), "5.2",
     "input [None, 28, 28, 1] and outputs [[None, 10], [None, 10]], expected [None, 28, 28, 1] and [[None, 10]]"),
    (dict(probabilities_2=one_hot_right(0.9) * 2), "5.2",
     "outputs are not probabilities (non-negative, rows summing to 1): end with a softmax"),
    (dict(probabilities_2=np.eye(10, dtype=np.float32)[MNIST_LABELS] * 1.5 - 0.05), "5.2",
     "outputs are not probabilities (non-negative, rows summing to 1): end with a softmax"),
    (dict(probabilities_2=one_hot_right(0.9) + 2e-5), "5.2",
     "outputs are not probabilities (non-negative, rows summing to 1): end with a softmax"),
    (dict(probabilities_2=(one_hot_right(0.9) - 0.01) / 0.9 * (1 + 1.8e-5) - 2e-6), "5.2",   # -2e-6, rows sum to 1
     "outputs are not probabilities (non-negative, rows summing to 1): end with a softmax"),
    (dict(probabilities_2=np.ones(1000, np.float32)), "5.2",
     "outputs are not probabilities (non-negative, rows summing to 1): end with a softmax"),
    (dict(probabilities_2=one_hot_right(0.5)), "5.2", "held-out accuracy 0.500 after a short training, below 0.6"),
])
def test_each_mnist_check_fails_alone_on_its_own_mistake(observed, number, reason):
    checks = grade.mnist_checks(mnist_observed(**observed), MNIST_REFERENCE, MNIST_LABELS)
    found = failures(checks)
    assert [failed for failed in found[number]][0][1] == reason
    assert not found["5.2" if number == "5.1" else "5.1"]


def test_the_accuracy_bar_is_inclusive_and_a_negative_rounding_error_is_a_probability():
    at_the_bar = one_hot_right(0.6)
    at_the_bar[0, 1] -= 0.01 + 5e-7   # about -5e-7: float error of a softmax, not a negative probability
    at_the_bar[0, 0] += 0.01 + 5e-7
    at_the_bar[1] += 5e-6   # a row summing to 1 + 5e-5
    assert at_the_bar.min() < 0
    checks = grade.mnist_checks(mnist_observed(probabilities_1=one_hot_right(0.6), probabilities_2=at_the_bar),
                                MNIST_REFERENCE, MNIST_LABELS)
    assert failures(checks) == {"5.1": [], "5.2": []}


# --------------------------------------------------------------------------- 7.1 and 7.2: the CIFAR checks

OUT_DIM = 5


def softmax(logits):
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def cifar_inputs():
    rng = np.random.default_rng(0)
    return {"logits": (rng.standard_normal((8, OUT_DIM)) * 30).astype(np.float32),
            "logit_labels": np.eye(OUT_DIM, dtype=np.float32)[rng.integers(0, OUT_DIM, 8)]}


def cifar_description(out_dim, **changed):
    return {"input_shape": [None, 32, 32, 3], "output_shapes": [[None, out_dim]], "trainable": 1000 + out_dim,
            "non_trainable": 64, "layers": [{"class": "Conv2D", "filters": 32}, {"class": "Dense", "units": out_dim}],
            "update_ops": 2, "optimizer": ["RMSPropOptimizer", "Optimizer", "object"], "learning_rate": 1e-3,
            **changed}


CIFAR_REFERENCE = {"10": {"value": cifar_description(10)}, str(OUT_DIM): {"value": cifar_description(OUT_DIM)}}


def cifar_observed(change=None):
    """A right model's observations, then change(observations) to plant one mistake."""
    rng = np.random.default_rng(1)
    modes = {}
    for mode, batch_dependent in (("true", True), ("false", False), ("flag_false", False), ("flag_true", True)):
        logits = rng.standard_normal((8, OUT_DIM)).astype(np.float32)
        probits = softmax(logits)
        alone = probits[:1] + (0.05 if batch_dependent else 0.0)
        modes[mode] = {"logits": logits, "probits": probits, "alone": alone}
    inputs = cifar_inputs()
    observed = {"describe": {"10": cifar_description(10), str(OUT_DIM): cifar_description(OUT_DIM)}, "modes": modes,
                "batch_norm": {"variables": 4, "inference_change": 0.0, "training_change": 0.02},
                "loss": grade.softmax_cross_entropy(inputs["logits"].astype(np.float64),
                                                    inputs["logit_labels"].astype(np.float64)),
                "training_losses": list(np.linspace(2.3, 1.5, 30))}
    if change:
        change(observed)
    encoded_modes = {mode: {key: box_task.encode(np.asarray(value, np.float32)) for key, value in found.items()}
                     for mode, found in observed["modes"].items()}
    return {"describe": {dim: {"value": value} for dim, value in observed["describe"].items()},
            "modes": {"value": encoded_modes}, "batch_norm": {"value": observed["batch_norm"]},
            "loss": {"value": observed["loss"]}, "training_losses": {"value": observed["training_losses"]}}


def cifar_failures(change=None):
    return failures(grade.cifar_checks(cifar_observed(change), CIFAR_REFERENCE, cifar_inputs(), OUT_DIM))


def test_a_right_model_passes_every_cifar_check():
    checks = grade.cifar_checks(cifar_observed(), CIFAR_REFERENCE, cifar_inputs(), OUT_DIM)
    assert [label for label, _ in checks["7.1"]] == [
        "structure matches the handout (layers, sizes, parameters), out_dim=10", "structure with another out_dim (5)",
        "probit = softmax(logit), shapes (N, out_dim)", "batch norm follows is_training (bool and tensor)",
        "moving statistics change in training only"]
    assert [label for label, _ in checks["7.2"]] == [
        "RMSProp with learning rate 1e-3", "mean cross-entropy of confident logits", "loss falls over 30 train steps"]
    assert failures(checks) == {"7.1": [], "7.2": []}


def set_in(path, value):
    def change(observed):
        *folders, last = path
        target = observed
        for key in folders:
            target = target[key]
        target[last] = value(target[last]) if callable(value) else value
    return change


@pytest.mark.parametrize("change, number, label, reason", [
    (set_in(("describe", "10", "trainable"), 1011), "7.1", "out_dim=10", "trainable is 1011, expected 1010"),
    (set_in(("describe", str(OUT_DIM), "output_shapes"), [[None, 10]]), "7.1", "another out_dim",
     "output_shapes is [[None, 10]], expected [[None, 5]]"),
    (set_in(("describe", "10", "update_ops"), 0), "7.1", "out_dim=10",
     "build_model registers 0 batch-norm updates in UPDATE_OPS, expected 2"),
    (set_in(("describe", str(OUT_DIM), "update_ops"), 4), "7.1", "another out_dim",
     "build_model registers 4 batch-norm updates in UPDATE_OPS, expected 2"),
    (set_in(("modes", "true", "probits"), lambda p: p * 0.9), "7.1", "softmax", "is_training=true: probit is not "
     "softmax(logit)"),
    (set_in(("modes", "flag_true", "probits"), lambda p: p + 1e-4), "7.1", "softmax", "is_training=flag_true: probit is not "
     "softmax(logit)"),
    (set_in(("modes", "flag_true", "logits"), lambda p: p[:, :4]), "7.1", "softmax",
     "is_training=flag_true: outputs (8, 4) and (8, 5), expected (8, 5) for out_dim=5"),
    (set_in(("modes", "true", "logits"), lambda p: p[:7]), "7.1", "softmax",
     "is_training=true: outputs (7, 5) and (8, 5), expected (8, 5) for out_dim=5"),
    (set_in(("modes", "true", "alone"), lambda p: p - 0.05), "7.1", "is_training",
     "is_training=true: batch norm should use the batch's statistics"),
    (set_in(("modes", "false", "alone"), lambda p: p + 0.05), "7.1", "is_training",
     "is_training=false: batch norm should use the moving statistics"),
    (set_in(("modes", "flag_false", "alone"), lambda p: p + 1e-5), "7.1", "is_training",
     "is_training=flag_false: batch norm should use the moving statistics"),
    (set_in(("modes", "flag_true", "alone"), lambda p: p - 0.05 + 5e-7), "7.1", "is_training",
     "is_training=flag_true: batch norm should use the batch's statistics"),
    (set_in(("batch_norm", "inference_change"), 1e-9), "7.1", "training only",
     "running the model for inference changed the moving statistics"),
    (set_in(("batch_norm", "training_change"), 0.0), "7.1", "training only",
     "a train step left the moving statistics unchanged: run the UPDATE_OPS with the train step"),
    (set_in(("describe", "10", "optimizer"), ["AdamOptimizer", "Optimizer"]), "7.2", "RMSProp",
     "optimizer is AdamOptimizer, expected RMSPropOptimizer"),
    (set_in(("describe", "10", "learning_rate"), 1.1e-3), "7.2", "RMSProp", "learning rate 0.0011, expected 0.001"),
    (set_in(("describe", "10", "learning_rate"), None), "7.2", "RMSProp", "learning rate None, expected 0.001"),
    (set_in(("loss",), lambda loss: loss * 1.001), "7.2", "cross-entropy", "for confident logits, expected"),
    (set_in(("training_losses",), lambda losses: [2.0] * 5 + [2.1] * 20 + [1.8] * 5), "7.2", "falls",
     "loss went from 2.000 to 1.800 in 30 steps; it must fall by 10%"),
    (set_in(("training_losses",), lambda losses: [2.0] * 3 + [1.0] * 2 + [1.5] * 25), "7.2", "falls",
     "loss went from 1.600 to 1.500 in 30 steps; it must fall by 10%"),
    (set_in(("training_losses",), lambda losses: [2.0] * 25 + [2.2] * 2 + [1.6] * 3), "7.2", "falls",
     "loss went from 2.000 to 1.840 in 30 steps; it must fall by 10%"),
    (set_in(("describe", "10", "learning_rate"), 1e-3 + 1e-10), "7.2", "RMSProp",
     "learning rate 0.0010000001, expected 0.001"),
    (set_in(("training_losses",), lambda losses: losses[:29]), "7.2", "falls",
     "the losses of the short training are missing or not finite"),
    (set_in(("training_losses",), lambda losses: losses[:29] + [float("nan")]), "7.2", "falls",
     "the losses of the short training are missing or not finite"),
])
def test_each_cifar_check_fails_alone_on_its_own_mistake(change, number, label, reason):
    found = cifar_failures(change)
    assert len(found[number]) == 1 and not found["7.2" if number == "7.1" else "7.1"]
    failed_label, failed_reason = found[number][0]
    assert label in failed_label and reason in failed_reason


def test_the_cifar_bars_hold_at_their_edges():
    """A loss that falls by just over 10%, a learning rate off by float error, a loss right to 1e-4."""
    assert cifar_failures(set_in(("training_losses",), lambda losses: [2.0] * 25 + [1.7999] * 5)) == \
        {"7.1": [], "7.2": []}
    assert cifar_failures(set_in(("describe", "10", "learning_rate"), 1e-3 + 1e-13)) == {"7.1": [], "7.2": []}
    assert cifar_failures(set_in(("loss",), lambda loss: loss * (1 + 5e-5))) == {"7.1": [], "7.2": []}


def test_the_loss_check_computes_softmax_cross_entropy_itself():
    logits = np.array([[0.0, 0.0, 0.0], [3.0, 1.0, -2.0]])
    labels = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    second = 2.0 + np.log(1 + np.exp(-2.0) + np.exp(-5.0))
    assert grade.softmax_cross_entropy(logits, labels) == pytest.approx((np.log(3) + second) / 2, rel=1e-12)
    assert grade.softmax_cross_entropy(np.array([[1000.0, 0.0]]), np.array([[1.0, 0.0]])) == 0.0


# --------------------------------------------------------------------------- the small readers

def test_a_missing_or_raised_entry_names_itself():
    assert grade.entry({"a": {"b": {"value": 3}}}, "a", "b") == 3
    assert grade.entry({"a": {"value": 1, "other": 2}}, "a") == {"value": 1, "other": 2}
    with pytest.raises(ValueError, match="^no a/c in the result$"):
        grade.entry({"a": {"b": 1}}, "a", "c")
    with pytest.raises(ValueError, match="^no a/b in the result$"):
        grade.entry({"a": [1]}, "a", "b")
    with pytest.raises(ValueError, match="^raised ZeroDivisionError: x$"):
        grade.entry({"a": {"error": "Traceback\n\nZeroDivisionError: x\n"}}, "a")
    assert grade.judged("check", lambda: "") == ("check", "")
    assert grade.judged("check", lambda: [][1]) == ("check", "list index out of range")
    assert grade.judged("check", lambda: {}["key"]) == ("check", "'key'")
    assert grade.judged("check", lambda: int("x")) == ("check", "invalid literal for int() with base 10: 'x'")
    assert grade.judged("check", lambda: None + 1) == ("check", "unsupported operand type(s) for +: "
                                                                "'NoneType' and 'int'")
    with pytest.raises(ZeroDivisionError):
        grade.judged("check", lambda: 1 / 0)


def test_printed_texts_agree_but_for_durations_and_otherwise_the_first_line_that_differs_is_named():
    assert grade.first_difference("a\nloss 0.5 (1.2 s)\n", "a\nloss 0.5 (3.4 s)") == ""
    assert grade.first_difference("a\nb\n", "a\nc\n") == "line 2: log 'b', re-run 'c'"
    assert grade.first_difference("a\n", "a\nb\n") == "line 2: log '', re-run 'b'"
    assert grade.first_difference("x" * 200, "y") == f"line 1: log {'x' * 120!r}, re-run 'y'"
    assert grade.raised("noise\nTraceback (most recent call last):\n  a\nOSError: one\n"
                        "Traceback (most recent call last):\n  b\nValueError: two\n\n") == "ValueError: two"
    assert grade.raised("no traceback here\n") == ""
    assert grade.last_line("\n first \n\n  last  \n \n") == "  last" and grade.last_line("") == ""
    assert grade.last_line("y" * 400) == "y" * 300
    assert grade.module_of("evaluation_numpy.txt") == "hw2_numpy"


# --------------------------------------------------------------------------- the command line and the real box, once each

def grade_command(*args, env=None):
    """grade.py's command line run here: (exit status, what it printed, stdout and stderr together)."""
    ran = run_main(grade.main, *args, env=env)
    return ran.returncode, ran.stdout + ran.stderr


def test_the_command_grades_a_zip_or_gradescopes_root_and_prints_the_table(tmp_path):
    np.save(tmp_path / "labels.npy", LABELS)
    upload = tmp_path / "submission.csv"
    upload.write_bytes(csv_bytes(predictions_with(LABELS, 0.752)))
    code, printed = grade_command(upload, "--labels", tmp_path / "labels.npy", "--results", tmp_path / "out" / "r.json",
                                  "--hidden-seed", 3, "--only", "7.3", env={"HW2_DATA_DIR": str(tmp_path / "none")})
    assert code == 0, printed   # 7.3 alone reads only the CSV: no data, no box
    results = json.loads((tmp_path / "out" / "r.json").read_text())
    assert [(test["name"], test["score"]) for test in results["tests"]] == [
        ("7.3 own model: private-test accuracy", 5), ("7.3 own model: exact private-test accuracy", 0)]
    assert "hidden-case seed 3 (--hidden-seed 3 grades with the same cases)" in printed
    table = [" ".join(line.split()) for line in printed.splitlines()[-3:]]
    assert table[0].startswith("7.3 own model: private-test accuracy 5/10 failed reached the 75% tier (")
    assert table[1] == "7.3 own model: exact private-test accuracy 0/0 passed 0.7520"
    assert table[2].startswith("total 5/10 (")
    # Without --hidden-seed a fresh one each time; the temporary root goes; the results' folder may exist.
    (tmp_path / "temp").mkdir()
    seeds = []
    for _ in range(2):
        with mock.patch.object(tempfile, "tempdir", str(tmp_path / "temp")):
            code, printed = grade_command(upload, "--labels", tmp_path / "labels.npy", "--only", "7.3",
                                          "--results", tmp_path / "out" / "r.json")
        assert code == 0 and os.listdir(tmp_path / "temp") == []
        seeds.append(int(printed.split("hidden-case seed ")[1].split()[0]))
    assert seeds[0] != seeds[1] and max(seeds) < 2 ** 32
    # Gradescope's layout: the seed and the labels in ROOT/source, the results in ROOT/results.
    paths = grade.Paths.under(str(tmp_path / "root"))
    os.makedirs(paths.submission)
    os.makedirs(paths.source)
    (tmp_path / "root" / "submission" / "submission.csv").write_bytes(upload.read_bytes())
    np.save(paths.labels, LABELS)
    (tmp_path / "root" / "source" / "hidden_seed.txt").write_text("12\n")
    code, printed = grade_command("--only", "7.3", env={"AUTOGRADER_ROOT": paths.root})
    assert code == 0 and json.loads(open(paths.results).read())["tests"] == results["tests"]
    (tmp_path / "root" / "source" / "hidden_seed.txt").write_text("twelve\n")
    code, printed = grade_command("--only", "7.3", env={"AUTOGRADER_ROOT": paths.root})
    assert code == 1 and "hidden_seed.txt must hold one integer" in printed
    failed = json.loads(open(paths.results).read())
    assert failed["tests"] == [] and failed["score"] == 0


@pytest.mark.parametrize("args, refusal", [
    (["--only", "6.9"], "--only: no such part 6.9; the parts are 5.1, 5.2, 6.1, 6.2, 6.3, 6.4, 7.1, 7.2, 7.3"),
    (["/no/such.zip"], "no such file: /no/such.zip"),
    ([__file__, "--labels", "/no/labels.npy"], "no such labels file: /no/labels.npy"),
    ([__file__, "--threads", "0"], "argument --threads: '0' is not a whole number of at least 1"),
    ([__file__, "--threads", "two"], "argument --threads: 'two' is not a whole number of at least 1"),
])
def test_the_command_refuses_what_it_cannot_grade_by_name(args, refusal):
    code, printed = grade_command(*args)
    assert code == 2 and refusal in printed


def test_a_grading_without_the_data_says_how_to_build_it(tmp_path):
    with pytest.raises(intake.GraderError, match="lacks mnist.pkl.gz, cifar-10-739/.*HW2_DATA_OUT="):
        grade.check_data(str(tmp_path))
    grade.check_data(os.path.join(hw2_submission.ROOT, "data"))


def test_the_real_box_imports_a_module_and_hands_back_its_result(tmp_path):
    """grade.Box as the grader builds it (the sandbox identity when root): the files it stages, the
    task it runs, the problem it names, the threads it allows (none of the grader's own settings)."""
    box = grade.Box(sys.executable, os.path.join(hw2_submission.ROOT, "data"),
                    sandbox.default_identity() if sandbox.is_root() else None)
    box.check()
    files = {"hw2_numpy.py": b"import os\nprint(sorted(os.listdir('.')), sorted(os.listdir('tests')))\n",
             "notes.txt": b"not staged: the box gets the Python files"}
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        outcome = box.run("import", {"module": "hw2_numpy"}, {}, files)
        exits = box.run("import", {"module": "hw2_numpy"}, {}, {"hw2_numpy.py": b"raise SystemExit(4)\n"})
        stopped = box.run("import", {"module": "hw2_numpy"}, {}, {"hw2_numpy.py": b"import os\nos._exit(3)\n"})
        shows_threads = {"hw2_numpy.py": b"import os\nprint([os.environ.get(name) for name in ('TF_NUM_INTRAOP_"
                                         b"THREADS', 'TF_NUM_INTEROP_THREADS', 'OMP_NUM_THREADS')])\n"}
        with mock.patch.dict(os.environ, {"TF_NUM_INTRAOP_THREADS": "5", "OMP_NUM_THREADS": "5"}):
            every_core = box.run("import", {"module": "hw2_numpy"}, {}, shows_threads)
            three = dataclasses.replace(box, threads=3).run("import", {"module": "hw2_numpy"}, {}, shows_threads)
    assert every_core.stdout == "[None, None, None]\n" and three.stdout == "['3', '3', '3']\n"
    assert outcome.result == {"imported": "hw2_numpy"} and outcome.problem == "" and outcome.stdout == (
        "['box_task.py', 'hw2_numpy.py', 'task.json', 'tests'] "
        "['hw2_test_cifar.py', 'hw2_test_mnist.py', 'hw2_test_numpy.py', 'reference.py']\n")
    assert grade.box_problem(outcome) == ""
    assert grade.box_problem(exits) == "your code could not be run: SystemExit: 4"
    assert stopped.result is None and stopped.returncode == 3
    assert grade.box_problem(stopped) == "your code did not finish: the task wrote no result.json"
    assert printed.getvalue().startswith("box: import hw2_numpy: ")
    nowhere = grade.Box(sys.executable, str(tmp_path / "nowhere"), box.identity)
    with pytest.raises(intake.GraderError, match="cannot run .* or read .*nowhere"):
        nowhere.check()


HELP = {   # what each staff command line says of itself and of every option, word for word
    ("grade", ()): [
        "Grade one hw2 submission as Gradescope's autograder does, and write results.json.",
        "grade this zip (or a folder of uploaded files) in a temporary root (default: grade $AUTOGRADER_ROOT)",
        "--labels LABELS private_test_y.npy (without it 7.3 scores 0 and says why)",
        "--results RESULTS where to copy results.json (default ROOT/results/results.json)",
        "--hidden-seed HIDDEN_SEED the hidden cases' seed (default ROOT/source/hidden_seed.txt; a fresh random one for "
        "a zip)",
        "--user USER the unprivileged user student code runs as when root (default: a uid no other program or grading "
        "uses, reserved for this grading)",
        "--only ONLY grade only these parts, e.g. 6.1,6.2,7.3 (of 5.1, 5.2, 6.1, 6.2, 6.3, 6.4, 7.1, 7.2, 7.3)",
        "--threads THREADS threads each box's TensorFlow and numpy may use (default: every core; where gradings "
        "share a machine, its cores divided among them)"],
    ("regrade", ()): [
        "Grade a whole class as Gradescope grades each submission: gradebook, report, integrity flags.",
        "export Gradescope's export (zip or folder) or a folder of NAME.zip",
        "--jobs JOBS submissions graded at once on this machine (each grading needs 2-3 GB and about one core; the "
        "cores are divided among them)",
        "--shard SHARD grade only the K-th of N parts (0 <= K < N; stable under reordering); `merge` joins the parts",
        "--hidden-seed HIDDEN_SEED the hidden cases' seed (or --autograder)",
        "--only ONLY grade only these parts, e.g. 7.3 after new labels (grade.py's --only)",
        "--timeout TIMEOUT seconds one grading may take before it is stopped and reported as the grader's failure "
        "(default 3600)",
        "--out OUT folder for results, records, gradebook.csv, report.html",
        "--autograder AUTOGRADER autograder.zip: its hidden seed and private labels (as on Gradescope)",
        "--labels LABELS private_test_y.npy, without --autograder",
        "--compare COMPARE an older gradebook.csv: whose points change (changes.csv, the report)",
        "--similarity SIMILARITY `make similarity`'s pairs.csv, shown beside the flags",
        "--lookup-accuracy LOOKUP_ACCURACY flag a private-test accuracy above this as looked-up labels (default 0.96)"],
    ("regrade", ("merge",)): [
        "usage: regrade.py merge [-h] --out OUT", "folders the shards' --out folders",
        "--out OUT folder for results, records, gradebook.csv, report.html"],
    ("hw2_data", ()): [
        "Build the hw2 data files from the public originals (used by get_dataset.sh).",
        "fetch download URL to DEST, verified by its md5",
        "mnist MNIST idx files in RAW_DIR -> mnist.pkl.gz at OUT",
        "cifar cifar-10-python.tar.gz -> CIFAR-10-739 in OUT_DIR",
        "private-labels course staff: the private-test labels of cifar-10-python.tar.gz's split, to a path outside "
        "the project"],
    ("starter", ()): [
        "Write the student starter from the reference.", "--out OUT folder for hw2-starter/ and its zip"],
    ("package", ()): [
        "Build autograder.zip, the file course staff upload to Gradescope (`make autograder LABELS=...`).",
        "--labels LABELS private_test_y.npy from `python hw2_data.py private-labels`",
        "--out OUT where to write it (default autograder/autograder.zip)",
        "--data DATA the data the labels belong to"],
    ("hw2_submission", ()): [
        "Build and verify submission.zip for the autograder (no TensorFlow needed).",
        "build write the zip if it passes the check", "check check a zip",
        "logs regenerate each evaluation log whose code changed"],
    ("hw2_submission", ("build",)): [
        "--out OUT where to write it (default submission/submission.zip)",
        "--partial work in progress: failing tests and a missing submission.csv are listed, not refused"],
    ("hw2_submission", ("check",)): [
        "zip the zip to check, as the autograder will read it",
        "--partial work in progress: failing tests and a missing submission.csv are listed, not refused"],
    ("hw2_submission", ("logs",)): [
        "log any of evaluation_cifar.txt, evaluation_mnist.txt, evaluation_numpy.txt (default: all)",
        "--partial keep a log whose run completed with failing tests (work in progress)"],
    ("similarity", ()): [
        "Similarity of every pair of submissions (copydetect).",
        "folder folder of submission zips, one per student, named by student",
        "--out OUT folder for pairs.csv and report.html",
        "--threshold THRESHOLD pairs above this similarity are printed and reported (default 0.5)"],
    ("hw2_data", ("private-labels",)): [
        "out e.g. ~/hw2-staff/private_test_y.npy (never inside the project)",
        "--check CIFAR_DIR a built cifar-10-739 folder whose private_test_X.npy the labels must match"],
}


@pytest.mark.parametrize("program, before", list(HELP))
def test_every_option_of_the_staff_commands_says_what_it_does(program, before):
    import hw2_data
    from autograder import package, regrade
    from staff import similarity, starter
    main = {"grade": grade.main, "regrade": regrade.main, "hw2_data": hw2_data.main, "package": package.main,
            "hw2_submission": hw2_submission.main, "starter": starter.main, "similarity": similarity.main}[program]
    ran = run_main(main, *before, "--help", env={"COLUMNS": "100"})
    text = " ".join(ran.stdout.split())
    assert ran.returncode == 0 and [phrase for phrase in HELP[program, before] if phrase not in text] == []


def test_gradescopes_root_is_graded_here_with_the_real_box_and_the_data_it_is_told(tmp_path):
    """grade.py as run_autograder runs it, in this process, for 6.2 and 7.3: the box as the sandbox identity
    (root) on HW2_DATA_DIR's data (else the project's), --hidden-seed over the root's seed, results.json
    as Gradescope reads it, and what it prints for the staff."""
    paths = grade.Paths.under(str(tmp_path / "root"))
    os.makedirs(paths.submission)
    os.makedirs(paths.source)
    for name, data in {**numpy_work(), "submission.csv": csv_bytes(predictions_with(LABELS, 0.81))}.items():
        (tmp_path / "root" / "submission" / name).write_bytes(data)
    np.save(paths.labels, LABELS)
    (tmp_path / "root" / "source" / "hidden_seed.txt").write_text("not a number\n")   # --hidden-seed wins
    code, printed = grade_command("--only", "6.2,7.3", "--hidden-seed", 5,
                                  env={"AUTOGRADER_ROOT": paths.root, "HW2_DATA_DIR": ""})
    with open(paths.results) as stream:
        text = stream.read()
    results = json.loads(text)
    assert code == 0 and text == json.dumps(results, indent=1) + "\n", printed
    assert [(test["number"], test["score"]) for test in results["tests"]] == [("6.2", 2), ("7.3", 8), ("7.3", 0)]
    assert set(results["extra_data"]["seconds"]) == {"import hw2_numpy", "6.2 hidden cases",
                                                    "re-run of evaluation_numpy.txt"}
    isolated = sandbox.is_root() and sandbox.namespaces_available()
    assert results["extra_data"]["namespaces"] is isolated
    who = f"root: student code runs as {sandbox.default_identity().name}" if sandbox.is_root() else "a plain user"
    assert f"grading as {who}; network and mount namespaces: {'yes' if isolated else 'not available here'}; " \
        "threads per box: every core\n" in printed
    code, printed = grade_command("--only", "6.2", "--hidden-seed", 5,
                                  env={"AUTOGRADER_ROOT": paths.root, "HW2_DATA_DIR": str(tmp_path / "no-data")})
    assert code == 1 and f"GraderError: {tmp_path / 'no-data'} lacks mnist.pkl.gz" in printed
    assert printed.index("Traceback (most recent call last)") < printed.index("total")   # on stdout, for the staff


def test_the_short_trainings_draw_distinct_images_with_their_labels_from_the_right_splits(monkeypatch, tmp_path):
    """mnist_subsets and cifar_val_subset on numbered stand-in data (image i is all i): 3,000 distinct
    training images and 1,000 distinct held-out ones, each with its own label, the same for the same
    stream; MNIST's held-out images from its test split, never its training or validation ones."""
    import hw2_utils

    def numbered(count, start):
        X = np.arange(start, start + count, dtype=np.float32)[:, None] * np.ones((1, 784), np.float32)
        return hw2_utils.Domains(X, (np.arange(start, start + count) * 7) % 10)
    monkeypatch.setattr(hw2_utils, "load_mnist", lambda data_dir: hw2_utils.Splits(
        numbered(50_000, 0), numbered(10_000, 50_000), numbered(10_000, 60_000)))
    train_X, train_Y, eval_X, eval_Y = grade.mnist_subsets("unused", np.random.default_rng(3))
    assert train_X.shape == (3000, 28, 28, 1) and eval_X.shape == (1000, 28, 28, 1)
    train_ids, eval_ids = train_X[:, 0, 0, 0].astype(int), eval_X[:, 0, 0, 0].astype(int)
    assert np.all(train_X == train_ids[:, None, None, None]) and np.all(eval_X == eval_ids[:, None, None, None])
    assert len(set(train_ids)) == 3000 and len(set(eval_ids)) == 1000
    assert train_ids.max() < 50_000 and eval_ids.min() >= 60_000
    assert np.array_equal(train_Y, train_ids * 7 % 10) and np.array_equal(eval_Y, eval_ids * 7 % 10)
    again = grade.mnist_subsets("unused", np.random.default_rng(3))
    assert np.array_equal(again[0], train_X) and np.array_equal(again[3], eval_Y)

    cifar = tmp_path / hw2_utils.CIFAR_FOLDER
    cifar.mkdir()
    np.save(cifar / "val_X.npy", np.arange(5000, dtype=np.int32)[:, None])   # image i is i
    np.save(cifar / "val_y.npy", np.arange(5000) * 3 % 10)
    X, Y = grade.cifar_val_subset(str(tmp_path), np.random.default_rng(4), 1920)
    assert X.shape == (1920, 1) and type(X) is np.ndarray and len(set(X[:, 0])) == 1920
    assert np.array_equal(Y, X[:, 0] * 3 % 10)
