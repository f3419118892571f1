"""hw2_utils: TensorFlow set-up, stable seeding, the log format of run_tests."""
import os
import subprocess
import sys
import unittest

import numpy as np
import pytest

import hw2_utils

ROOT = hw2_utils.ROOT


def run_python(code, **env):
    """Run `code` in a fresh interpreter at the project root; return its stdout."""
    environment = {**os.environ, "PYTHONPATH": ROOT, **env}
    environment.pop("TF_USE_LEGACY_KERAS", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_sets_keras2_and_graph_mode_in_fresh_process():
    out = run_python("import hw2_numpy, os, tensorflow as tf\n"
                     "print(os.environ['TF_USE_LEGACY_KERAS'], tf.keras.__name__, tf.executing_eagerly())\n"
                     "print(type(tf.keras.layers.Dense(1)).__module__)")
    flag, keras_module, eager = out.split("\n")[0].split()
    assert flag == "1" and keras_module.startswith("tf_keras") and eager == "False"
    assert out.split("\n")[1].startswith("tf_keras")


def test_importing_tensorflow_first_with_keras3_is_refused():
    environment = {**os.environ, "PYTHONPATH": ROOT}
    environment.pop("TF_USE_LEGACY_KERAS", None)
    result = subprocess.run([sys.executable, "-c", "import tensorflow as tf; tf.keras.layers; import hw2_utils"],
                            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "import hw2_utils first" in result.stderr


def test_start_up_and_keras_predict_write_nothing_to_stderr():
    """No C++ start-up chatter, no deprecation warnings the user cannot act on (state_updates)."""
    code = ("import hw2_utils, numpy as np, tensorflow as tf\n"
            "model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3)])\n"
            "session = tf.compat.v1.Session(); tf.compat.v1.keras.backend.set_session(session)\n"
            "session.run(tf.compat.v1.global_variables_initializer())\n"
            "print(hw2_utils.accuracy(model, np.zeros((5, 4), np.float32), np.zeros(5, int)))\n")
    environment = {**os.environ, "PYTHONPATH": ROOT}
    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "1.0", result.stderr
    assert result.stderr == ""


DRAW = ("import hw2_utils, random, numpy as np, tensorflow as tf\n"
        "def student_exercise():\n"
        "    hw2_utils.exercise(andrew_username='someone', seed=7)\n"
        "student_exercise()\n"
        "v = tf.random.uniform([3]); k = tf.keras.layers.Dense(2); k.build((None, 3))\n"
        "s = tf.compat.v1.Session(); s.run(tf.compat.v1.global_variables_initializer())\n"
        "print(random.random(), np.random.rand(), s.run(v).tolist(), s.run(k.kernel).ravel().tolist())\n")


def test_exercise_is_stable_across_processes_and_hash_seeds():
    first = run_python(DRAW, PYTHONHASHSEED="1")
    second = run_python(DRAW, PYTHONHASHSEED="987")
    assert first == second
    line = first.splitlines()[0]
    derived = hw2_utils.derive_seed("someone", "student_exercise", 7)
    assert line == f"=== EXERCISE student_exercise someone 7 {derived:x} ==="


def test_exercise_seeds_differ_by_function_user_and_seed():
    seeds = {hw2_utils.derive_seed(u, f, s) for u in ("a", "b") for f in ("f", "g") for s in (1, 2)}
    assert len(seeds) == 8
    assert all(0 <= s < 2 ** 32 for s in seeds)


@pytest.mark.parametrize("username", [None, "", " ", "my id", "id\n", "tab\tid", "=== x", 42, b"bytes"])
def test_exercise_refuses_a_username_no_log_header_can_carry(username, capsys):
    def my_function():
        return hw2_utils.exercise(andrew_username=username, seed=42)
    with pytest.raises(ValueError, match="ANDREW_USERNAME .*set ANDREW_USERNAME"):
        my_function()
    assert capsys.readouterr().out == ""  # refused before anything is printed or seeded


@pytest.mark.parametrize("seed", [None, "42", 4.2, 42.0, True, np.float64(42), [42]])
def test_exercise_refuses_a_seed_that_is_not_an_integer(seed):
    with pytest.raises(ValueError, match="SEED must be an integer"):
        hw2_utils.exercise(andrew_username="someone", seed=seed)


@pytest.mark.parametrize("seed", [42, np.int64(42), np.int32(42), np.uint8(42)])
def test_integer_seeds_of_any_type_give_one_stream(seed, capsys):
    def my_function():
        return hw2_utils.exercise(andrew_username="someone", seed=seed), np.random.rand()
    derived, draw = my_function()
    assert (derived, draw) == (hw2_utils.derive_seed("someone", "my_function", 42), np.random.RandomState(derived).rand())
    assert capsys.readouterr().out == f"=== EXERCISE my_function someone 2a {derived:x} ===\n"


def test_public_script_refuses_a_bad_username_before_writing_a_log():
    """main_tests checks the identity before its header line: no log that could never pass is written."""
    code = ("import hw2_utils, sys\n"
            "class T(hw2_utils.TestCase):\n"
            "    def test_a(self): pass\n"
            "for username in ('', 'two words'):\n"
            "    hw2_utils.ANDREW_USERNAME = username\n"
            "    try:\n"
            "        hw2_utils.main_tests(T, 'evaluation_numpy.txt')\n"
            "    except ValueError as error:\n"
            "        print(repr(username), error, file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
    refusals = result.stderr.splitlines()
    assert len(refusals) == 2 and all("ANDREW_USERNAME must be your Andrew ID" in line for line in refusals)


class _Toy(hw2_utils.TestCase):
    __test__ = False  # run through run_tests below, not collected by pytest
    def test_b_passes(self):
        self.assertArrayEqual([1.0, 2.0], [1.0, 2.0000000001])
        self.assertShapeEqual((2, 3), [[0, 0, 0], [0, 0, 0]])

    def test_a_fails(self):
        self.assertArrayEqual([1.0], [1.1])

    def test_c_skipped(self):   # what code under test can do: no pass
        raise unittest.SkipTest("not today")


def test_run_tests_log_format(capsys):
    assert hw2_utils.run_tests(_Toy) is False
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == ["=== BEGIN test_b_passes ===", "OK", "=== END test_b_passes ==="]
    assert lines[3:5] == ["=== BEGIN test_a_fails ===", "FAIL"]
    assert "Traceback" in lines[5] and "AssertionError" in "\n".join(lines)
    assert lines[-5:] == ["=== END test_a_fails ===", "=== BEGIN test_c_skipped ===", "FAIL", "skipped: not today",
                          "=== END test_c_skipped ==="]


def test_main_tests_exits_nonzero_on_failure():
    with pytest.raises(SystemExit) as stop:
        hw2_utils.main_tests(_Toy, "evaluation_numpy.txt")
    assert stop.value.code == 1


def test_timeit_returns_result_and_timedelta():
    result, elapsed = hw2_utils.timeit(lambda: 42)
    assert result == 42 and elapsed.total_seconds() >= 0


# The graph seed of exercise() whether TensorFlow loads before or after it: hw2_utils loads TensorFlow
# on its first use, and a seed set while it was not loaded must be the one its first graph gets.
SEED_THEN_DRAW = ("import hw2_utils, sys\n"
                  "tf = hw2_utils.tf\n"
                  "def student_exercise():\n"
                  "    hw2_utils.exercise(andrew_username='someone', seed={seed})\n"
                  "{load}"
                  "student_exercise()\n"
                  "v = tf.random.uniform([3])\n"
                  "print(tf.compat.v1.Session().run(v).tolist())\n")


def test_the_exercise_seed_reaches_tensorflow_loaded_before_or_after_it():
    def draw(seed, load_first):
        load = "tf.constant(0)\nassert 'tensorflow.python' in sys.modules\n" if load_first else \
            "assert 'tensorflow.python' not in sys.modules\n"
        return run_python(SEED_THEN_DRAW.format(seed=seed, load=load)).splitlines()[-1]
    assert draw(7, load_first=False) == draw(7, load_first=True)
    assert draw(7, load_first=False) != draw(8, load_first=False)


def test_numpy_code_does_not_load_tensorflow():
    """Part II (and the autograder's boxes for it) never pays TensorFlow's start-up: importing hw2_numpy
    and running an exercise leave it unloaded; its first use (or an `import tensorflow`) loads it, in
    graph mode."""
    out = run_python("import sys, numpy as np, hw2_numpy\n"
                     "hw2_numpy.relu(np.arange(-2.0, 2.0))\n"
                     "print('tensorflow.python' in sys.modules)\n"
                     "print(hw2_numpy.hw2_utils.tf.executing_eagerly(), 'tensorflow.python' in sys.modules)\n")
    assert out.splitlines()[-2:] == ["False", "False True"]
