"""autograder/box_task.py's own machinery, in this process: each check's time limit starts and ends
with it, a failing check stays its own, arrays cross the box's border exactly or not at all."""
import contextlib
import io
import json
import os
import shutil
import signal
import sys
import time
import types
from unittest import mock

import numpy as np
import pytest

import hw2_utils
from autograder import box_task, grade


def test_a_check_that_hangs_is_stopped_at_its_limit():
    started = time.monotonic()
    with pytest.raises(box_task.CheckTimeout, match="stopped after 1 s"):
        with box_task.time_limit(1):
            while True:
                pass
    assert time.monotonic() - started < 3


def test_the_limit_ends_with_its_check():
    """A quick check's alarm must not go off later, in the next check or after the task."""
    fired = []

    def record(signum, frame):
        fired.append(signum)
    previous = signal.signal(signal.SIGALRM, record)
    try:
        with box_task.time_limit(1):
            pass
        assert signal.getsignal(signal.SIGALRM) == record   # the caller's handler is back
        time.sleep(1.6)   # an alarm left armed (or repeating) would go off here
        assert fired == [] and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_check_that_swallows_its_timeout_is_told_again_until_it_stops(monkeypatch):
    """Code that catches CheckTimeout (or loses it, as an exception raised at fork is lost) is
    interrupted again and again: here it swallows three, and the fourth ends the check."""
    monkeypatch.setattr(box_task, "check_seconds", 1)
    swallowed = []

    def swallows():
        while True:
            deadline = time.monotonic() + 5   # each CheckTimeout must come before this
            try:
                while time.monotonic() < deadline:
                    pass
                return "ran on"
            except box_task.CheckTimeout:
                if len(swallowed) == 3:
                    raise
                swallowed.append(time.monotonic())
    outcome = box_task.attempt(swallows)
    assert "CheckTimeout: stopped after 1 s" in outcome.get("error", ""), outcome
    assert len(swallowed) == 3 and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_attempt_keeps_each_failure_its_own(monkeypatch):
    monkeypatch.setattr(box_task, "check_seconds", 1)

    def hangs():
        while True:
            pass

    def exits():
        raise SystemExit(0)
    assert box_task.attempt(lambda a, b: a + b, 2, 3) == {"value": 5}
    assert "CheckTimeout" in box_task.attempt(hangs)["error"]
    assert "SystemExit" in box_task.attempt(exits)["error"]
    assert "ZeroDivisionError" in box_task.attempt(lambda: 1 / 0)["error"]
    time.sleep(1.2)
    assert box_task.attempt(lambda: "after") == {"value": "after"}


@pytest.mark.parametrize("array", [np.arange(6, dtype=np.float32).reshape(2, 3), np.array([-0.0, np.nan, np.inf]),
                                   np.zeros((0, 4), np.int64), np.array(True), np.arange(5, dtype=np.uint8)])
def test_arrays_cross_exactly(array):
    back = box_task.decode(box_task.encode(array))
    assert back.dtype == array.dtype and back.shape == array.shape
    assert back.tobytes() == np.ascontiguousarray(array).tobytes()


@pytest.mark.parametrize("value, problem", [
    ([1, 2], "not an encoded array"),
    ({"dtype": "<f8", "shape": [2], "data": "", "extra": 1}, "not an encoded array"),
    ({"dtype": "|O", "shape": [1], "data": ""}, "not a real-number dtype"),
    ({"dtype": "<c16", "shape": [1], "data": ""}, "not a real-number dtype"),
    ({"dtype": "<f8", "shape": [-1], "data": ""}, "not a shape"),
    ({"dtype": "<f8", "shape": [True], "data": ""}, "not a shape"),
    ({"dtype": "<f8", "shape": [2 ** 13, 2 ** 12], "data": ""}, "too large"),
    ({"dtype": "<f8", "shape": [2], "data": "AAAAAAAAAAA="}, "8 bytes for shape [2]"),
])
def test_a_forged_array_is_refused_by_name(value, problem):
    with pytest.raises(ValueError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        box_task.decode(value)


# --------------------------------------------------------------------------- the TensorFlow tasks, on the reference

@contextlib.contextmanager
def as_the_students(module):
    """While a box_task task runs here: `module` is what it imports under the module's name, and what the
    code prints stays out of the test's output (the box keeps it to itself)."""
    with mock.patch.dict(sys.modules, {module.__name__: module}), contextlib.redirect_stdout(io.StringIO()):
        yield


def student_module(reference, **replaced):
    module = types.ModuleType(reference.__name__)
    module.__dict__.update(vars(reference))
    module.__dict__.update(replaced)
    return module


def cifar_observations(hw2_cifar, out_dim=5):
    """box_task's cifar task run here on `hw2_cifar` as the student's, on small inputs of the grader's
    kinds (one batch of 4 images repeated for the short training, so that a right model must learn it)."""
    rng = np.random.default_rng(1)
    eye = np.eye(out_dim, dtype=np.float32)
    batch_X = rng.standard_normal((1, 4, 32, 32, 3)).astype(np.float32)
    batch_Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, (1, 4))]
    inputs = {"images": rng.standard_normal((grade.CIFAR_PROBE_IMAGES, 32, 32, 3)).astype(np.float32),
              "labels": eye[rng.integers(0, out_dim, grade.CIFAR_PROBE_IMAGES)],
              "logits": (rng.standard_normal((grade.CIFAR_PROBE_IMAGES, out_dim)) * 30).astype(np.float32),
              "logit_labels": eye[rng.integers(0, out_dim, grade.CIFAR_PROBE_IMAGES)],
              "train_X": np.repeat(batch_X, grade.CIFAR_TRAIN_STEPS, axis=0),
              "train_Y": np.repeat(batch_Y, grade.CIFAR_TRAIN_STEPS, axis=0)}
    with as_the_students(hw2_cifar):
        result = box_task.cifar_task({"out_dim": out_dim, "out_dims": [10, out_dim]}, inputs)
    return json.loads(json.dumps(result)), inputs


def test_the_reference_observed_by_the_cifar_task_passes_every_check_and_a_model_deaf_to_is_training_fails():
    import hw2_cifar
    out_dim = 5
    with contextlib.redirect_stdout(io.StringIO()):
        reference = box_task.describe_cifar(hw2_cifar, [10, out_dim])
    assert reference["10"]["value"]["optimizer"][0] == "RMSPropOptimizer"
    assert reference["10"]["value"]["learning_rate"] == 1e-3 and reference["10"]["value"]["update_ops"] > 0
    result, inputs = cifar_observations(hw2_cifar, out_dim)
    checks = grade.cifar_checks(result, reference, inputs, out_dim)
    assert {number: [reason for _, reason in found if reason] for number, found in checks.items()} == \
        {"7.1": [], "7.2": []}
    deaf = student_module(hw2_cifar, build_model=lambda X, out_dim, is_training: hw2_cifar.build_model(
        X, out_dim, False))
    result, inputs = cifar_observations(deaf, out_dim)
    failed = {label: reason for found in grade.cifar_checks(result, reference, inputs, out_dim).values()
              for label, reason in found if reason}
    updates = reference["10"]["value"]["update_ops"]
    assert failed == {   # in inference mode Keras's batch norm registers no updates at all
        "structure matches the handout (layers, sizes, parameters), out_dim=10":
            f"build_model registers 0 batch-norm updates in UPDATE_OPS, expected {updates}",
        "structure with another out_dim (5)": f"build_model registers 0 batch-norm updates in UPDATE_OPS, expected {updates}",
        "batch norm follows is_training (bool and tensor)":
            "is_training=true: batch norm should use the batch's statistics",
        "moving statistics change in training only":
            "a train step left the moving statistics unchanged: run the UPDATE_OPS with the train step"}

    def always_training(X, out_dim, is_training):   # and its updates run with every output
        import tensorflow as tf
        logit, probit = hw2_cifar.build_model(X, out_dim, True)
        with tf.control_dependencies(tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)):
            return tf.identity(logit), tf.identity(probit)
    result, inputs = cifar_observations(student_module(hw2_cifar, build_model=always_training), out_dim)
    failed = {label: reason for found in grade.cifar_checks(result, reference, inputs, out_dim).values()
              for label, reason in found if reason}
    assert failed == {"batch norm follows is_training (bool and tensor)":
                      "is_training=false: batch norm should use the moving statistics",
                      "moving statistics change in training only":
                      "running the model for inference changed the moving statistics"}


def test_the_reference_observed_by_the_mnist_task_has_both_models_structure_and_probabilities():
    import hw2_mnist
    rng = np.random.default_rng(2)
    with contextlib.redirect_stdout(io.StringIO()):
        reference = box_task.describe_mnist(hw2_mnist)
    train_X, train_Y, eval_X, eval_Y = grade.mnist_subsets(os.path.join(hw2_utils.ROOT, "data"), rng)
    inputs = {"train_X": train_X[:200], "train_Y": train_Y[:200], "eval_X": eval_X[:100]}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        result = json.loads(json.dumps(box_task.mnist_task({}, inputs)))
    assert box_task.decode(result["probabilities"]["1"]["value"]).shape == (100, 10)
    checks = grade.mnist_checks(result, reference, eval_Y[:100])
    failed = {label for found in checks.values() for label, reason in found if reason}
    assert failed <= {"model 1 trains: 3000 images, held-out accuracy >= 0.6",
                      "model 2 trains: 3000 images, held-out accuracy >= 0.6"}   # 200 images are not 3000
    two_outputs = student_module(hw2_mnist, build_model_mnist1=hw2_mnist.build_model_mnist2)
    with contextlib.redirect_stdout(io.StringIO()):
        swapped = box_task.describe_mnist(two_outputs)
    assert grade.same_description(swapped["1"]["value"], reference["1"]["value"]).startswith(
        ("input_shape is", "trainable is", "output_shapes is", "non_trainable is", "layer 0"))


# --------------------------------------------------------------------------- the box's program itself

def run_task(folder, task, code_dir, monkeypatch, inputs=None):
    """box_task.main as the box runs it (task.json and inputs.npz in its folder), in this process: the
    result.json it writes. Never with sole_user: that kills every other process of this user."""
    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(box_task, "check_seconds", box_task.check_seconds)
    (folder / "task.json").write_text(json.dumps({**task, "sole_user": False}))
    if inputs:
        np.savez(folder / "inputs.npz", **inputs)
    with contextlib.redirect_stdout(io.StringIO()):
        box_task.main(str(code_dir))
    return json.loads((folder / "result.json").read_text())


def test_the_program_runs_the_public_tests_a_task_names_and_says_how_each_went(tmp_path, monkeypatch):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "hw2_widget.py").write_text("import sys\nLOADED_FROM = __file__\n")
    assert run_task(tmp_path, {"kind": "import", "module": "hw2_widget"}, tmp_path / "code", monkeypatch) == \
        {"imported": "hw2_widget"}
    assert sys.modules["hw2_widget"].LOADED_FROM == str(tmp_path / "code" / "hw2_widget.py")   # code_dir first
    del sys.modules["hw2_widget"]
    missing = run_task(tmp_path, {"kind": "import", "module": "hw2_nothing"}, tmp_path / "code", monkeypatch)
    assert set(missing) == {"task_error"} and missing["task_error"].rstrip().endswith(
        "ModuleNotFoundError: No module named 'hw2_nothing'")
    shutil.copytree(os.path.join(hw2_utils.ROOT, "tests"), tmp_path / "tests",
                    ignore=shutil.ignore_patterns("__pycache__", "independent"))
    ran = run_task(tmp_path, {"kind": "public_tests", "script": "hw2_test_numpy", "test_class": "TestNumpy",
                              "tests": ["test_relu", "test_dropout_test"], "check_seconds": 7},
                   hw2_utils.ROOT, monkeypatch)
    assert list(ran["tests"]) == ["test_relu", "test_dropout_test"] and box_task.check_seconds == 7
    assert all(test["outcome"] == "OK" and test["error"] == "" and "=== EXERCISE" in test["printed"]
               for test in ran["tests"].values())
    # A script of the task folder's own tests/ (found there first), a test that fails and one that raises.
    (tmp_path / "tests" / "hw2_test_widget.py").write_text(
        "import unittest\n\n\nclass TestWidget(unittest.TestCase):\n"
        "    def test_fine(self):\n        print('fine so far')\n\n"
        "    def test_wrong(self):\n        self.assertEqual(1, 2, 'one is not two')\n\n"
        "    def test_raises(self):\n        raise KeyError('gone')\n\n"
        "    def test_skipped(self):   # as code under test can make it\n        raise unittest.SkipTest('not today')\n")
    ran = run_task(tmp_path, {"kind": "public_tests", "script": "hw2_test_widget", "test_class": "TestWidget",
                              "tests": ["test_fine", "test_wrong", "test_raises", "test_skipped"]}, tmp_path / "code",
                   monkeypatch)
    assert ran["tests"]["test_skipped"] == {"outcome": "FAIL", "printed": "", "error": "skipped: not today"}
    assert ran["tests"]["test_fine"] == {"outcome": "OK", "printed": "fine so far\n", "error": ""}
    assert ran["tests"]["test_wrong"]["outcome"] == "FAIL" and ran["tests"]["test_wrong"]["error"].startswith(
        "Traceback (most recent call last):") and "AssertionError: 1 != 2 : one is not two" in \
        ran["tests"]["test_wrong"]["error"]
    assert ran["tests"]["test_raises"]["outcome"] == "FAIL" and \
        ran["tests"]["test_raises"]["error"].rstrip().endswith("KeyError: 'gone'")
    del sys.modules["hw2_test_widget"]
    numpy_cases = {"kind": "numpy", "cases": [{"function": "relu", "args": [{"array": "x"}]},
                                              {"function": "dropout", "args": [{"array": "x"}, {"value": "test"},
                                                                               {"value": 0.5}]}]}
    x = np.array([[-1.0, 2.0]])
    outputs = run_task(tmp_path, numpy_cases, hw2_utils.ROOT, monkeypatch, inputs={"x": x})["outputs"]
    assert [box_task.decode(output["value"]).tolist() for output in outputs] == [[[0.0, 2.0]], [[-1.0, 2.0]]]
