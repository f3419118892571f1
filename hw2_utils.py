"""Shared code for every hw2 exercise: TensorFlow set-up, seeding, data, test harness.

Import this module before anything else that may import TensorFlow: it puts
`TF_USE_LEGACY_KERAS=1` in the environment (so `tf.keras` is Keras 2, which has
graph mode), turns eager execution off, makes ops deterministic and quiets
TensorFlow's start-up chatter.
"""
import os
import sys

# Must happen before TensorFlow is first imported: tf.keras picks Keras 2 or 3 then.
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # C++ INFO/WARNING lines carry nothing for students
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
if "tensorflow" in sys.modules and "tf_keras" not in sys.modules:
    import tensorflow as _tf_already
    if not _tf_already.keras.__name__.startswith("tf_keras"):
        raise ImportError(
            "TensorFlow was imported before hw2_utils with Keras 3 as tf.keras; "
            "import hw2_utils first (or set TF_USE_LEGACY_KERAS=1 in the environment).")

import collections
import datetime
import hashlib
import inspect
import logging
import random
import time
import traceback
import unittest

import numpy as np
import tensorflow as tf

tf.get_logger().setLevel(logging.ERROR)
tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
tf.compat.v1.disable_eager_execution()
tf.config.experimental.enable_op_determinism()

# The student's identity and seed; every exercise passes these to `exercise`.
ANDREW_USERNAME = "hw2ref"
SEED = 42

ROOT = os.path.dirname(os.path.abspath(__file__))

Splits = collections.namedtuple("Splits", ["train", "valid", "test"])
Domains = collections.namedtuple("Domains", ["X", "Y"])
Cifar739 = collections.namedtuple("Cifar739", ["train", "val", "public_test", "private_test"])


# --------------------------------------------------------------------------- seeding

def derive_seed(andrew_username, function_name, seed):
    """Stable 32-bit seed from (username, function name, seed).

    Python's `hash()` is salted per process, so it would give different numbers
    in every run; sha256 gives the same on every process and machine.
    Returns an int in [0, 2**32), valid for numpy, random and TensorFlow.
    """
    text = f"{andrew_username!r}|{function_name}|{seed!r}".encode("utf-8")
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big")


def exercise(andrew_username=None, seed=None):
    """Start an exercise: seed Python `random`, numpy and TensorFlow's graph seed.

    The seed is derived from (andrew_username, name of the calling function,
    seed), so each exercise gets its own reproducible stream. Prints
    `=== EXERCISE {function} {username} {seed:x} {derived:x} ===`.
    Returns the derived seed (int).
    """
    function_name = inspect.stack()[1].function
    derived = derive_seed(andrew_username, function_name, seed)
    # tf.keras initializers without an explicit seed draw from Python's `random`,
    # so all three generators must be seeded for two runs to be equal.
    random.seed(derived)
    np.random.seed(derived)
    tf.compat.v1.set_random_seed(derived)
    seed_text = format(seed, "x") if isinstance(seed, int) else str(seed)
    print(f"=== EXERCISE {function_name} {andrew_username} {seed_text} {derived:x} ===", flush=True)
    return derived


# --------------------------------------------------------------------------- data

class DataError(RuntimeError):
    """A data file is missing or not what it should be."""


FETCH_HINT = "run ./get_dataset.sh (or `make data`) from the project root"


def data_search_path():
    """Folders searched for data, in order: $HW2_DATA_DIR, data/, then the original places."""
    places = []
    if os.environ.get("HW2_DATA_DIR"):
        places.append(os.environ["HW2_DATA_DIR"])
    places += [os.path.join(ROOT, "data"), ROOT, ".", "..", "../..",
               "/autograder/source", "/autograder/data"]
    return places


def find_data_file(relative_path):
    """Absolute path of the first `relative_path` found on `data_search_path()`."""
    for place in data_search_path():
        candidate = os.path.join(place, relative_path)
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
    raise DataError(f"{relative_path} not found in any of {data_search_path()}; {FETCH_HINT}.")


def _check_array(name, array, shape, dtype_kind, low=None, high=None):
    """Raise DataError unless `array` has `shape` (None = any size) and dtype kind."""
    if array.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, array.shape)):
        raise DataError(f"{name} has shape {array.shape}, expected {shape}; {FETCH_HINT} to rebuild it.")
    if array.dtype.kind not in dtype_kind:
        raise DataError(f"{name} has dtype {array.dtype}, expected kind {dtype_kind!r}; {FETCH_HINT}.")
    if low is not None and array.size and (array.min() < low or array.max() > high):
        raise DataError(f"{name} has values outside [{low}, {high}]; {FETCH_HINT} to rebuild it.")


def load_mnist():
    """MNIST from `mnist.pkl.gz`.

    Returns Splits(train, valid, test) of Domains(X, Y): X float32 (N, 784) in
    [0, 1], Y int64 (N,) labels 0-9; N = 50,000 / 10,000 / 10,000.
    """
    import gzip
    import pickle
    path = find_data_file("mnist.pkl.gz")
    try:
        with gzip.open(path, "rb") as f:
            parts = pickle.load(f, encoding="latin1")
    except (OSError, EOFError, pickle.UnpicklingError, ValueError) as error:
        raise DataError(f"{path} is unreadable or truncated ({error}); delete it and {FETCH_HINT}.") from error
    if not (isinstance(parts, (tuple, list)) and len(parts) == 3):
        raise DataError(f"{path} is not ((train_X, train_y), (val_X, val_y), (test_X, test_y)); {FETCH_HINT}.")
    splits = []
    for split_name, (x, y) in zip(Splits._fields, parts):
        x, y = np.asarray(x, dtype=np.float32), np.asarray(y).astype(np.int64)
        _check_array(f"mnist {split_name} X", x, (None, 784), "f", 0.0, 1.0)
        _check_array(f"mnist {split_name} Y", y, (x.shape[0],), "iu", 0, 9)
        splits.append(Domains(x, y))
    return Splits(*splits)


CIFAR_FOLDER = "cifar-10-739"
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                 "dog", "frog", "horse", "ship", "truck")


def _load_npy(name):
    path = find_data_file(os.path.join(CIFAR_FOLDER, name))
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise DataError(f"{path} is unreadable or truncated ({error}); delete it and {FETCH_HINT}.") from error


def load_cifar739():
    """CIFAR-10-739 from `cifar-10-739/*.npy`.

    Returns Cifar739(train, val, public_test, private_test) of Domains(X, Y):
    X uint8 (N, 32, 32, 3), Y int64 (N,) class ids 0-9 (None for private_test);
    N = 45,000 / 5,000 / 5,000 / 5,000 for the course distribution.
    """
    parts = {}
    for split in Cifar739._fields:
        x = _load_npy(f"{split}_X.npy")
        _check_array(f"{split}_X.npy", x, (None, 32, 32, 3), "u")
        y = None
        if split != "private_test":
            y = _load_npy(f"{split}_y.npy")
            _check_array(f"{split}_y.npy", y, (x.shape[0],), "iu", 0, 9)
            y = y.astype(np.int64)
        parts[split] = Domains(x, y)
    return Cifar739(**parts)


# --------------------------------------------------------------------------- small helpers

def timeit(thunk):
    """Run `thunk()`; return (its result, elapsed datetime.timedelta)."""
    start = time.perf_counter()
    result = thunk()
    return result, datetime.timedelta(seconds=time.perf_counter() - start)


def accuracy(model, x, y, batch_size=1000):
    """Top-1 accuracy (float in [0, 1]) of Keras `model` on x; y int labels (N,) or one-hot (N, K)."""
    y = np.asarray(y)
    labels = y.argmax(axis=1) if y.ndim == 2 else y
    predictions = model.predict(x, batch_size=batch_size, verbose=0).argmax(axis=1)
    return float(np.mean(predictions == labels))


def evaluate_tf(build, *arrays):
    """Evaluate `build(*tensors)` in a fresh graph and session, feeding numpy `arrays`.

    `build` maps one placeholder per array (same dtype and shape) to a tensor or
    a list of tensors. Returns the numpy value(s). Used to check numpy code
    against TensorFlow's own ops.
    """
    with tf.Graph().as_default() as graph:
        placeholders = [tf.compat.v1.placeholder(tf.as_dtype(a.dtype), a.shape) for a in arrays]
        outputs = build(*placeholders)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            return session.run(outputs, dict(zip(placeholders, arrays)))


# --------------------------------------------------------------------------- test harness

class TestCase(unittest.TestCase):
    """unittest.TestCase with the array assertions the public tests use."""

    def assertArrayEqual(self, actual, expected, decimal=6):
        np.testing.assert_array_almost_equal(np.asarray(actual), np.asarray(expected), decimal=decimal)

    def assertShapeEqual(self, actual, expected):
        actual_shape = tuple(np.shape(actual)) if not isinstance(actual, tuple) else actual
        expected_shape = tuple(np.shape(expected)) if not isinstance(expected, tuple) else expected
        self.assertEqual(actual_shape, expected_shape)


def test_names(test_class):
    """Test method names of `test_class` in the order they are defined."""
    names = []
    for klass in reversed(test_class.__mro__):
        for name, value in vars(klass).items():
            if name.startswith("test") and callable(value) and name not in names:
                names.append(name)
    return names


def run_tests(test_class):
    """Run every test of `test_class` in definition order and print the evaluation log.

    Per test: `=== BEGIN {test} ===`, then `OK` or `FAIL` and the traceback,
    then `=== END {test} ===`. Returns True when every test passed.
    """
    all_passed = True
    test_class.setUpClass()
    try:
        for name in test_names(test_class):
            print(f"=== BEGIN {name} ===", flush=True)
            result = unittest.TestResult()
            test_class(name).run(result)
            problems = result.failures + result.errors
            if problems:
                all_passed = False
                print("FAIL")
                for _, text in problems:
                    print(text, end="" if text.endswith("\n") else "\n")
            else:
                print("OK")
            print(f"=== END {name} ===", flush=True)
    finally:
        test_class.tearDownClass()
    return all_passed


def main_tests(test_class):
    """Entry point of a public test script: print the log, exit 1 if any test failed."""
    sys.exit(0 if run_tests(test_class) else 1)
