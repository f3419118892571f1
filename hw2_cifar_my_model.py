# BEGIN SOLUTION
"""Part III 7.3: our own CIFAR-10-739 model, built layer by layer, trained in graph mode.

    python hw2_cifar_my_model.py                          the default, fast preset (14 epochs)
    python hw2_cifar_my_model.py --preset accurate        wider net, 8 epochs, aims at 94%
    python hw2_cifar_my_model.py --preset sgd             the baseline: fast net, airbench94's SGD
    (README: each preset's measured time and accuracy)
    python hw2_cifar_my_model.py --epochs N --batch-size B --seed S --precision P --out submission.csv
                                 [--resume] [--run DIR]

The network is airbench94's (Keller Jordan's fast CIFAR-10 trainer): a 2x2
"whitening" convolution whose filters are computed from the training images and
frozen (its bias trains for the first epochs), then three groups of
[conv 3x3 -> max-pool 2 -> batch norm -> act -> conv 3x3 -> batch norm -> act]
with identity-initialized ("dirac") filters, global max-pooling and a linear
layer with small logits. Training on all 50,000 labeled images (train + val):
random translations (reflect pad 2), mirroring that alternates every epoch,
label smoothing 0.2. Both presets train as airbench94_muon (Muon on the
filters, hw2_muon; the fast one on a narrower net); the preset "sgd" as
airbench94 (Nesterov SGD under a triangular schedule, scores from a moving
average of the weights). Predictions average the logits of the image, its
mirror image and that pair shifted one pixel (test-time augmentation; "sgd":
the mirror only). Inputs are
standardized with training statistics only; the public test set is only ever
scored for the log: every few epochs with one view, after the last with the
test-time augmentation. The layers compute in the precision `--precision`
chooses (hw2_precision: bfloat16 on CPUs that have it).

Every epoch writes a checkpoint (atomically) to RUN/checkpoints and the run's
record RUN/run.json (config, per-epoch history, final figures); `--resume`
continues from the last checkpoint, schedule included. At the end:
RUN/curves.png, TensorBoard events in RUN, and the private-test predictions in --out.
"""
# BEGIN PROMPT
# """Part III 7.3: your own CIFAR-10-739 model (no starter code: build it layer by layer).
#
# Train on the training set (never on the public test set), check your accuracy on the public
# test set, and write the private-test predictions with `save_csv` to submission.csv. Every
# script you use to train, preprocess and test it goes into the submission.
# """
# END PROMPT
# END SOLUTION
import hw2_utils
from hw2_utils import ANDREW_USERNAME, SEED

# BEGIN SOLUTION NO PROMPT
import argparse
import contextlib
import json
import os
import re
import shutil
import time
# END SOLUTION
import sys

import numpy as np
import tensorflow as tf

import hw2_muon  # SOLUTION NO PROMPT
import hw2_numpy  # SOLUTION NO PROMPT
import hw2_precision  # SOLUTION NO PROMPT
import hw2_train  # SOLUTION NO PROMPT
from hw2_data import PRIVATE_TEST_SIZE

# BEGIN SOLUTION NO PROMPT
layers = tf.keras.layers

# name -> the network (group widths, activation, head), the optimizer and its settings, epochs,
# batch size, how often the public test is scored between epochs (one view; the last epoch is
# always scored with the full test-time augmentation) and whether that augmentation adds one-pixel
# shifts to the mirror image (6 passes, not 2).
#
# "muon" is airbench94_muon's recipe: Muon (hw2_muon) on the convolution filters, Nesterov SGD on
# the biases and the head with learning rates for the summed loss, each decayed linearly to 0,
# weight decay per example of batch, no weight average; head "normalized" (its learning rate is
# tuned for that parametrization). Batch 2000 as airbench94_muon: Muon's settings are tuned there;
# the fast preset's narrower net keeps them.
# "sgd" is airbench94's: Nesterov SGD on every trained weight under a triangular schedule, peak
# learning rate on the mean loss per 1024 images of batch (scaled linearly to the batch size), L2
# decay on every trained weight scaled by the learning rate like the gradient (airbench94's lr 11.5
# and wd 0.0153 per 1024 examples for a mean loss: 11.5 / (1 + 1 / 0.15) = 1.5 and 0.0153 / 11.5),
# a moving average of the weights for scores and predictions; head "scaled". The preset "sgd"
# (the fast net with it, the default before Muon) is the baseline the README compares against.
NARROW_NET = dict(widths=(32, 128, 128), activation="relu")
MUON = dict(optimizer="muon", head="normalized", filter_lr=0.24, filter_momentum=0.6, bias_lr=0.053,
            head_lr=0.67, decay_per_example=2e-6, batch_size=2000, score_every=4, tta_shifts=True)
PRESETS = {
    "fast": dict(**NARROW_NET, epochs=14, **MUON),
    "accurate": dict(widths=(64, 256, 256), activation="gelu", epochs=8, **MUON),
    "sgd": dict(**NARROW_NET, head="scaled", optimizer="sgd",
                learning_rate=1.5, weight_decay=0.0153 / 11.5,
                epochs=16, batch_size=512, score_every=4, tta_shifts=False),
}
MOMENTUM = 0.85               # Nesterov, for every weight SGD trains
BIAS_LR_SCALE = 64            # "sgd": batch-norm biases learn 64x faster (their decay is not scaled)
SCHEDULE = (0.2, 0.23, 0.07)  # "sgd": learning rate factor at the start, peak position (fraction of steps), end
WHITEN_BIAS_EPOCHS = 3        # the whitening layer's bias trains for the first epochs only
BN_MOMENTUM = 0.6             # fast-moving batch-norm statistics: the weights move fast too
LABEL_SMOOTHING = 0.2
EMA_EPOCHS = 1                # "sgd": the moving average of the weights spans about an epoch of steps
CROP_PAD = 2


# --------------------------------------------------------------------------- model

def whitening_kernel(images, epsilon=5e-4):
    """Frozen first-layer filters that whiten 2x2 patches: (2, 2, C, 8 C) float32.

    images: standardized float32 (N, H, W, C). The eigenvectors of the patch
    covariance, scaled by 1 / sqrt(eigenvalue + epsilon), and their negatives
    (so that a ReLU-like activation keeps both signs).
    """
    channels = images.shape[-1]
    patches = hw2_numpy.patch_rows(images, 2, 2).astype(np.float64)   # (N*(H-1)*(W-1), 2*2*C)
    patches -= patches.mean(axis=0)
    covariance = patches.T @ patches / len(patches)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    filters = eigenvectors / np.sqrt(eigenvalues + epsilon)
    return np.concatenate([filters, -filters], axis=1).reshape(2, 2, channels, 8 * channels).astype(np.float32)


class Whitening(layers.Layer):
    """2x2 'valid' convolution with frozen whitening filters (kh, kw, C, F) and a trainable bias (F,)."""

    def __init__(self, kernel, **kwargs):
        super().__init__(**kwargs)
        self.kernel_value = np.asarray(kernel, np.float32)

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_value.shape, trainable=False,
                                      initializer=tf.keras.initializers.Constant(self.kernel_value))
        self.bias = self.add_weight(name="bias", shape=self.kernel_value.shape[-1:], initializer="zeros")

    def call(self, images):
        return tf.nn.conv2d(images, self.kernel, strides=1, padding="VALID") + self.bias


def dirac_uniform(shape, dtype=None):
    """Conv kernel (kh, kw, C_in, C_out): the first min(C_in, C_out) filters pass their input channel
    through unchanged (an identity, as if the layer had a residual connection); the others are
    uniform in +-1/sqrt(kh kw C_in), PyTorch's default that airbench tunes against."""
    kernel_h, kernel_w, in_channels, out_channels = shape
    uniform = tf.keras.initializers.VarianceScaling(1 / 3, "fan_in", "uniform")(shape, dtype)
    identity = np.zeros(shape, np.float32)
    passed = np.arange(min(in_channels, out_channels))
    identity[kernel_h // 2, kernel_w // 2, passed, passed] = 1
    random_filters = np.ones(shape, np.float32)
    random_filters[..., passed] = 0
    return uniform * random_filters + identity


def build_model(X, is_training, whitening, widths=(32, 128, 128), activation="relu", head="scaled"):
    """Our network on X (None, 32, 32, 3) standardized float32; returns the Keras model (logits (None, 10)).

    is_training: boolean tensor or bool, batch statistics vs moving averages;
    whitening: the (2, 2, 3, 24) kernel of `whitening_kernel`; widths: the
    channels of the three conv groups; head: how the (None, widths[-1]) features
    become logits, "scaled" (airbench94: PyTorch's default initialization, logits
    times 1/9) or "normalized" (airbench94_muon: weights of unit standard deviation,
    logits divided by the width). Both start with logits of about the same size.
    """
    def conv(width, name):
        return layers.Conv2D(width, 3, padding="same", use_bias=False, kernel_initializer=dirac_uniform, name=name)

    def batch_norm(name):
        return layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=1e-5, scale=False, name=name)

    inputs = tf.keras.Input(tensor=X)
    x = layers.Activation(activation)(Whitening(whitening, name="whiten")(inputs))   # (31, 31, 24)
    for group, width in enumerate(widths):
        x = conv(width, f"conv{group}a")(x)
        x = layers.MaxPooling2D(2)(x)                                                # 15, 7, 3
        x = layers.Activation(activation)(batch_norm(f"bn{group}a")(x, training=is_training))
        x = conv(width, f"conv{group}b")(x)
        x = layers.Activation(activation)(batch_norm(f"bn{group}b")(x, training=is_training))
    x = layers.GlobalMaxPooling2D()(x)
    if head == "scaled":
        initializer, logit_scale = tf.keras.initializers.VarianceScaling(1 / 3, "fan_in", "uniform"), 1 / 9
    elif head == "normalized":
        initializer, logit_scale = tf.keras.initializers.RandomUniform(-np.sqrt(3), np.sqrt(3)), 1 / widths[-1]
    else:
        raise ValueError(f"head must be 'scaled' or 'normalized', got {head!r}")
    x = layers.Dense(10, use_bias=False, name="classifier", kernel_initializer=initializer)(x)
    logits = layers.Rescaling(logit_scale, dtype="float32")(x)  # small logits early on: faster, steadier start
    return tf.keras.Model(inputs, logits, name="my_model")


def learning_rate_schedule(step, total_steps, peak):
    """Airbench's triangle: linear from SCHEDULE[0] peak at step 0 up to `peak` at SCHEDULE[1] of the
    steps, then linear down to SCHEDULE[2] peak at total_steps (and there it stays)."""
    start, top_fraction, end = SCHEDULE
    step = tf.cast(step, tf.float32)
    top = max(1.0, float(int(top_fraction * total_steps)))
    rising = start + (1 - start) * step / top
    falling = 1 + (end - 1) * tf.minimum(1.0, (step - top) / max(1.0, total_steps - top))
    return peak * tf.where(step < top, rising, falling)


def linear_decay(step, total_steps):
    """1 at step 0 down to 0 at total_steps (and 0 after): airbench94_muon's schedule, a float32 tensor."""
    return tf.maximum(0.0, 1 - tf.cast(step, tf.float32) / float(total_steps))


def test_time_augmentation(model, X, logits, shifts):
    """Class probabilities (None, 10): softmax of the logits of X averaged with those of its mirror image.

    logits: model(X), already built. With shifts, that pair's average is in turn
    averaged with the pair shifted one pixel up-left and the pair shifted one
    pixel down-right (reflect padding), as airbench does (it averages logits too).
    """
    def with_mirror(images, logits=None):
        logits = model(images) if logits is None else logits
        return (logits + model(images[:, :, ::-1])) / 2
    averaged = with_mirror(X, logits)
    if shifts:
        padded = tf.pad(X, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
        shifted = (with_mirror(padded[:, :-2, :-2]) + with_mirror(padded[:, 2:, 2:])) / 2
        averaged = (averaged + shifted) / 2
    return tf.nn.softmax(averaged)


def sgd_step(model, gradients, step, preset, steps_per_epoch):
    """airbench94's update of every trained weight (PRESETS' "sgd") from its gradients (a list in
    the order of model.trainable_weights): (op, learning rate tensor).
    The op also counts the step (global `step`)."""
    peak = preset["learning_rate"] * preset["batch_size"] / 1024
    learning_rate = learning_rate_schedule(step, preset["epochs"] * steps_per_epoch, peak)
    optimizer = tf.compat.v1.train.MomentumOptimizer(learning_rate, MOMENTUM, use_nesterov=True)
    whiten_bias = model.get_layer("whiten").bias
    whiten_bias_on = tf.cast(step < WHITEN_BIAS_EPOCHS * steps_per_epoch, tf.float32)
    updates = []
    for weight, gradient in zip(model.trainable_weights, gradients):
        if "beta" in weight.name:
            gradient = BIAS_LR_SCALE * gradient
        update = gradient + preset["weight_decay"] * weight   # L2 decay, scaled by the learning rate
        updates.append((update * whiten_bias_on if weight is whiten_bias else update, weight))
    return optimizer.apply_gradients(updates, global_step=step), learning_rate


def muon_step(model, gradients, step, preset, steps_per_epoch, newton_schulz_dtype=tf.float32):
    """airbench94_muon's update (PRESETS' "muon"): (op, the filters' learning rate tensor).

    Filters (4-D): `hw2_muon.muon_update`, no decay. Whitening bias, batch-norm
    biases and head: Nesterov SGD with airbench94_muon's learning rates for the
    loss summed over the batch (our loss is its mean: gradients times the batch)
    and decay `decay_per_example * batch` per step, each rate decayed linearly to
    0, the whitening bias's over its WHITEN_BIAS_EPOCHS. The op also counts the step.
    gradients: as `sgd_step`'s; newton_schulz_dtype: the orthogonalization's
    (`hw2_muon.newton_schulz`).
    """
    decay = linear_decay(step, preset["epochs"] * steps_per_epoch)
    whiten_decay = linear_decay(step, WHITEN_BIAS_EPOCHS * steps_per_epoch)
    weight_decay = preset["decay_per_example"] * preset["batch_size"]
    whiten_bias, head = model.get_layer("whiten").bias, model.get_layer("classifier").kernel
    filter_rate = preset["filter_lr"] * decay
    ops = []
    for weight, gradient in zip(model.trainable_weights, gradients):
        if weight.shape.rank == 4:
            ops.append(hw2_muon.muon_update(weight, gradient, filter_rate, preset["filter_momentum"],
                                            dtype=newton_schulz_dtype))
            continue
        rate = preset["head_lr"] if weight is head else preset["bias_lr"]
        schedule = whiten_decay if weight is whiten_bias else decay
        optimizer = tf.compat.v1.train.MomentumOptimizer(rate * schedule, MOMENTUM, use_nesterov=True)
        summed_gradient = preset["batch_size"] * gradient + weight_decay / rate * weight
        ops.append(optimizer.apply_gradients([(summed_gradient, weight)]))
    with tf.control_dependencies(ops):   # every rate above read the step before it moves on
        count = step.assign_add(1)
    return count, filter_rate


def build_graph(whitening, preset, steps_per_epoch, seed=SEED, precision="float32"):
    """Placeholders, model, loss, train op and predictions in a new graph; returns a dict of them.

    precision: what the layers compute in (hw2_precision.PRECISIONS; the weights stay float32).

    The train op takes one step of the preset's optimizer (counting it), updates
    the batch-norm statistics and then (with "sgd") the moving average of the
    weights; `use_averages` / `use_trained` swap the averages in and back.
    """
    graph = tf.Graph()
    with graph.as_default():
        hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=seed)
        X = tf.compat.v1.placeholder(tf.float32, (None, 32, 32, 3), name="X")
        labels = tf.compat.v1.placeholder(tf.int64, (None,), name="labels")
        is_training = tf.compat.v1.placeholder_with_default(False, (), name="is_training")
        with hw2_precision.policy(precision):
            model = build_model(X, is_training, whitening, preset["widths"], preset["activation"],
                                preset["head"])
        logits = model.output   # float32 whatever the precision: the loss and the scores need it
        loss = tf.compat.v1.losses.softmax_cross_entropy(tf.one_hot(labels, 10), logits,
                                                         label_smoothing=LABEL_SMOOTHING)
        step = tf.compat.v1.train.get_or_create_global_step()
        gradients = hw2_precision.gradients(loss, model.trainable_weights, precision)
        if preset["optimizer"] == "muon":
            update, learning_rate = muon_step(model, gradients, step, preset, steps_per_epoch,
                                              hw2_precision.matmul_dtype(precision))
        else:
            update, learning_rate = sgd_step(model, gradients, step, preset, steps_per_epoch)
        train_op = hw2_train.with_batch_norm_updates(update, model)
        swap = {}
        if preset["optimizer"] == "sgd":
            # Scores and predictions use an exponential moving average of the weights (batch-norm
            # statistics included): at the high learning rates of mid-training single weights
            # swing several points of accuracy from epoch to epoch; their average does not.
            ema = tf.compat.v1.train.ExponentialMovingAverage(1 - 1 / (EMA_EPOCHS * steps_per_epoch),
                                                              num_updates=step)
            with tf.control_dependencies([train_op]):
                train_op = ema.apply(model.weights)
            swap = weight_swap(model.weights, [ema.average(w) for w in model.weights])
        correct = tf.equal(tf.argmax(logits, 1), labels)
        probabilities = test_time_augmentation(model, X, logits, preset["tta_shifts"])
        single_view = tf.nn.softmax(logits)
        # Checkpoint names are the variables' op names, as tf.train.Saver's default; save_checkpoint prunes.
        checkpointed = {variable.op.name: variable for variable in tf.compat.v1.global_variables()}
        saver = tf.compat.v1.train.Saver(checkpointed, max_to_keep=None)
        session = tf.compat.v1.Session(graph=graph)
        session.run([tf.compat.v1.global_variables_initializer(), tf.compat.v1.local_variables_initializer()])
    return dict(graph=graph, session=session, X=X, labels=labels, is_training=is_training, model=model,
                loss=loss, train_op=train_op, correct=correct, probabilities=probabilities,
                single_view=single_view, learning_rate=learning_rate, step=step, saver=saver,
                checkpointed=checkpointed, **swap)


def weight_swap(weights, averages):
    """Ops that put `averages` into `weights` and back: {use_averages, use_trained, averages}.

    The trained values wait in local variables (not checkpointed) meanwhile, so
    a swap is two session calls, whatever the model's size.
    """
    kept = [tf.compat.v1.Variable(tf.zeros(w.shape, w.dtype.base_dtype), trainable=False,
                                  collections=[tf.compat.v1.GraphKeys.LOCAL_VARIABLES],
                                  name=w.op.name.replace("/", "_") + "_trained") for w in weights]
    keep = tf.group(*[k.assign(w) for k, w in zip(kept, weights)])
    with tf.control_dependencies([keep]):
        use_averages = tf.group(*[w.assign(a) for w, a in zip(weights, averages)])
    use_trained = tf.group(*[w.assign(k) for w, k in zip(weights, kept)])
    return dict(use_averages=use_averages, use_trained=use_trained, averages=averages)


@contextlib.contextmanager
def averaged_weights(parts):
    """Inside the block the model holds the moving-average weights (if the preset keeps any);
    the trained ones come back after."""
    if "use_averages" not in parts:
        yield
        return
    parts["session"].run(parts["use_averages"])
    try:
        yield
    finally:
        parts["session"].run(parts["use_trained"])


# --------------------------------------------------------------------------- data

def augment(images, rng):
    """Random translation by up to CROP_PAD pixels (reflect padding) of uint8 (N, 32, 32, 3); same shape, dtype.

    Mirroring is not random per batch but alternates per epoch: see `alternating_flip`.
    """
    return hw2_train.random_crop(images, CROP_PAD, rng, mode="reflect")


def alternating_flip(images, epoch, seed):
    """Mirror images (N, H, W, C) as airbench does in `epoch` (0-based); returns a new array.

    A random half (drawn once from `seed`) starts mirrored, then every epoch
    all images swap, so each image is seen both ways in any two consecutive
    epochs: more diverse than an independent coin per image and epoch.
    """
    mirrored = (np.random.RandomState(seed).random_sample(len(images)) < 0.5) ^ bool(epoch % 2)
    return np.where(mirrored[:, None, None, None], images[:, :, ::-1], images)

# END SOLUTION

def save_csv(predictions, path="submission.csv", expected_length=PRIVATE_TEST_SIZE):
    """Write predictions as the autograder's CSV: header `Id,Category`, Id 0.., Category 0-9.

    predictions: (expected_length,) integer class ids, one per private-test
    image in its order. Raises ValueError (and writes nothing) for a wrong
    length, non-integers or classes outside 0-9. Written atomically.
    """
    import pandas as pd
    predictions = np.asarray(predictions)
    if predictions.ndim != 1 or len(predictions) != expected_length:
        raise ValueError(f"predictions must be one class per private-test image, shape ({expected_length},); "
                         f"got shape {predictions.shape}")
    if predictions.dtype.kind not in "iu":
        if predictions.dtype.kind != "f" or not np.all(predictions == np.round(predictions)):
            raise ValueError(f"predictions must be integer class ids, got dtype {predictions.dtype}")
        predictions = predictions.astype(np.int64)
    if predictions.size and (predictions.min() < 0 or predictions.max() > 9):
        raise ValueError(f"class ids must be in 0-9, got values from {predictions.min()} to {predictions.max()}")
    frame = pd.DataFrame({"Id": np.arange(len(predictions)), "Category": predictions.astype(np.int64)})
    hw2_utils.atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


# BEGIN SOLUTION NO PROMPT
# --------------------------------------------------------------------------- checkpoints, logs

KEEP_CHECKPOINTS = 2   # the last, and the one before it to fall back on if the last is damaged
CHECKPOINT_FOLDER = re.compile(r"epoch-(\d+)")


class RunError(RuntimeError):
    """A run folder cannot be used as asked (nothing to resume, other shapes, every checkpoint damaged)."""


def checkpoint_folders(run):
    """Complete checkpoints in RUN/checkpoints as [(epochs done, folder)], newest first (by number)."""
    folder = os.path.join(run, "checkpoints")
    if not os.path.isdir(folder):
        return []
    found = [(int(match[1]), os.path.join(folder, name)) for name in os.listdir(folder)
             if (match := CHECKPOINT_FOLDER.fullmatch(name))]
    return sorted(found, reverse=True)


def latest_checkpoint(run):
    """Folder of the newest complete checkpoint in run (model + history.json), or None."""
    folders = checkpoint_folders(run)
    return folders[0][1] if folders else None


def save_checkpoint(parts, run, epoch, history):
    """Checkpoint after `epoch` (0-based) as RUN/checkpoints/epoch-NNN; keep the last KEEP_CHECKPOINTS.

    Written under a temporary name and renamed when whole, so a folder named
    epoch-NNN is always complete; folders left by killed saves are removed.
    """
    final = os.path.join(run, "checkpoints", f"epoch-{epoch + 1:03d}")
    tmp = final + f".part{os.getpid()}"
    os.makedirs(os.path.dirname(final), exist_ok=True)
    for _, other in checkpoint_folders(run) + [(None, final)]:
        hw2_utils.remove_stale_parts(other)
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    parts["saver"].save(parts["session"], os.path.join(tmp, "model"), write_meta_graph=False,
                        write_state=False)
    with open(os.path.join(tmp, "history.json"), "w") as stream:
        json.dump(history, stream)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    for _, old in checkpoint_folders(run)[KEEP_CHECKPOINTS:]:
        shutil.rmtree(old, ignore_errors=True)


def checkpoint_shape_problems(parts, prefix):
    """Differences between the variables saved at `prefix` and the graph's: a list of messages."""
    saved = tf.train.load_checkpoint(prefix).get_variable_to_shape_map()
    expected = {name: variable.shape.as_list() for name, variable in parts["checkpointed"].items()}
    problems = [f"{name}: saved {saved[name]}, this graph has {shape}"
                for name, shape in sorted(expected.items()) if name in saved and list(saved[name]) != shape]
    missing = sorted(set(expected) - set(saved))
    if missing:
        problems.append(f"not saved: {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}")
    return problems


def restore_checkpoint(parts, run):
    """Restore the newest usable checkpoint; returns (epochs done, history), (0, []) when there is none.

    A damaged checkpoint (unreadable files, bad history.json) is skipped with a
    warning for the one before it. Raises RunError when the checkpoint holds
    weights of other shapes (another preset or another model) or when every
    checkpoint is damaged.
    """
    folders = checkpoint_folders(run)

    def skip(folder, error):
        print(f"warning: {folder} is damaged ({type(error).__name__}: {str(error).splitlines()[0]}); "
              "trying the checkpoint before it", file=sys.stderr)

    for epochs_done, folder in folders:
        prefix = os.path.join(folder, "model")
        try:
            problems = checkpoint_shape_problems(parts, prefix)
        except (tf.errors.OpError, ValueError) as error:
            skip(folder, error)
            continue
        if problems:
            raise RunError(f"{folder} was written by another model or preset ({'; '.join(problems[:3])}); "
                           "resume with the settings it was started with, or start afresh in another --run")
        try:
            parts["saver"].restore(parts["session"], prefix)
            with open(os.path.join(folder, "history.json")) as stream:
                history = json.load(stream)
            if not (isinstance(history, list) and len(history) == epochs_done
                    and all(isinstance(r, dict) and r.get("epoch") == i + 1 for i, r in enumerate(history))):
                raise ValueError(f"history.json does not list epochs 1-{epochs_done}")
        except (tf.errors.OpError, ValueError, OSError) as error:
            skip(folder, error)
            continue
        return epochs_done, history
    if folders:
        raise RunError(f"every checkpoint in {run}/checkpoints is damaged; start afresh in another --run "
                       "(or delete that folder)")
    return 0, []


def write_curves(history, path):
    """PNG of training loss and train / public-test accuracy per epoch."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    epochs = [r["epoch"] for r in history]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, [r["loss"] for r in history], marker="o")
    left.set(xlabel="epoch", ylabel="training loss (label-smoothed)", title="loss")
    right.plot(epochs, [r["acc"] for r in history], marker="o", label="train (augmented)")
    scored = [r for r in history if r["val_acc"] is not None]
    right.plot([r["epoch"] for r in scored], [r["val_acc"] for r in scored], marker="o",
               label="public test (one view; the last with test-time augmentation)")
    right.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    right.legend()
    right.grid(alpha=0.3)
    figure.tight_layout()
    hw2_utils.atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=100))
    plt.close(figure)


def write_events(writer, record):
    summary = tf.compat.v1.Summary(value=[
        tf.compat.v1.Summary.Value(tag=tag, simple_value=float(record[key]))
        for tag, key in (("train/loss", "loss"), ("train/accuracy", "acc"), ("public_test/accuracy", "val_acc"))
        if record[key] is not None])
    writer.add_summary(summary, record["epoch"])
    writer.flush()


# --------------------------------------------------------------------------- training

def prepare_data(subset=0):
    """What training starts from: (data, train_set, standardize, whitening kernel).

    We train on every labeled image, train and val (the 50,000 CIFAR-10 training
    images, as airbench does); the public test only scores, after each epoch,
    for the log. A nonzero `subset` (smoke tests) keeps the first `subset`
    training images and public-test images. data: `load_cifar739()` with train
    and val dropped; train_set: Domains of uint8 (N, 32, 32, 3) and int labels
    (N,); standardize: uint8 images -> float32 with the per-channel statistics
    of train_set; whitening: `whitening_kernel` of its first 2000.
    """
    data = hw2_utils.load_cifar739()
    keep = slice(subset or None)
    train_set = hw2_utils.Domains(np.concatenate([data.train.X, data.val.X])[keep],
                                  np.concatenate([data.train.Y, data.val.Y])[keep])
    public = hw2_utils.Domains(data.public_test.X[keep], data.public_test.Y[keep])
    data = data._replace(train=None, val=None, public_test=public)  # train and val live on in train_set
    standardize = hw2_train.standardizer(train_set.X)
    return data, train_set, standardize, whitening_kernel(standardize(train_set.X[:2000]))


# Epoch e's augmentation generator is seeded with seed + AUGMENT_SEED_STRIDE * (e + 1): a prime
# above any epoch count, so these seeds never coincide with the batch orders' seed + e.
AUGMENT_SEED_STRIDE = 7919


class AirbenchBatches(hw2_train.ShuffledBatches):
    """Epoch e's batches: the images mirrored as `alternating_flip` says for e, in the shuffled order,
    each batch translated at random (a generator of its own per epoch, so a resumed run draws
    the same) and then standardized (`preprocess`)."""

    def epoch_inputs(self, epoch):
        rng = np.random.RandomState(self.seed + AUGMENT_SEED_STRIDE * (epoch + 1))
        return alternating_flip(self.X, epoch, self.seed), lambda batch: self.preprocess(augment(batch, rng))


def code_fingerprint():
    """Fingerprint of the own model's sources, username and seed: a run continues only on the same code."""
    from hw2_submission import fingerprint, model_sources, read_project_file
    return fingerprint({name: read_project_file(name) for name in model_sources()}, ANDREW_USERNAME, SEED)


def run_config(args, train_set, precision):
    """The settings that make a run: preset (with --epochs / --batch-size applied), images, seed,
    precision (resolved: `hw2_precision.choose`), code."""
    preset = dict(PRESETS[args.preset])
    preset.update({k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size)) if v})
    return json.loads(json.dumps({"preset": args.preset, **preset, "train_examples": len(train_set.X),
                                  "seed": args.seed, "precision": precision, "code": code_fingerprint()}))


def saved_record(run):
    """The run record in folder `run`, or None (none there; an unreadable one is reported and ignored)."""
    try:
        return hw2_train.read_run_record(run)
    except ValueError as error:
        print(f"warning: {error}", file=sys.stderr)
        return None


def check_resumable(run, config, record):
    """Raise RunError unless the run in `run` (its run record, or None) can continue with `config`;
    warn when only the code changed."""
    if record is None:
        print(f"warning: {run}/run.json is missing or unreadable; the checkpoint's shapes are checked "
              "when it is restored", file=sys.stderr)
        return
    saved = record["config"]
    changed = sorted(k for k in set(saved) | set(config) if k != "code" and saved.get(k) != config.get(k))
    if changed:
        raise RunError(f"{run} was started with " + ", ".join(f"{k}={saved.get(k)}" for k in changed)
                       + "; resume it with the same --preset, --epochs, --batch-size, --seed, --precision and --subset, "
                       "or start afresh in another --run")
    if saved.get("code") != config["code"]:
        print(f"warning: the code, username or seed changed since {run} was started; continuing it "
              "(the result mixes both; use --resume auto to start afresh instead)", file=sys.stderr)


def set_aside(run):
    """Rename the folder `run` to the first free RUN.old-N (nothing is deleted); returns the new name."""
    number = 1
    while os.path.exists(f"{run}.old-{number}"):
        number += 1
    os.replace(run, f"{run}.old-{number}")
    return f"{run}.old-{number}"


def file_sha256(path):
    """sha256 hex of the file at path, or None when there is no such file."""
    from hw2_data import file_digest
    return file_digest(path, "sha256") if os.path.isfile(path) else None


def plan(args, train_set, precision):
    """What this invocation does with the folder args.run: (config, action), action one of
    'fresh', 'resume' or 'current' (a finished run of this config already wrote args.out as it is)."""
    config = run_config(args, train_set, precision)
    record, has_checkpoint = saved_record(args.run), latest_checkpoint(args.run) is not None
    compatible = has_checkpoint and record is not None and record["config"] == config
    if args.resume == "auto" and compatible and record["final"].get("csv_sha256") == file_sha256(args.out) \
            and record["final"].get("csv") == os.path.abspath(args.out):
        return config, "current"
    if args.resume == "always" or args.resume == "auto" and compatible:
        check_resumable(args.run, config, record)
        return config, "resume"
    if has_checkpoint:   # only with --resume auto: an incompatible run, kept aside
        print(f"{args.run} held a run of other settings or code: moved to {set_aside(args.run)}; starting afresh")
    return config, "fresh"


def train(args, config, data, train_set, standardize, whitening, resume):
    """Train per config into folder args.run (from its last checkpoint if `resume`).

    Returns (history, private-test predictions (N,) int64, or None when
    --stop-after stopped training before the last epoch).
    """
    preset = {key: config[key] for key in PRESETS[config["preset"]]}
    steps = hw2_train.steps_per_epoch(len(train_set.X), preset["batch_size"])
    parts = build_graph(whitening, preset, steps, config["seed"], config["precision"])
    session = parts["session"]
    start_epoch, history = restore_checkpoint(parts, args.run) if resume else (0, [])
    if start_epoch:
        print(f"resumed after epoch {start_epoch} from {args.run}/checkpoints")
    hw2_train.write_run_record(args.run, config, history)
    seed = hw2_utils.derive_seed(ANDREW_USERNAME, "train", config["seed"])
    batches = AirbenchBatches(train_set.X, train_set.Y, preset["batch_size"], seed, standardize)

    def score(images, output):
        with averaged_weights(parts):
            return hw2_train.session_predict(session, output, parts["X"], images, 500, preprocess=standardize)

    def public_accuracy(epoch):
        """Public-test accuracy after `epoch` (0-based): with the full test-time augmentation after
        the last epoch, of one view every score_every epochs, else None (not scored: scoring costs
        wall-clock time that training does not need)."""
        if epoch + 1 == preset["epochs"]:
            output = parts["probabilities"]
        elif (epoch + 1) % preset["score_every"] == 0:
            output = parts["single_view"]
        else:
            return None
        return float(np.mean(score(data.public_test.X, output).argmax(1) == data.public_test.Y))

    last_epoch = min(preset["epochs"], start_epoch + args.stop_after) if args.stop_after else preset["epochs"]
    writer = tf.compat.v1.summary.FileWriter(args.run)
    epochs = hw2_train.train_epochs(
        session, parts["train_op"], parts["X"], parts["labels"], batches, epochs=preset["epochs"],
        loss=parts["loss"], correct=parts["correct"], train_feed={parts["is_training"]: True},
        evaluate=public_accuracy, start_epoch=start_epoch, elapsed=history[-1]["seconds"] if history else 0.0,
        name="my_model", eval_name="public_acc")
    for record in epochs:
        if not np.isfinite(record["loss"]):
            raise RunError(f"training diverged in epoch {record['epoch']} (loss {record['loss']}) computing in "
                           f"{config['precision']}; start afresh in another --run, with --precision float32")
        record["val_tta"] = record["epoch"] == preset["epochs"]   # else one view, if scored
        history.append(record)
        save_checkpoint(parts, args.run, record["epoch"] - 1, history)
        hw2_train.write_run_record(args.run, config, history)
        write_events(writer, record)
        if record["epoch"] >= last_epoch:
            break
    writer.close()
    if len(history) < preset["epochs"]:
        return history, None
    return history, score(data.private_test.X, parts["probabilities"]).argmax(1)


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Train our CIFAR-10-739 model and write submission.csv.")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="fast",
                        help="fast: the default; accurate: wider net, 8 epochs, aims at 94%%; sgd: the fast net "
                             "with airbench94's SGD, the baseline (README: measured time and accuracy of each)")
    parser.add_argument("--epochs", type=int, help="override the preset's number of epochs")
    parser.add_argument("--batch-size", type=int, help="override the preset's batch size")
    parser.add_argument("--out", default="submission.csv", help="CSV of private-test predictions")
    parser.add_argument("--run", default=os.path.join("runs", "my_model"),
                        help="the run's folder: run.json, checkpoints, TensorBoard events, curves.png")
    parser.add_argument("--resume", nargs="?", const="always", choices=("always", "auto"),
                        help="continue the run in --run from its last checkpoint; `--resume auto` "
                             "continues it only if it was started with the same settings and code (and does "
                             "nothing if it already wrote --out as it is), and otherwise moves it to "
                             "RUN.old-N and starts afresh (what `make` does)")
    parser.add_argument("--seed", type=int, default=SEED,
                        help=f"seed of the initial weights and the batches (default hw2_utils.SEED, {SEED})")
    parser.add_argument("--precision", choices=hw2_precision.PRECISIONS, default="auto",
                        help="what the layers compute in: auto (the default) takes float16 on a GPU, "
                             "bfloat16 on a CPU with bf16 instructions, float32 elsewhere")
    parser.add_argument("--subset", type=int, default=0, help="train on the first N images only, and score the first N public-test images (smoke tests)")
    parser.add_argument("--stop-after", type=int, default=0,
                        help="stop after N epochs of this invocation (a planned interruption)")
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "subset", "stop_after"):
        value = getattr(args, name)
        if value is not None and value < 0 or name in ("epochs", "batch_size") and value == 0:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    has_run = latest_checkpoint(args.run) is not None
    if not args.resume and has_run:
        parser.error(f"{args.run} already holds a run: pass --resume to continue it, "
                     "or another --run (or delete that folder) to start afresh")
    if args.resume == "always" and not has_run:
        parser.error(f"--resume: {args.run} holds no checkpoint to continue; run without --resume "
                     "to start afresh (or name the run's folder with --run)")
    return args


# END SOLUTION
def main(argv=None):
    """Train your model, check it on the public test set, write submission.csv with save_csv; returns the exit status."""
    # BEGIN SOLUTION 7.3
    started = time.perf_counter()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        data, train_set, standardize, whitening = prepare_data(args.subset)
        precision, reason = hw2_precision.choose(args.precision)
        print(f"precision: {precision} ({reason})", flush=True)
        config, action = plan(args, train_set, precision)
        if action == "current":
            print(f"{args.out} is up to date: written by the finished run in {args.run} (same settings and code)")
            return 0
        history, predictions = train(args, config, data, train_set, standardize, whitening, action == "resume")
    except RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\ninterrupted: the last complete checkpoint is in {args.run}/checkpoints; "
              "continue with --resume", file=sys.stderr)
        return 130
    if history:
        write_curves(history, os.path.join(args.run, "curves.png"))
    if predictions is None:
        print(f"stopped after epoch {len(history)}; continue with --resume")
        return 0
    save_csv(predictions, args.out)
    last = history[-1]
    hw2_train.write_run_record(args.run, config, history, {
        "public_acc": last["val_acc"], "train_seconds": last["seconds"], "csv": os.path.abspath(args.out),
        "csv_sha256": file_sha256(args.out), "wall_seconds": time.perf_counter() - started,
        "resumed": action == "resume"})
    print(f"my_model: {last['epoch']} epochs, public-test accuracy {last['val_acc']:.4f}, "
          f"training time {last['seconds'] / 60:.1f} min; wrote {args.out} and {args.run}/curves.png")
    return 0
    # END SOLUTION


if __name__ == "__main__":
    sys.exit(main())
