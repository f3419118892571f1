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
import inspect
import logging
import pickle
import random
import re
import time
import traceback
import unittest
import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _import_tensorflow_quietly():
    """Import TensorFlow with the C++ start-up chatter, written before any log level applies, hidden.

    Only file descriptor 2 is redirected, and only during the import (unless
    TF_CPP_MIN_LOG_LEVEL asks for C++ logs); a Python exception still propagates.
    """
    if os.environ["TF_CPP_MIN_LOG_LEVEL"] != "3" or "tensorflow" in sys.modules:
        import tensorflow
        return tensorflow
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tensorflow


tf = _import_tensorflow_quietly()

from hw2_data import atomic_write, atomic_write_text, remove_stale_parts  # noqa: F401  (re-exported: the one atomic-write helper)

tf.get_logger().setLevel(logging.ERROR)
# tf-keras' own graph-mode predict warns that Model.state_updates is deprecated in TF 2: true
# of eager Keras 3, nothing the user of this graph-mode course code can or should act on.
warnings.filterwarnings("ignore", message=r"`Model\.state_updates` will be removed", category=UserWarning)
tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
tf.compat.v1.disable_eager_execution()
tf.config.experimental.enable_op_determinism()
# Deterministic random ops need a seed; exercise() sets the real one.
tf.compat.v1.set_random_seed(0)

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
    function_name = inspect.stack()[1].function
    derived = derive_seed(andrew_username, function_name, seed)
    # tf.keras initializers without an explicit seed draw from Python's `random`,
    # so all three generators must be seeded for two runs to be equal.
    random.seed(derived)
    np.random.seed(derived)
    tf.compat.v1.set_random_seed(derived)
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


def load_mnist():
    """MNIST from `mnist.pkl.gz`.

    Returns Splits(train, valid, test) of Domains(X, Y): X float32 (N, 784) in
    [0, 1], Y int64 (N,) labels 0-9; N = 50,000 / 10,000 / 10,000.
    The file is read with `_ArrayUnpickler`: only numpy arrays and tuples.
    """
    path = os.path.join(find_dataset((MNIST_FILE,)), MNIST_FILE)
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


# --------------------------------------------------------------------------- training

def keras_session():
    """The Session Keras uses in graph mode (holds every Keras model's weights)."""
    return tf.compat.v1.keras.backend.get_session()


def initialize_uninitialized(session):
    """Initialize the global variables of session's graph that are not initialized yet."""
    with session.graph.as_default():
        variables = tf.compat.v1.global_variables()
        if not variables:
            return
        flags = session.run([tf.compat.v1.is_variable_initialized(v) for v in variables])
        fresh = [v for v, done in zip(variables, flags) if not done]
        if fresh:
            session.run(tf.compat.v1.variables_initializer(fresh))


def one_hot(labels, num_classes=10):
    """Integer labels (N,) -> float32 one-hot (N, num_classes)."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must be a 1-D array of ints in [0, {num_classes}), got shape {labels.shape}")
    return np.eye(num_classes, dtype=np.float32)[labels]


def session_predict(session, output, x_input, X, batch_size=1000, feed=None, preprocess=None):
    """Run `output` over X in batches (x_input fed with preprocess(X[batch])); concatenated numpy result."""
    preprocess = preprocess or (lambda batch: batch)
    return np.concatenate([session.run(output, {x_input: preprocess(X[i:i + batch_size]), **(feed or {})})
                           for i in range(0, len(X), batch_size)])


def session_accuracy(session, output, x_input, X, Y, **kwargs):
    """Top-1 accuracy of class scores `output` (N, K) against int labels Y (N,)."""
    return float(np.mean(session_predict(session, output, x_input, X, **kwargs).argmax(axis=1) == Y))


def patch_rows(images, kernel_height, kernel_width, stride=1):
    """im2col of channels-last images: (N, H, W, C) -> (N * out_h * out_w, kernel_height * kernel_width * C).

    Row (n, h, w) holds the window images[n, s*h : s*h + kh, s*w : s*w + kw, :]
    flattened in (kh, kw, C) order, out_h = 1 + (H - kh) // s, likewise out_w;
    no padding (pad first). A copy: C is the innermost, contiguous axis of the
    source, which makes it 4x faster than windows ordered (C, kh, kw).
    """
    windows = sliding_window_view(images, (kernel_height, kernel_width), axis=(1, 2))  # (N, H', W', C, kh, kw)
    windows = windows[:, ::stride, ::stride].transpose(0, 1, 2, 4, 5, 3)
    return windows.reshape(-1, kernel_height * kernel_width * images.shape[-1])


def channel_stats(images):
    """Per-channel mean and std of uint8 images (N, H, W, C), in [0, 1] units; two float32 (C,)."""
    pixels = images.reshape(-1, images.shape[-1])
    mean = pixels.mean(axis=0, dtype=np.float64) / 255
    std = np.sqrt((pixels.astype(np.float64) ** 2).mean(axis=0) / 255 ** 2 - mean ** 2)
    return mean.astype(np.float32), std.astype(np.float32)


def standardize(images, mean, std):
    """uint8 images (N, H, W, C) -> float32 (x / 255 - mean) / std per channel."""
    return (images.astype(np.float32) * np.float32(1 / 255) - mean) / std


def random_crop(images, pad, rng=np.random, mode="constant"):
    """Random translation by up to `pad` pixels: pad, then crop back at a random offset.

    images: (N, H, W, C) any dtype. Each image gets its own offsets (drawn from
    `rng`, uniform in [0, 2 pad]); the border is zeros (mode "constant") or the
    mirrored image (mode "reflect", any np.pad mode). Returns a new
    (N, H, W, C) array of the same dtype. Vectorized: one gather for the batch.
    """
    n, height, width, _ = images.shape
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode=mode)
    rows = rng.randint(0, 2 * pad + 1, size=n)[:, None] + np.arange(height)   # (N, H)
    cols = rng.randint(0, 2 * pad + 1, size=n)[:, None] + np.arange(width)    # (N, W)
    return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


def train_loop(session, train_op, x_input, y_input, X, Y, *, epochs, batch_size, loss, correct,
               train_feed=None, evaluate=None, preprocess=None, seed=None, start_epoch=0,
               on_epoch_end=None, elapsed=0.0, name="train", eval_name="val_acc"):
    """Minibatch training of a graph through a Session; the one loop of Parts I and III.

    X: (N, ...) numpy inputs, fed to `x_input` as preprocess(X[batch]) (default: as
    is); Y: (N, ...) targets fed to `y_input`. Per step runs `train_op`, scalar
    `loss` and `correct` (N,) bool/0-1 per example, with `train_feed` added.
    Epoch e visits the examples in the order RandomState(seed + e).permutation(N),
    so a resumed run (start_epoch > 0, `elapsed` training seconds already
    spent) sees the same batches; seed defaults to a draw from numpy's
    global generator (seeded by `exercise`). After each epoch `evaluate()` (if
    given) returns an accuracy (printed as `eval_name`), a one-line summary is
    printed and `on_epoch_end(epoch, record)` is called.

    Returns a list of records, one per epoch: dicts with epoch (1-based), loss,
    acc (training, over the epoch), val_acc (or None), seconds (training time so
    far, evaluation excluded).
    """
    from tqdm import tqdm
    if len(X) != len(Y):
        raise ValueError(f"X has {len(X)} examples but Y has {len(Y)}")
    if seed is None:
        seed = int(np.random.randint(2 ** 31 - 1))
    preprocess = preprocess or (lambda batch: batch)
    history, train_seconds = [], elapsed
    num_steps = -(-len(X) // batch_size)
    print(f"{name}: {len(X)} examples, batch {batch_size}, epochs {start_epoch + 1}-{epochs}", flush=True)
    for epoch in range(start_epoch, epochs):
        order = np.random.RandomState(seed + epoch).permutation(len(X))
        loss_sum = correct_sum = 0.0
        bar = tqdm(range(num_steps), desc=f"{name} epoch {epoch + 1}/{epochs}", leave=False,
                   unit="batch", disable=None, file=sys.stderr)
        start = time.perf_counter()
        for step in bar:
            batch = order[step * batch_size:(step + 1) * batch_size]
            feed = {x_input: preprocess(X[batch]), y_input: Y[batch], **(train_feed or {})}
            _, batch_loss, batch_correct = session.run([train_op, loss, correct], feed)
            loss_sum += float(batch_loss) * len(batch)
            correct_sum += float(np.sum(batch_correct))
            if step % 20 == 0:
                seen = step * batch_size + len(batch)
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}",
                                img_s=f"{seen / (time.perf_counter() - start):.0f}")
        train_seconds += time.perf_counter() - start
        record = {"epoch": epoch + 1, "loss": loss_sum / len(X), "acc": correct_sum / len(X),
                  "val_acc": evaluate() if evaluate else None, "seconds": train_seconds}
        val_text = f"  {eval_name} {record['val_acc']:.4f}" if record["val_acc"] is not None else ""
        print(f"{name} epoch {epoch + 1}/{epochs}  loss {record['loss']:.4f}  acc {record['acc']:.4f}"
              f"{val_text}  time {train_seconds:.1f}s", flush=True)
        history.append(record)
        if on_epoch_end:
            on_epoch_end(epoch, record)
    return history


def train_keras_classifier(model, X, Y, *, optimizer, epochs, batch_size, validation=None,
                           global_step=None, preprocess=None, name="train"):
    """Train a Keras softmax classifier with `train_loop` in the Keras session.

    model: Keras model mapping X (N, ...) to class probabilities (N, K);
    Y: int labels (N,); optimizer: a tf.compat.v1.train optimizer; validation:
    Domains(X, Y) evaluated after each epoch. Batch-norm moving averages
    (model.updates) run with every step; `global_step` (a variable), if given,
    counts the steps for learning-rate schedules; `preprocess` maps each
    training batch of X (augmentation). Sets `model.history_` to the records
    of `train_loop` and returns the model.
    """
    session = keras_session()
    with session.graph.as_default():
        labels = tf.compat.v1.placeholder(tf.int64, [None], name="labels")
        probabilities = model.output
        loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(labels, probabilities))
        correct = tf.equal(tf.argmax(probabilities, axis=1), labels)
        # Keras keeps batch-norm updates in model.updates, not in UPDATE_OPS.
        train_op = tf.group(optimizer.minimize(loss, global_step=global_step, var_list=model.trainable_weights), *model.updates)
        initialize_uninitialized(session)
    learning_phase = tf.compat.v1.keras.backend.learning_phase()
    evaluate = None
    if validation is not None:
        def evaluate():
            return session_accuracy(session, probabilities, model.input, validation.X, validation.Y)
    model.history_ = train_loop(session, train_op, model.input, labels, X, np.asarray(Y, np.int64),
                                epochs=epochs, batch_size=batch_size, loss=loss, correct=correct,
                                train_feed={learning_phase: True}, evaluate=evaluate,
                                preprocess=preprocess, name=name)
    return model


# --------------------------------------------------------------------------- gradient checks

def numerical_gradient(f, x, dout=None, h=1e-5):
    """Centered-difference gradient of sum(f(x) * dout) with respect to array x (changed in place, restored).

    f: function of x returning an array (or a scalar when dout is None); dout:
    the upstream gradient, same shape as f(x). Returns an array shaped like x.
    Use float64 inputs: the error is O(h^2) plus rounding of order eps / h.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    weights = 1.0 if dout is None else dout
    iterator = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in iterator:
        index = iterator.multi_index
        original = x[index]
        x[index] = original + h
        plus = np.sum(f(x) * weights)
        x[index] = original - h
        minus = np.sum(f(x) * weights)
        x[index] = original
        grad[index] = (plus - minus) / (2 * h)
    return grad


def relative_error(a, b):
    """max |a - b| / max(max |a|, max |b|, 1e-8): the arrays' difference relative to their scale.

    Relative to the whole array, not per element: a per-element ratio is
    dominated by entries near zero, where centered differences carry an
    absolute rounding error of ~eps / h whatever the true value.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare shapes {a.shape} and {b.shape}")
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), 1e-8)
    return float(np.abs(a - b).max(initial=0.0) / scale)


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


def main_tests(test_class, log_name):
    """Entry point of a public test script: print the log `log_name`, exit 1 if any test failed.

    The first line is the fingerprint of the sources the log exercises, the
    username and the seed, which `make check-submission` verifies.
    """
    from hw2_submission import fingerprint_line
    andrew_username, seed = check_identity(ANDREW_USERNAME, SEED)
    print(fingerprint_line(log_name, andrew_username, seed), flush=True)
    sys.exit(0 if run_tests(test_class) else 1)
