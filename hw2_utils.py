"""Shared code for every hw2 exercise: TensorFlow set-up, seeding, data, test harness.

Import this module before anything else that may import TensorFlow: it puts
`TF_USE_LEGACY_KERAS=1` in the environment (so `tf.keras` is Keras 2, which has
graph mode) and, when TensorFlow loads (on its first use, not at import: numpy-only
code never pays for it), turns eager execution off, makes ops deterministic and
quiets TensorFlow's start-up chatter.
"""
import os
import sys

# Must happen before TensorFlow is first imported: tf.keras picks Keras 2 or 3 then.
os.environ["TF_USE_LEGACY_KERAS"] = "1"
# C++ INFO/WARNING/ERROR lines ("no CUDA driver" on every CPU machine) carry nothing for
# students; set TF_CPP_MIN_LOG_LEVEL=0 in the environment to see them when debugging.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
if "tensorflow" in sys.modules and "tf_keras" not in sys.modules:
    import tensorflow as _tf_already
    if not _tf_already.keras.__name__.startswith("tf_keras"):
        raise ImportError(
            "TensorFlow was imported before hw2_utils with Keras 3 as tf.keras; "
            "import hw2_utils first (or set TF_USE_LEGACY_KERAS=1 in the environment).")

import collections
import datetime
import gzip
import hashlib
import importlib.abc
import importlib.util
import inspect
import logging
import pickle
import random
import re
import time
import unittest
import warnings

import numpy as np


class _SetUpOnLoad(importlib.abc.Loader):
    """TensorFlow's own loader, with its C++ start-up chatter hidden and the course's set-up run as
    soon as TensorFlow is loaded, by whichever line first uses it.

    Loading is deferred (importlib's LazyLoader) until the first attribute of `tensorflow` is read
    (an `import tensorflow` statement reads one, so modules that import it load it): code that
    never touches TensorFlow (Part II, numpy only, and the autograder's boxes for it)
    does not pay its start-up of seconds. Only file descriptor 2 is redirected, and only during the
    load (unless TF_CPP_MIN_LOG_LEVEL asks for C++ logs); a Python exception still propagates.
    """

    def __init__(self, loader):
        self.loader = loader

    def __getattr__(self, name):   # everything else a loader answers (file names, resources) is TensorFlow's
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        if os.environ["TF_CPP_MIN_LOG_LEVEL"] != "3":
            self.loader.exec_module(module)
        else:
            sys.stderr.flush()
            saved = os.dup(2)
            try:
                with open(os.devnull, "w") as devnull:
                    os.dup2(devnull.fileno(), 2)
                    self.loader.exec_module(module)
            finally:
                os.dup2(saved, 2)
                os.close(saved)
        _set_up(module)


def _tensorflow_loaded_on_first_use():
    """The `tensorflow` module every importer gets (sys.modules'), loaded and set up on first use."""
    if "tensorflow" in sys.modules:   # loaded already (with Keras 2, checked above): set it up now
        _set_up(sys.modules["tensorflow"])
        return sys.modules["tensorflow"]
    spec = importlib.util.find_spec("tensorflow")
    if spec is None:
        raise ImportError("TensorFlow is not installed in this interpreter; run `make venv` and use .venv/bin/python")
    spec.loader = importlib.util.LazyLoader(_SetUpOnLoad(spec.loader))
    module = importlib.util.module_from_spec(spec)
    sys.modules["tensorflow"] = module
    spec.loader.exec_module(module)
    return module


# The graph seed of the latest exercise(), given to TensorFlow when it loads if it was not loaded
# then (the same as setting it at that moment: nothing ran on the graph in between).
_graph_seed = 0
_set_up_done = False


def _set_up(tensorflow):
    """Graph mode, deterministic ops, quiet logs and the graph seed: once, as TensorFlow loads."""
    global _set_up_done
    tensorflow.get_logger().setLevel(logging.ERROR)
    tensorflow.compat.v1.logging.set_verbosity(tensorflow.compat.v1.logging.ERROR)
    tensorflow.compat.v1.disable_eager_execution()
    tensorflow.config.experimental.enable_op_determinism()
    tensorflow.compat.v1.set_random_seed(_graph_seed)
    _set_up_done = True


def _set_graph_seed(seed):
    global _graph_seed
    _graph_seed = seed
    if _set_up_done:
        tf.compat.v1.set_random_seed(seed)


# tf-keras' own graph-mode predict warns that Model.state_updates is deprecated in TF 2: true
# of eager Keras 3, nothing the user of this graph-mode course code can or should act on.
warnings.filterwarnings("ignore", message=r"`Model\.state_updates` will be removed", category=UserWarning)
tf = _tensorflow_loaded_on_first_use()

from hw2_data import atomic_write, atomic_write_text, remove_stale_parts  # noqa: E402,F401  (re-exported: the one atomic-write helper)

# The student's identity and seed; every exercise passes these to `exercise`.
# BEGIN SOLUTION
ANDREW_USERNAME = "hw2ref"
# BEGIN PROMPT
# ANDREW_USERNAME = None   # your Andrew ID, in quotes: "jdoe"
# END PROMPT
# END SOLUTION
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


USERNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


def check_identity(andrew_username, seed):
    """Validate the student's identity; returns (username, seed as a Python int).

    The username must be a non-empty Andrew ID of letters, digits and . _ + -
    (it is written into every log header, which must parse back to it). The
    seed must be an integer: Python int or numpy integer, normalized to int so
    that `42` and `np.int64(42)` give the same stream. Anything else raises
    ValueError naming the fix.
    """
    if not isinstance(andrew_username, str) or not USERNAME_PATTERN.fullmatch(andrew_username):
        raise ValueError(f"ANDREW_USERNAME must be your Andrew ID (letters, digits, '.', '_', '+', '-'; "
                         f"no spaces), got {andrew_username!r}; set ANDREW_USERNAME = \"yourandrewid\" "
                         "in hw2_utils.py")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"SEED must be an integer, got {seed!r} ({type(seed).__name__}); "
                         "set SEED = 42 (any whole number, no quotes) in hw2_utils.py")
    return andrew_username, int(seed)


def exercise(andrew_username=None, seed=None):
    """Start an exercise: seed Python `random`, numpy and TensorFlow's graph seed.

    The seed is derived from (andrew_username, name of the calling function,
    seed), so each exercise gets its own reproducible stream. Prints
    `=== EXERCISE {function} {username} {seed:x} {derived:x} ===`.
    Raises ValueError for a username or seed `check_identity` refuses.
    Returns the derived seed (int).
    """
    andrew_username, seed = check_identity(andrew_username, seed)
    # The caller's frame only: inspect.stack() would read every module's file name, TensorFlow's
    # too, and so load it in numpy-only code.
    function_name = inspect.currentframe().f_back.f_code.co_name
    derived = derive_seed(andrew_username, function_name, seed)
    # tf.keras initializers without an explicit seed draw from Python's `random`,
    # so all three generators must be seeded for two runs to be equal.
    random.seed(derived)
    np.random.seed(derived)
    _set_graph_seed(derived)
    print(f"=== EXERCISE {function_name} {andrew_username} {seed:x} {derived:x} ===", flush=True)
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


def find_dataset(files):
    """Absolute path of the one folder on `data_search_path()` that holds the dataset `files`.

    files: relative paths making up one dataset. The first folder holding any
    of them is the dataset's folder, and every file must be there: a partial
    copy raises DataError naming what it lacks, rather than taking the rest
    from another folder (which could be another version of the data).
    """
    for place in data_search_path():
        present = [name for name in files if os.path.isfile(os.path.join(place, name))]
        if present:
            missing = [name for name in files if name not in present]
            if missing:
                raise DataError(f"{os.path.abspath(place)} holds part of a dataset but lacks {', '.join(missing)}; "
                                f"{FETCH_HINT} to complete it (or remove the partial copy).")
            return os.path.abspath(place)
    raise DataError(f"{', '.join(files)} not found in any of {data_search_path()}; {FETCH_HINT}.")


def _check_array(name, array, shape, dtype_kind, low=None, high=None):
    """Raise DataError unless `array` has `shape` (None = any size) and dtype kind."""
    if array.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, array.shape)):
        raise DataError(f"{name} has shape {array.shape}, expected {shape}; {FETCH_HINT} to rebuild it.")
    if array.dtype.kind not in dtype_kind:
        raise DataError(f"{name} has dtype {array.dtype}, expected kind {dtype_kind!r}; {FETCH_HINT}.")
    if low is not None and array.size and (array.min() < low or array.max() > high):
        raise DataError(f"{name} has values outside [{low}, {high}]; {FETCH_HINT} to rebuild it.")


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays, tuples and plain values only: a crafted file cannot run code.

    pickle calls find_class for every global a file names (a function to call,
    a class to build); only what rebuilding a numpy array needs is admitted.
    """
    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"),
               ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"it names {module}.{name}, but may hold only numpy arrays and tuples")
        with warnings.catch_warnings():  # numpy.core is numpy._core's deprecated alias (old pickles)
            warnings.simplefilter("ignore", DeprecationWarning)
            return super().find_class(module, name)


MNIST_FILE = "mnist.pkl.gz"


def load_mnist(folder=None):
    """MNIST from `mnist.pkl.gz` in `folder` (default: found by `find_dataset`).

    Returns Splits(train, valid, test) of Domains(X, Y): X float32 (N, 784) in
    [0, 1], Y int64 (N,) labels 0-9; N = 50,000 / 10,000 / 10,000.
    The file is read with `_ArrayUnpickler`: only numpy arrays and tuples.
    """
    path = os.path.join(folder or find_dataset((MNIST_FILE,)), MNIST_FILE)
    try:
        with gzip.open(path, "rb") as f:
            parts = _ArrayUnpickler(f, encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError) as error:
        raise DataError(f"{path} is unreadable, truncated or not MNIST ({error}); delete it and {FETCH_HINT}.") from error
    layout = "((train_X, train_y), (valid_X, valid_y), (test_X, test_y)) of numpy arrays"
    if not (isinstance(parts, (tuple, list)) and len(parts) == 3 and all(
            isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(a, np.ndarray) for a in pair)
            for pair in parts)):
        raise DataError(f"{path} does not hold {layout}; delete it and {FETCH_HINT}.")
    splits = []
    for split_name, (x, y) in zip(Splits._fields, parts):
        _check_array(f"mnist {split_name} X", x, (None, 784), "fiu")
        x = x.astype(np.float32, copy=False)
        _check_array(f"mnist {split_name} X", x, (None, 784), "f", 0.0, 1.0)
        _check_array(f"mnist {split_name} Y", y, (x.shape[0],), "iu", 0, 9)
        splits.append(Domains(x, y.astype(np.int64)))
    return Splits(*splits)


CIFAR_FOLDER = "cifar-10-739"
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                 "dog", "frog", "horse", "ship", "truck")


def cifar_files():
    """File names of CIFAR-10-739 in its folder: X and y per split, no private labels."""
    return [f"{split}_{part}.npy" for split in Cifar739._fields for part in ("X", "y")
            if (split, part) != ("private_test", "y")]


def load_cifar739():
    """CIFAR-10-739 from `cifar-10-739/*.npy`, every file from one folder (`find_dataset`).

    Returns Cifar739(train, val, public_test, private_test) of Domains(X, Y):
    X uint8 (N, 32, 32, 3), Y int64 (N,) class ids 0-9 (None for private_test);
    N = 45,000 / 5,000 / 5,000 / 5,000 for the course distribution.
    """
    names = cifar_files()
    folder = os.path.join(find_dataset([os.path.join(CIFAR_FOLDER, name) for name in names]), CIFAR_FOLDER)
    arrays = {}
    for name in names:
        path = os.path.join(folder, name)
        try:
            arrays[name] = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:
            raise DataError(f"{path} is unreadable or truncated ({error}); delete it and {FETCH_HINT}.") from error
    parts = {}
    for split in Cifar739._fields:
        x = arrays[f"{split}_X.npy"]
        _check_array(f"{split}_X.npy", x, (None, 32, 32, 3), "u")
        y = arrays.get(f"{split}_y.npy")
        if y is not None:
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

    Per test: `=== BEGIN {test} ===`, then `OK` or `FAIL` and the traceback
    (or `skipped: reason`: a skipped test is no pass), then `=== END {test} ===`.
    Returns True when every test passed.
    """
    all_passed = True
    test_class.setUpClass()
    try:
        for name in test_names(test_class):
            print(f"=== BEGIN {name} ===", flush=True)
            result = unittest.TestResult()
            test_class(name).run(result)
            # A test skipped by the code it calls (unittest.SkipTest raised there) did not pass either.
            problems = result.failures + result.errors + [(test, f"skipped: {reason}")
                                                          for test, reason in result.skipped]
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


def main_tests(test_class, log_name):
    """Entry point of a public test script: print the log `log_name`, exit 1 if any test failed.

    The first line is the fingerprint of the sources the log exercises, the
    username and the seed, which `make check-submission` verifies.
    """
    from hw2_submission import fingerprint_line
    andrew_username, seed = check_identity(ANDREW_USERNAME, SEED)
    print(fingerprint_line(log_name, andrew_username, seed), flush=True)
    sys.exit(0 if run_tests(test_class) else 1)
