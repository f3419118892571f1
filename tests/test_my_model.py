"""hw2_cifar_my_model: model shape, training step, augmentation, save_csv, resume."""
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import hw2_utils
import hw2_cifar_my_model as my

# Documented in hw2_cifar_my_model.PRESETS: parameters of the two presets.
PARAMETER_RANGES = {"fast": (450_000, 550_000), "accurate": (1_900_000, 2_050_000)}


def tiny_graph(preset="fast", total_steps=100, learning_rate=None):
    images = np.random.RandomState(0).standard_normal((64, 32, 32, 3)).astype(np.float32)
    preset = dict(my.PRESETS[preset])
    if learning_rate:
        preset["learning_rate"] = learning_rate
    return my.build_graph(my.whitening_kernel(images), preset, total_steps)


@pytest.mark.parametrize("preset", ["fast", "accurate"])
def test_model_shape_and_parameter_count(preset):
    parts = tiny_graph(preset)
    model = parts["model"]
    assert model.output.shape.as_list() == [None, 10]
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    low, high = PARAMETER_RANGES[preset]
    assert low <= trainable <= high, trainable
    whiten = model.get_layer("whiten")
    assert not whiten.trainable and whiten.kernel.shape.as_list() == [2, 2, 3, 24]
    parts["session"].close()


def test_whitening_kernel_whitens_patches():
    images = np.random.RandomState(1).standard_normal((50, 8, 8, 3)).astype(np.float32)
    images[..., 1] += 0.8 * images[..., 0]  # correlated channels
    kernel = my.whitening_kernel(images, epsilon=0.0)
    filters = kernel.reshape(12, 24)[:, :12]
    patches = hw2_utils.patch_rows(images, 2, 2)
    whitened = (patches - patches.mean(0)) @ filters
    np.testing.assert_allclose(np.cov(whitened, rowvar=False, bias=True), np.eye(12), atol=1e-3)
    np.testing.assert_array_equal(kernel.reshape(12, 24)[:, 12:], -filters)


def test_training_steps_reduce_loss_on_a_handful():
    parts = tiny_graph(total_steps=1000, learning_rate=0.05)
    rng = np.random.RandomState(2)
    feed = {parts["X"]: rng.standard_normal((16, 32, 32, 3)).astype(np.float32),
            parts["labels"]: np.arange(16) % 10, parts["is_training"]: True}
    session = parts["session"]
    losses = [session.run([parts["train_op"], parts["loss"]], feed)[1] for _ in range(15)]
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses
    assert session.run(parts["step"]) == 15
    moving = [v for v in parts["graph"].get_collection("variables") if "moving_mean" in v.name]
    assert moving and all(np.any(session.run(v) != 0) for v in moving)  # batch-norm updates ran
    session.close()


def test_averaged_weights_are_swapped_in_and_back():
    parts = tiny_graph(total_steps=1000, learning_rate=0.05)
    session, weights = parts["session"], parts["model"].weights
    feed = {parts["X"]: np.random.RandomState(3).standard_normal((16, 32, 32, 3)).astype(np.float32),
            parts["labels"]: np.arange(16) % 10, parts["is_training"]: True}
    for _ in range(5):
        session.run(parts["train_op"], feed)
    trained, averages = session.run(weights), session.run(parts["averages"])
    assert any(not np.allclose(t, a) for t, a in zip(trained, averages))  # the average lags the weights
    with my.averaged_weights(parts):
        for inside, average in zip(session.run(weights), averages):
            np.testing.assert_array_equal(inside, average)
    for after, before in zip(session.run(weights), trained):
        np.testing.assert_array_equal(after, before)
    parts["session"].close()


@pytest.mark.parametrize("shifts", [False, True])
def test_test_time_augmentation(shifts):
    parts = tiny_graph(learning_rate=0.05)
    model, X = parts["model"], parts["X"]
    with parts["graph"].as_default():
        probabilities = my.test_time_augmentation(model, X, model.output, shifts)
        single_view = tf.nn.softmax(model.output)
    images = np.random.RandomState(4).standard_normal((6, 32, 32, 3)).astype(np.float32)
    session = parts["session"]
    ours, plain = session.run([probabilities, single_view], {X: images})
    mirrored = session.run(probabilities, {X: images[:, :, ::-1]})
    np.testing.assert_allclose(ours.sum(axis=1), 1, rtol=1e-5)
    assert not np.allclose(ours, plain, atol=1e-4)  # the views really differ
    # The mirror pair is symmetric; the shifted pairs (up-left, down-right) are not mirrors of each other.
    assert np.allclose(ours, mirrored, atol=1e-6) != shifts
    parts["session"].close()


def test_learning_rate_schedule_warms_up_then_decays():
    with tf.Graph().as_default():
        step = tf.compat.v1.placeholder(tf.int64, ())
        rate = my.learning_rate_schedule(step, 100, 0.4)
        with tf.compat.v1.Session() as session:
            values = [session.run(rate, {step: s}) for s in (0, 10, 20, 60, 100, 120)]
    np.testing.assert_allclose(values, [0.0, 0.2, 0.4, 0.2, 0.0, 0.0], atol=1e-6)


def test_random_flip_mirrors_about_half():
    images = np.random.RandomState(3).randint(0, 256, (400, 32, 32, 3)).astype(np.uint8)
    out = hw2_utils.random_flip(images, np.random.RandomState(4))
    assert out.shape == images.shape and out.dtype == np.uint8
    same = np.all(out == images, axis=(1, 2, 3))
    mirrored = np.all(out == images[:, :, ::-1], axis=(1, 2, 3))
    assert np.all(same | mirrored)
    assert 150 < mirrored.sum() < 250


def test_random_crop_shifts_by_at_most_pad():
    images = np.random.RandomState(5).randint(1, 256, (200, 32, 32, 3)).astype(np.uint8)
    out = hw2_utils.random_crop(images, 2, np.random.RandomState(6))
    assert out.shape == images.shape and out.dtype == np.uint8
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)))
    shifts = set()
    for i in range(len(images)):
        matches = [(dy, dx) for dy in range(5) for dx in range(5)
                   if np.array_equal(out[i], padded[i, dy:dy + 32, dx:dx + 32])]
        assert matches, f"image {i} is not a shifted crop"
        shifts.add(matches[0])
    assert len(shifts) == 25  # every offset in [-2, 2]^2 occurs


def test_save_csv_round_trip(tmp_path):
    predictions = np.random.RandomState(7).randint(0, 10, 5000)
    path = tmp_path / "submission.csv"
    my.save_csv(predictions, str(path))
    assert path.read_text().splitlines()[0] == "Id,Category"
    frame = pd.read_csv(path)
    np.testing.assert_array_equal(frame["Id"], np.arange(5000))
    np.testing.assert_array_equal(frame["Category"], predictions)
    assert [p.name for p in tmp_path.iterdir()] == ["submission.csv"]


@pytest.mark.parametrize("predictions, message", [
    (np.zeros(4999, int), "shape \\(5000,\\)"),
    (np.zeros((5000, 1), int), "shape \\(5000,\\)"),
    (np.full(5000, 0.5), "integer class ids"),
    (np.full(5000, 10), "in 0-9"),
    (np.full(5000, -1), "in 0-9"),
])
def test_save_csv_rejects_bad_input_and_writes_nothing(tmp_path, predictions, message):
    path = tmp_path / "submission.csv"
    with pytest.raises(ValueError, match=message):
        my.save_csv(predictions, str(path))
    assert list(tmp_path.iterdir()) == []


def run_training(logdir, *extra):
    command = [sys.executable, os.path.join(hw2_utils.ROOT, "hw2_cifar_my_model.py"), "--subset", "256",
               "--batch-size", "64", "--epochs", "2", "--logdir", str(logdir), "--out", str(logdir / "s.csv"), *extra]
    result = subprocess.run(command, cwd=hw2_utils.ROOT, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONPATH": hw2_utils.ROOT})
    return result


def final_weights(logdir):
    folder = logdir / "checkpoints" / open(logdir / "checkpoints" / "LATEST").read().strip()
    reader = tf.train.load_checkpoint(str(folder / "model"))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def test_resume_gives_the_same_weights_as_one_run(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert run_training(straight).returncode == 0
    first = run_training(resumed, "--stop-after", "1")
    assert first.returncode == 0 and "continue with --resume" in first.stdout
    refused = run_training(resumed)
    assert refused.returncode != 0 and "--resume" in refused.stderr
    changed = run_training(resumed, "--resume", "--batch-size", "32")
    assert changed.returncode != 0 and "batch_size=64" in changed.stderr + changed.stdout
    second = run_training(resumed, "--resume")
    assert second.returncode == 0 and "resumed after epoch 1" in second.stdout, second.stderr
    a, b = final_weights(straight), final_weights(resumed)
    assert a.keys() == b.keys() and len(a) > 10
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-6, atol=1e-7, err_msg=name)
    assert (straight / "s.csv").read_text() == (resumed / "s.csv").read_text()
    assert (resumed / "curves.png").exists() and list(resumed.glob("events.out.tfevents.*"))
