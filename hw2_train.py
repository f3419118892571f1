"""Training through a Session: the one loop of Parts I and III, its batch sources, augmentation, run records.

    for record in train_epochs(session, train_op, x_input, y_input, batches, ...):
        ...                                   # after each epoch: save, log, or `break` to stop

`batches(epoch)` says what epoch `epoch` (0-based) trains on: the loop itself
holds no data. `ShuffledBatches` is the usual source (a new order every
epoch, from a seed); the own model builds its own (alternating mirroring,
per-epoch augmentation). Every training run writes one JSON record,
RUNS/<name>/run.json (`write_run_record`): its config, the per-epoch history
and its final figures, which the report, the benches and resume read.
"""
import hw2_utils

import json
import os
import sys
import time

import numpy as np

tf = hw2_utils.tf

RUNS = os.path.join(hw2_utils.ROOT, "runs")


def steps_per_epoch(num_examples, batch_size):
    """Batches in an epoch of num_examples (the last may be short): ceil(num_examples / batch_size)."""
    return -(-num_examples // batch_size)


# --------------------------------------------------------------------------- Keras in a Session

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


def with_batch_norm_updates(step, model):
    """One op: the optimizer `step` and the moving-average updates of model's batch-norm layers.

    Keras 2 keeps those updates in `model.updates`, not in the UPDATE_OPS collection
    TF1 code reads; a train op without them leaves inference on the initial
    statistics (mean 0, variance 1) forever.
    """
    return tf.group(step, *model.updates)


def one_hot(labels, num_classes=10):
    """Integer labels (N,) -> float32 one-hot (N, num_classes)."""
    labels = np.asarray(labels)
    if labels.size == 0:   # np.asarray([]) is float64: no label, no class to doubt
        labels = labels.astype(np.int64)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or \
            labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        values = f" from {labels.min()} to {labels.max()}" if labels.size else ""
        raise ValueError(f"labels must be a 1-D array of ints in [0, {num_classes}), got {labels.dtype} "
                         f"of shape {labels.shape}{values}")
    return np.eye(num_classes, dtype=np.float32)[labels]


def session_predict(session, output, x_input, X, batch_size=1000, feed=None, preprocess=None):
    """Run `output` over X in batches (x_input fed with preprocess(X[batch])); concatenated numpy result."""
    preprocess = preprocess or (lambda batch: batch)
    return np.concatenate([session.run(output, {x_input: preprocess(X[i:i + batch_size]), **(feed or {})})
                           for i in range(0, len(X), batch_size)])


def session_accuracy(session, output, x_input, X, Y, **kwargs):
    """Top-1 accuracy of class scores `output` (N, K) against int labels Y (N,)."""
    return float(np.mean(session_predict(session, output, x_input, X, **kwargs).argmax(axis=1) == Y))


# --------------------------------------------------------------------------- preprocessing

def channel_stats(images):
    """Per-channel mean and std of uint8 images (N, H, W, C), in [0, 1] units; two float32 (C,).

    From each channel's histogram of the 256 values: the sums of values and of their squares
    come out as exact integers (what a float64 mean of the pixels computes too, with a copy of
    every pixel in float64: many times slower on the 50,000 training images).
    """
    if images.dtype != np.uint8:
        raise TypeError(f"channel_stats takes uint8 images (0-255), not {images.dtype}: pass the images as loaded")
    pixels = images.reshape(-1, images.shape[-1])
    counts = np.stack([np.bincount(pixels[:, c], minlength=256) for c in range(pixels.shape[1])])  # (C, 256)
    values = np.arange(256, dtype=np.int64)
    count = len(pixels)
    mean = (counts @ values).astype(np.float64) / count / 255
    std = np.sqrt((counts @ values ** 2).astype(np.float64) / count / 255 ** 2 - mean ** 2)
    return mean.astype(np.float32), std.astype(np.float32)


def standardizer(images):
    """A function mapping uint8 images (N, H, W, C) to float32 (x / 255 - mean) / std per channel,
    with the statistics of `images` (training images only: test statistics must not leak in)."""
    mean, std = channel_stats(images)

    def standardize(batch):
        return (batch.astype(np.float32) * np.float32(1 / 255) - mean) / std
    return standardize


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


# --------------------------------------------------------------------------- the loop

class ShuffledBatches:
    """Batch source: epoch e visits X, Y in the order RandomState(seed + e).permutation(N).

    X: (N, ...) inputs, each batch passed through preprocess (default: as is);
    Y: (N, ...) targets; seed: None draws one from numpy's global generator
    (seeded by `exercise`). A resumed run (start_epoch > 0) sees the same
    batches. Calling it with an epoch gives that epoch's (x_batch, y_batch) pairs.
    """

    def __init__(self, X, Y, batch_size, seed=None, preprocess=None):
        if len(X) != len(Y):
            raise ValueError(f"X has {len(X)} examples but Y has {len(Y)}")
        if seed is None:
            seed = int(np.random.randint(2 ** 31 - 1))
        self.X, self.Y, self.batch_size, self.seed = X, Y, batch_size, seed
        self.preprocess = preprocess or (lambda batch: batch)
        self.num_examples, self.steps = len(X), steps_per_epoch(len(X), batch_size)

    def epoch_inputs(self, epoch):
        """(inputs, preprocess) that epoch's batches are drawn from; a subclass may vary them by epoch."""
        return self.X, self.preprocess

    def __call__(self, epoch):
        inputs, preprocess = self.epoch_inputs(epoch)
        order = np.random.RandomState(self.seed + epoch).permutation(self.num_examples)
        for step in range(self.steps):
            batch = order[step * self.batch_size:(step + 1) * self.batch_size]
            yield preprocess(inputs[batch]), self.Y[batch]


def train_epochs(session, train_op, x_input, y_input, batches, *, epochs, loss, correct, train_feed=None,
                 evaluate=None, start_epoch=0, elapsed=0.0, name="train", eval_name="val_acc"):
    """Minibatch training of a graph through a Session, one epoch per iteration; yields each epoch's record.

    batches: a batch source (`ShuffledBatches` or a subclass): `num_examples`,
    `batch_size`, `steps`, and called with the epoch (0-based), its
    (x_batch, y_batch) pairs.
    Per step runs `train_op`, scalar `loss` and `correct` ((batch,) bool or
    0/1 per example) with x_input, y_input and `train_feed` fed. After each
    epoch `evaluate(epoch)` (if given; epoch 0-based) returns an accuracy,
    printed as `eval_name`, or None (not evaluated after that epoch).
    Epochs start_epoch .. epochs-1 run (`elapsed`: training seconds already
    spent, for a resumed run); stop early by leaving the loop.

    Each record: dict with epoch (1-based), loss, acc (training, over the
    epoch), val_acc (or None), seconds (training time so far, evaluation excluded).
    """
    from tqdm import tqdm
    train_seconds = elapsed
    print(f"{name}: {batches.num_examples} examples, batch {batches.batch_size}, "
          f"epochs {start_epoch + 1}-{epochs}", flush=True)
    for epoch in range(start_epoch, epochs):
        loss_sum = correct_sum = seen = 0.0
        bar = tqdm(batches(epoch), total=batches.steps, desc=f"{name} epoch {epoch + 1}/{epochs}", leave=False,
                   unit="batch", disable=None, file=sys.stderr)
        start = time.perf_counter()
        for step, (x_batch, y_batch) in enumerate(bar):
            feed = {x_input: x_batch, y_input: y_batch, **(train_feed or {})}
            _, batch_loss, batch_correct = session.run([train_op, loss, correct], feed)
            loss_sum += float(batch_loss) * len(y_batch)
            correct_sum += float(np.sum(batch_correct))
            seen += len(y_batch)
            if step % 20 == 0:
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", img_s=f"{seen / (time.perf_counter() - start):.0f}")
        train_seconds += time.perf_counter() - start
        record = {"epoch": epoch + 1, "loss": loss_sum / seen, "acc": correct_sum / seen,
                  "val_acc": evaluate(epoch) if evaluate else None, "seconds": train_seconds}
        val_text = f"  {eval_name} {record['val_acc']:.4f}" if record["val_acc"] is not None else ""
        print(f"{name} epoch {epoch + 1}/{epochs}  loss {record['loss']:.4f}  acc {record['acc']:.4f}"
              f"{val_text}  time {train_seconds:.1f}s", flush=True)
        yield record


def train_loop(session, train_op, x_input, y_input, batches, **settings):
    """Every epoch of `train_epochs` at once; returns the list of records."""
    return list(train_epochs(session, train_op, x_input, y_input, batches, **settings))


def train_recorded(session, train_op, x_input, y_input, batches, *, optimizer, name, **settings):
    """`train_loop` under `name`, then its record RUNS/<name>/run.json; returns the history.

    The record's config: name, examples, batch size, epochs, optimizer class
    and the batch order's seed.
    """
    history = train_loop(session, train_op, x_input, y_input, batches, name=name, **settings)
    config = {"name": name, "examples": batches.num_examples, "batch_size": batches.batch_size,
              "epochs": settings["epochs"], "optimizer": type(optimizer).__name__, "seed": batches.seed}
    write_run_record(run_folder(name), config, history)
    return history


# --------------------------------------------------------------------------- run records

def run_folder(name, runs=None):
    """RUNS/<name>: where the run of that name keeps its record (RUNS: $HW2_RUNS_DIR or runs/)."""
    return os.path.join(runs or os.environ.get("HW2_RUNS_DIR") or RUNS, name)


def write_run_record(folder, config, history, final=None):
    """Write FOLDER/run.json atomically: {config, history (per-epoch records), final (figures)}; returns it."""
    record = {"config": config, "history": history, "final": final or {}}
    hw2_utils.atomic_write_text(os.path.join(folder, "run.json"), json.dumps(record, indent=1))
    return record


def read_run_record(folder):
    """The record FOLDER/run.json as a dict (config, history, final); None when there is none."""
    path = os.path.join(folder, "run.json")
    try:
        with open(path) as stream:
            record = json.load(stream)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is unreadable ({error}); delete it or train again") from error
    if not isinstance(record, dict) or not {"config", "history", "final"} <= set(record):
        raise ValueError(f"{path} is not a run record (config, history, final); delete it or train again")
    return record


def add_final_figures(folder, **figures):
    """Add figures (e.g. test_acc) to FOLDER/run.json's `final`, keeping the rest."""
    record = read_run_record(folder)
    if record is None:
        raise ValueError(f"{folder} holds no run.json to add {sorted(figures)} to")
    return write_run_record(folder, record["config"], record["history"], {**record["final"], **figures})


def train_keras_classifier(model, X, Y, *, optimizer, epochs, batch_size, validation=None,
                           global_step=None, preprocess=None, name=None):
    """Train a Keras softmax classifier with `train_epochs` in the Keras session; record it in RUNS/<name>.

    name: the run's name (default: the model's).

    model: Keras model mapping X (N, ...) to class probabilities (N, K);
    Y: int labels (N,); optimizer: a tf.compat.v1.train optimizer; validation:
    Domains(X, Y) evaluated after each epoch. Batch-norm moving averages run
    with every step; `global_step` (a variable), if given, counts the steps
    for learning-rate schedules; `preprocess` maps each training batch of X
    (augmentation). The batch order's seed comes from numpy's global generator
    (seeded by `exercise`). Sets `model.history_` to the records and
    returns the model.
    """
    name = name or model.name
    session = keras_session()
    with session.graph.as_default():
        labels = tf.compat.v1.placeholder(tf.int64, [None], name="labels")
        probabilities = model.output
        loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(labels, probabilities))
        correct = tf.equal(tf.argmax(probabilities, axis=1), labels)
        step = optimizer.minimize(loss, global_step=global_step, var_list=model.trainable_weights)
        train_op = with_batch_norm_updates(step, model)
        initialize_uninitialized(session)
    learning_phase = tf.compat.v1.keras.backend.learning_phase()
    evaluate = None
    if validation is not None:
        def evaluate(epoch):
            return session_accuracy(session, probabilities, model.input, validation.X, validation.Y)
    batches = ShuffledBatches(X, np.asarray(Y, np.int64), batch_size, preprocess=preprocess)
    model.history_ = train_recorded(session, train_op, model.input, labels, batches, optimizer=optimizer, name=name,
                                    epochs=epochs, loss=loss, correct=correct, train_feed={learning_phase: True},
                                    evaluate=evaluate)
    return model
