"""hw2_cifar_my_model: model shape, training step, augmentation, save_csv, resume."""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import hw2_utils
import hw2_cifar_my_model as my
import hw2_muon
import hw2_numpy
import hw2_train

# Documented in hw2_cifar_my_model.PRESETS: parameters of each preset.
PARAMETER_RANGES = {"fast": (450_000, 550_000), "accurate": (1_900_000, 2_050_000), "sgd": (450_000, 550_000)}


def random_kernel():
    """A whitening kernel (2, 2, 3, 24) of random images."""
    return my.whitening_kernel(np.random.RandomState(0).standard_normal((64, 32, 32, 3)).astype(np.float32))


def tiny_graph(preset="sgd", steps_per_epoch=100, learning_rate=None, precision="float32", **changes):
    preset = {**my.PRESETS[preset], **changes}
    if learning_rate:
        preset["learning_rate"] = learning_rate
    return my.build_graph(random_kernel(), preset, steps_per_epoch, precision=precision)


def random_feed(parts, seed, n=16):
    rng = np.random.RandomState(seed)
    return {parts["X"]: rng.standard_normal((n, 32, 32, 3)).astype(np.float32),
            parts["labels"]: np.arange(n) % 10, parts["is_training"]: True}


@pytest.mark.parametrize("preset", sorted(my.PRESETS))
def test_model_shape_and_parameter_count(preset):
    with tf.Graph().as_default():   # the model alone: no training ops needed here
        model = my.build_model(tf.compat.v1.placeholder(tf.float32, (None, 32, 32, 3)), False, random_kernel(),
                               my.PRESETS[preset]["widths"], my.PRESETS[preset]["activation"],
                               my.PRESETS[preset]["head"])
    assert model.output.shape.as_list() == [None, 10]
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    low, high = PARAMETER_RANGES[preset]
    assert low <= trainable <= high, trainable
    whiten = model.get_layer("whiten")
    assert whiten.kernel.shape.as_list() == [2, 2, 3, 24]
    trained = {w.name for w in model.trainable_weights}
    assert whiten.kernel.name not in trained and whiten.bias.name in trained  # frozen filters, trained bias


def test_whitening_kernel_whitens_patches():
    images = np.random.RandomState(1).standard_normal((50, 8, 8, 3)).astype(np.float32)
    images[..., 1] += 0.8 * images[..., 0]  # correlated channels
    kernel = my.whitening_kernel(images, epsilon=0.0)
    filters = kernel.reshape(12, 24)[:, :12]
    patches = hw2_numpy.patch_rows(images, 2, 2)
    whitened = (patches - patches.mean(0)) @ filters
    np.testing.assert_allclose(np.cov(whitened, rowvar=False, bias=True), np.eye(12), atol=1e-3)
    np.testing.assert_array_equal(kernel.reshape(12, 24)[:, 12:], -filters)


def test_training_steps_reduce_loss_on_a_handful():
    parts = tiny_graph(learning_rate=0.1)  # 0.05 at the sgd preset's batch 512
    feed = random_feed(parts, 2)
    session = parts["session"]
    losses = [session.run([parts["train_op"], parts["loss"]], feed)[1] for _ in range(15)]
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses
    assert session.run(parts["step"]) == 15
    moving = [v for v in parts["graph"].get_collection("variables") if "moving_mean" in v.name]
    assert moving and all(np.any(session.run(v) != 0) for v in moving)  # batch-norm updates ran
    session.close()


def test_averaged_weights_are_swapped_in_and_back():
    parts = tiny_graph(learning_rate=0.05)
    session, weights = parts["session"], parts["model"].weights
    feed = random_feed(parts, 3)
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
    with tf.Graph().as_default() as graph:   # the model alone: no training ops needed here
        X = tf.compat.v1.placeholder(tf.float32, (None, 32, 32, 3))
        model = my.build_model(X, False, random_kernel())
        probabilities = my.test_time_augmentation(model, X, model.output, shifts)
        single_view = tf.nn.softmax(model.output)
        session = tf.compat.v1.Session(graph=graph)
        session.run(tf.compat.v1.global_variables_initializer())
    images = np.random.RandomState(4).standard_normal((6, 32, 32, 3)).astype(np.float32)
    ours, plain = session.run([probabilities, single_view], {X: images})
    mirrored = session.run(probabilities, {X: images[:, :, ::-1]})
    np.testing.assert_allclose(ours.sum(axis=1), 1, rtol=1e-5)
    assert not np.allclose(ours, plain, atol=1e-4)  # the views really differ
    # The mirror pair is symmetric; the shifted pairs (up-left, down-right) are not mirrors of each other.
    assert np.allclose(ours, mirrored, atol=1e-6) != shifts
    session.close()


def test_learning_rate_schedule_is_airbench_triangle():
    with tf.Graph().as_default():
        step = tf.compat.v1.placeholder(tf.int64, ())
        rate = my.learning_rate_schedule(step, 100, 1.5)
        with tf.compat.v1.Session() as session:
            values = [session.run(rate, {step: s}) for s in (0, 10, 23, 50, 100, 120)]
    # 0.2 peak at the start, the peak at step int(0.23 * 100), 0.07 peak at the end and after.
    expected = [0.2, 0.2 + 0.8 * 10 / 23, 1.0, 1 - 0.93 * 27 / 77, 0.07, 0.07]
    np.testing.assert_allclose(values, 1.5 * np.array(expected), rtol=1e-5)


def test_first_step_scales_bias_gradients_and_decays_every_weight():
    # From zero momentum, Nesterov's first step is lr (1 + momentum) (scale * gradient + decay * weight),
    # scale = BIAS_LR_SCALE for batch-norm biases and 1 for the other trained weights.
    parts = tiny_graph(learning_rate=0.05)
    session, weights, feed = parts["session"], parts["model"].trainable_weights, random_feed(parts, 5)
    with parts["graph"].as_default():
        gradients = tf.gradients(parts["loss"], weights)
    before, grads, rate = session.run([weights, gradients, parts["learning_rate"]], feed)
    session.run(parts["train_op"], feed)
    decay = my.PRESETS["sgd"]["weight_decay"]
    scaled = 0
    for weight, start, grad, end in zip(weights, before, grads, session.run(weights)):
        scale = my.BIAS_LR_SCALE if "beta" in weight.name else 1
        scaled += scale > 1
        expected = start - rate * (1 + my.MOMENTUM) * (scale * grad + decay * start)
        np.testing.assert_allclose(end, expected, rtol=1e-4, atol=1e-6, err_msg=weight.name)
    assert scaled == 6  # the six batch-norm layers' biases
    session.close()


def test_whitening_bias_stops_training_after_its_epochs():
    parts = tiny_graph(steps_per_epoch=2, learning_rate=0.05)
    session, feed = parts["session"], random_feed(parts, 6)
    bias = parts["model"].get_layer("whiten").bias
    values = [session.run(bias)]
    for _ in range(my.WHITEN_BIAS_EPOCHS * 2 + 30):
        session.run(parts["train_op"], feed)
        values.append(session.run(bias))
    moves = [np.abs(b - a).max() for a, b in zip(values, values[1:])]
    trained = moves[:my.WHITEN_BIAS_EPOCHS * 2]
    assert min(trained) > 0
    # Afterwards its updates are zero; only the momentum left over runs out (0.85 per step).
    assert moves[-1] < 0.01 * max(trained), moves
    session.close()


def test_muon_preset_first_step_matches_a_hand_computed_update():
    """From zero momentum, the "muon" preset's first step: each filter renormalized to sqrt(C_out)
    then moved by the filter rate times the orthogonalized gradient (Nesterov's (1 + momentum) factor
    drops out: the orthogonalization has no scale); every other weight by Nesterov SGD on the summed
    loss, rate (1 + momentum) (batch gradient + decay_per_example batch / rate weight)."""
    batch = 16
    parts = tiny_graph("fast", batch_size=batch, precision="float32")
    preset = {**my.PRESETS["fast"], "batch_size": batch}
    session, weights, feed = parts["session"], parts["model"].trainable_weights, random_feed(parts, 5, n=batch)
    with parts["graph"].as_default():
        gradients = tf.gradients(parts["loss"], weights)
    before, grads = session.run([weights, gradients], feed)
    session.run(parts["train_op"], feed)
    after = session.run(weights)
    head = parts["model"].get_layer("classifier").kernel
    kinds = {"filter": 0, "head": 0, "bias": 0}
    for weight, start, grad, end in zip(weights, before, grads, after):
        if weight.shape.rank == 4:
            kinds["filter"] += 1
            out = start.shape[-1]
            orthogonal = hw2_muon.newton_schulz_numpy(grad.reshape(-1, out)).reshape(start.shape)
            expected = start * np.sqrt(out) / np.linalg.norm(start) - preset["filter_lr"] * orthogonal
            np.testing.assert_allclose(end, expected, rtol=2e-3, atol=2e-4, err_msg=weight.name)
            continue
        rate = preset["head_lr"] if weight is head else preset["bias_lr"]
        kinds["head" if weight is head else "bias"] += 1
        decay = preset["decay_per_example"] * batch / rate
        expected = start - rate * (1 + my.MOMENTUM) * (batch * grad + decay * start)
        np.testing.assert_allclose(end, expected, rtol=1e-4, atol=1e-6, err_msg=weight.name)
    assert kinds == {"filter": 6, "head": 1, "bias": 7}   # 6 convolutions; 6 batch norms + the whitening bias
    assert session.run(parts["step"]) == 1
    assert "use_averages" not in parts   # no moving average of the weights: scores use the trained ones
    session.close()


def test_muon_preset_rates_decay_linearly_to_zero_and_stop_there():
    steps_per_epoch = 2
    total = my.PRESETS["fast"]["epochs"] * steps_per_epoch
    parts = tiny_graph("fast", steps_per_epoch=steps_per_epoch, precision="float32")
    session, feed = parts["session"], random_feed(parts, 6)
    bias = parts["model"].get_layer("whiten").bias
    rates, biases = [], [session.run(bias)]
    for _ in range(total + 1):
        rates.append(session.run(parts["learning_rate"]))
        session.run(parts["train_op"], feed)
        biases.append(session.run(bias))
    filter_lr = my.PRESETS["fast"]["filter_lr"]
    np.testing.assert_allclose(rates, [filter_lr * max(0, 1 - s / total) for s in range(total + 1)], rtol=1e-6)
    moves = [np.abs(b - a).max() for a, b in zip(biases, biases[1:])]
    whiten_steps = my.WHITEN_BIAS_EPOCHS * steps_per_epoch
    assert min(moves[:whiten_steps]) > 0 and max(moves[whiten_steps:]) == 0   # its rate is exactly 0 after
    session.close()


def test_muon_preset_in_bfloat16_is_deterministic():
    """Same seed, same numbers: two graphs of the fast preset computing in bfloat16 take three
    steps on the same batches to bit-identical weights."""
    finals = []
    for _ in range(2):
        parts = tiny_graph("fast", batch_size=16, precision="bfloat16")
        for step in range(3):
            parts["session"].run(parts["train_op"], random_feed(parts, 10 + step))
        finals.append(parts["session"].run(parts["model"].weights))
        parts["session"].close()
    for first, second in zip(*finals):
        np.testing.assert_array_equal(first, second)


def test_dirac_uniform_passes_channels_through():
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        kernel = session.run(my.dirac_uniform((3, 3, 4, 6)))
    identity = kernel[..., :4]
    expected = np.zeros((3, 3, 4, 4), np.float32)
    expected[1, 1, np.arange(4), np.arange(4)] = 1
    np.testing.assert_array_equal(identity, expected)
    rest = kernel[..., 4:]
    bound = 1 / np.sqrt(3 * 3 * 4)
    assert np.abs(rest).max() <= bound and np.abs(rest).max() > 0.5 * bound and rest.std() > 0.3 * bound


def test_alternating_flip_swaps_every_epoch():
    images = np.random.RandomState(3).randint(0, 256, (400, 8, 8, 3)).astype(np.uint8)
    mirrored = {}
    for epoch in range(3):
        out = my.alternating_flip(images, epoch, seed=9)
        assert out.shape == images.shape and out.dtype == np.uint8
        same = np.all(out == images, axis=(1, 2, 3))
        assert np.all(same | np.all(out == images[:, :, ::-1], axis=(1, 2, 3)))
        mirrored[epoch] = ~same
    assert 150 < mirrored[0].sum() < 250
    np.testing.assert_array_equal(mirrored[1], ~mirrored[0])
    np.testing.assert_array_equal(mirrored[2], mirrored[0])


@pytest.mark.parametrize("mode", ["constant", "reflect"])
def test_random_crop_shifts_by_at_most_pad(mode):
    """Each image is the window of its padded self at one of the 25 offsets, on images that are not
    square (height and width each have their own offset)."""
    images = np.random.RandomState(5).randint(1, 256, (200, 32, 24, 3)).astype(np.uint8)
    out = hw2_train.random_crop(images, 2, np.random.RandomState(6), mode=mode)
    assert out.shape == images.shape and out.dtype == np.uint8
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)), mode=mode)
    shifts = set()
    for i in range(len(images)):
        matches = [(dy, dx) for dy in range(5) for dx in range(5)
                   if np.array_equal(out[i], padded[i, dy:dy + 32, dx:dx + 24])]
        assert matches, f"image {i} is not a shifted crop"
        shifts.add(matches[0])
    assert len(shifts) == 25  # every offset in [-2, 2]^2 occurs
    assert (mode == "reflect") == bool(np.all(out > 0))  # only zero padding brings in zeros


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


def training_command(run_dir, *extra, epochs=2, python=(sys.executable,)):
    """A small training (256 images, batch 64) into run_dir, run by the `python` command line."""
    return [*python, os.path.join(hw2_utils.ROOT, "hw2_cifar_my_model.py"), "--subset", "256",
            "--batch-size", "64", "--epochs", str(epochs), "--run", str(run_dir), "--out", str(run_dir / "s.csv"),
            *extra]


TRAINING_PROCESS = dict(cwd=hw2_utils.ROOT, env={**os.environ, "PYTHONPATH": hw2_utils.ROOT}, text=True)


def run_training(run_dir, *extra):
    return subprocess.run(training_command(run_dir, *extra), capture_output=True, timeout=600, **TRAINING_PROCESS)


def final_history(run_dir):
    return json.loads((pathlib.Path(my.latest_checkpoint(str(run_dir))) / "history.json").read_text())


def final_weights(run_dir):
    folder = pathlib.Path(my.latest_checkpoint(str(run_dir)))
    reader = tf.train.load_checkpoint(str(folder / "model"))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


@pytest.fixture(scope="module")
def checkpointed_graph():
    """One sgd-preset graph (its weight average is checkpointed too) for the checkpoint tests
    (building one takes seconds); each trains it a step before saving, so every save holds weights
    no earlier test left in it."""
    parts = tiny_graph(learning_rate=0.05)
    yield parts
    parts["session"].close()


def saved_epochs(tmp_path, parts, epochs):
    """Train a step, then save a checkpoint, after each of `epochs` (1-based) with a history that long."""
    for epoch in range(1, epochs + 1):
        parts["session"].run(parts["train_op"], random_feed(parts, epoch))
        my.save_checkpoint(parts, str(tmp_path), epoch - 1, [{"epoch": e} for e in range(1, epoch + 1)])


def test_checkpoints_keep_the_last_two_and_drop_interrupted_saves(tmp_path, checkpointed_graph):
    folder = tmp_path / "checkpoints"
    dead = subprocess.Popen(["true"])
    dead.wait()
    for name in ("epoch-001", "epoch-002", f"epoch-002.part{dead.pid}"):  # the last, an interrupted save
        (folder / name).mkdir(parents=True)
    history = [{"epoch": e} for e in (1, 2, 3)]
    my.save_checkpoint(checkpointed_graph, str(tmp_path), 2, history)
    assert sorted(p.name for p in folder.iterdir()) == ["epoch-002", "epoch-003"]
    assert my.latest_checkpoint(str(tmp_path)) == str(folder / "epoch-003")
    assert final_history(tmp_path) == history and final_weights(tmp_path)


def test_retention_orders_checkpoints_by_number_not_by_name(tmp_path, checkpointed_graph):
    """epoch-1000 sorts before epoch-999 as text: the newest must still be kept."""
    history = [{"epoch": e} for e in range(1, 1002)]
    for epoch in (998, 999, 1000):   # writes epoch-999, epoch-1000, epoch-1001
        my.save_checkpoint(checkpointed_graph, str(tmp_path), epoch, history[:epoch + 1])
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["epoch-1000", "epoch-1001"]
    assert my.latest_checkpoint(str(tmp_path)).endswith("epoch-1001")


@pytest.mark.parametrize("damage", ["data", "index", "history", "history length"])
def test_a_damaged_checkpoint_falls_back_to_the_one_before(tmp_path, capsys, damage, checkpointed_graph):
    parts = checkpointed_graph
    saved_epochs(tmp_path, parts, 2)   # the graph now holds epoch 2's weights
    newest = pathlib.Path(my.latest_checkpoint(str(tmp_path)))
    if damage in ("data", "index"):
        target = next(newest.glob("model.data-*" if damage == "data" else "model.index"))
        data = bytearray(target.read_bytes())
        data[len(data) // 2: len(data) // 2 + 16] = b"\xff" * 16
        target.write_bytes(bytes(data[:len(data) - 7]))
    elif damage == "history":
        (newest / "history.json").write_text("{not json")
    else:
        (newest / "history.json").write_text(json.dumps([{"epoch": 1}]))
    reader = tf.train.load_checkpoint(str(tmp_path / "checkpoints" / "epoch-001" / "model"))
    expected = {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}
    variables = parts["checkpointed"]

    def current():
        return dict(zip(variables, parts["session"].run(list(variables.values()))))
    assert any(not np.array_equal(value, expected[name]) for name, value in current().items())
    assert my.restore_checkpoint(parts, str(tmp_path)) == (1, [{"epoch": 1}])
    assert "epoch-002 is damaged" in capsys.readouterr().err
    restored = current()
    for name, value in expected.items():
        np.testing.assert_array_equal(restored[name], value, err_msg=name)


def test_every_checkpoint_damaged_is_an_error_not_a_fresh_start(tmp_path, checkpointed_graph):
    saved_epochs(tmp_path, checkpointed_graph, 2)
    for folder in (tmp_path / "checkpoints").iterdir():
        (folder / "history.json").write_text("[")
    with pytest.raises(my.RunError, match="every checkpoint .* is damaged"):
        my.restore_checkpoint(checkpointed_graph, str(tmp_path))


def test_a_checkpoint_of_other_shapes_is_refused_by_name(tmp_path, checkpointed_graph):
    """Restoring the sgd preset's weights into a graph of other widths (e.g. no run.json to compare)."""
    saved_epochs(tmp_path, checkpointed_graph, 1)
    other = tiny_graph(widths=(16, 64, 64))
    with pytest.raises(my.RunError, match=r"another model or preset \(bn0a/beta: saved \[32\], this graph has \[16\]"):
        my.restore_checkpoint(other, str(tmp_path))
    other["session"].close()


def test_a_checkpoint_missing_variables_names_the_first_three(tmp_path, checkpointed_graph):
    """checkpoint_shape_problems against a graph with four variables the checkpoint lacks and one of
    another shape: each named, the missing ones three at most."""
    saved_epochs(tmp_path, checkpointed_graph, 1)
    prefix = os.path.join(my.latest_checkpoint(str(tmp_path)), "model")

    class Variable:
        def __init__(self, *shape):
            self.shape = tf.TensorShape(shape)
    variables = dict(checkpointed_graph["checkpointed"])
    variables.update({"bn0a/beta": Variable(7), **{f"extra/{name}": Variable(2) for name in "dcba"}})
    assert my.checkpoint_shape_problems({"checkpointed": variables}, prefix) == [
        "bn0a/beta: saved [32], this graph has [7]", "not saved: extra/a, extra/b, extra/c ..."]
    del variables["extra/d"], variables["bn0a/beta"]
    assert my.checkpoint_shape_problems({"checkpointed": variables}, prefix) == ["not saved: extra/a, extra/b, extra/c"]


def test_a_run_resumes_only_with_its_settings_and_warns_when_only_the_code_changed(tmp_path, capsys):
    config = {"preset": "fast", "epochs": 14, "batch_size": 2000, "seed": 0, "precision": "float32", "code": "c1"}
    my.check_resumable("runs/x", config, {"config": config})
    assert capsys.readouterr().err == ""
    my.check_resumable("runs/x", {**config, "code": "c2"}, {"config": config})
    assert capsys.readouterr().err == ("warning: the code, username or seed changed since runs/x was started; "
                                       "continuing it (the result mixes both; use --resume auto to start afresh "
                                       "instead)\n")
    with pytest.raises(my.RunError) as refused:
        my.check_resumable("runs/x", {**config, "epochs": 3, "seed": 1, "code": "c2", "subset": 256}, {"config": config})
    assert str(refused.value) == ("runs/x was started with epochs=14, seed=0, subset=None; resume it with the same "
                                  "--preset, --epochs, --batch-size, --seed, --precision and --subset, or start "
                                  "afresh in another --run")
    my.check_resumable("runs/x", config, None)
    assert capsys.readouterr().err == ("warning: runs/x/run.json is missing or unreadable; the checkpoint's shapes "
                                       "are checked when it is restored\n")


def test_a_run_set_aside_takes_the_first_free_old_name_and_keeps_everything(tmp_path):
    run = tmp_path / "run"
    for expected in ("run.old-1", "run.old-2"):
        run.mkdir()
        (run / "run.json").write_text(expected)
        assert my.set_aside(str(run)) == str(tmp_path / expected)
        assert (tmp_path / expected / "run.json").read_text() == expected and not run.exists()
    (tmp_path / "run.old-1").rename(tmp_path / "gone")   # a gap is filled first
    run.mkdir()
    assert my.set_aside(str(run)) == str(tmp_path / "run.old-1")


def test_resume_with_nothing_to_resume_says_so(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        my.parse_args(["--resume", "--run", str(tmp_path / "nothing")])
    assert stop.value.code == 2
    assert "holds no checkpoint to continue" in capsys.readouterr().err


def test_main_writes_only_a_whole_submission(tmp_path, monkeypatch):
    """main checks the 5,000 rows whatever training returned: a short prediction writes nothing."""
    tiny = hw2_utils.Domains(np.zeros((8, 32, 32, 3), np.uint8), np.zeros(8, np.int64))
    monkeypatch.setattr(my, "prepare_data", lambda subset: (None, tiny, None, None))
    monkeypatch.setattr(my, "train", lambda *args: ([{"epoch": 1, "loss": 1.0, "acc": 0.5, "val_acc": 0.5,
                                                     "seconds": 1.0}], np.zeros(4999, np.int64)))
    out = tmp_path / "s.csv"
    with pytest.raises(ValueError, match=r"shape \(5000,\)"):
        my.main(["--run", str(tmp_path / "run"), "--out", str(out)])
    assert not out.exists()


def test_make_resumes_the_run_instead_of_deleting_it():
    """The Makefile's recipe for submission.csv continues a compatible run (--resume auto), deletes none."""
    result = subprocess.run(["make", "-n", "-B", "submission.csv"], cwd=hw2_utils.ROOT, capture_output=True,
                            text=True, timeout=60)
    recipe = [line for line in result.stdout.splitlines() if "hw2_cifar_my_model.py" in line or "rm " in line]
    assert recipe and all("--resume auto" in line and "rm " not in line for line in recipe), result.stdout


def test_resume_gives_the_same_weights_as_one_run(tmp_path, capsys):
    """Explicit --resume is refused with other settings; --resume auto (what make runs) continues a
    compatible run in a new process to the same weights and CSV as one uninterrupted run, then does
    nothing while its CSV is current, and moves a run of other settings aside instead of deleting it.
    The refusals and the no-op run in this process: only the trainings need fresh ones."""
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    runs = [subprocess.Popen(training_command(folder, *extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             **TRAINING_PROCESS) for folder, extra in ((straight, ()), (resumed, ("--stop-after", "1")))]
    (_, straight_err), (first, first_err) = (run.communicate(timeout=600) for run in runs)   # side by side
    assert [run.returncode for run in runs] == [0, 0], straight_err + first_err
    assert "continue with --resume" in first

    def main(*extra):   # the command line of run_training, in this process
        return my.main(training_command(resumed, *extra)[2:])
    with pytest.raises(SystemExit) as refused:
        main()
    assert refused.value.code == 2 and "pass --resume to continue it" in capsys.readouterr().err
    assert main("--resume", "--batch-size", "32") == 1
    assert "batch_size=64" in capsys.readouterr().err

    second = run_training(resumed, "--resume", "auto")
    assert second.returncode == 0 and "resumed after epoch 1" in second.stdout, second.stderr
    a, b = final_weights(straight), final_weights(resumed)
    assert a.keys() == b.keys() and len(a) > 10
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-6, atol=1e-7, err_msg=name)
    assert (straight / "s.csv").read_text() == (resumed / "s.csv").read_text()
    assert (resumed / "curves.png").exists() and list(resumed.glob("events.out.tfevents.*"))
    record = json.loads((resumed / "run.json").read_text())
    assert [r["epoch"] for r in record["history"]] == [1, 2] and record["final"]["csv_sha256"]
    # Scored between epochs every score_every (4 for the fast preset): not after the first of two;
    # after the last always, with the test-time augmentation.
    assert [(r["val_acc"] is None, r["val_tta"]) for r in record["history"]] == [(True, False), (False, True)]
    assert record["final"]["public_acc"] == record["history"][-1]["val_acc"]

    assert main("--resume", "auto") == 0 and "is up to date" in capsys.readouterr().out
    assert (resumed / "s.csv").read_text() == (straight / "s.csv").read_text()
    # "up to date" means the CSV is the one this run wrote: an edited CSV is written again
    # from the finished run (no epoch trained), whatever its time stamp.
    edited = resumed / "s.csv"
    edited.write_text(edited.read_text().replace("\n1,", "\n1,9", 1))
    assert main("--resume", "auto") == 0
    assert "is up to date" not in capsys.readouterr().out
    assert [r["epoch"] for r in json.loads((resumed / "run.json").read_text())["history"]] == [1, 2]
    assert (resumed / "s.csv").read_text() == (straight / "s.csv").read_text()
    before = sorted(p.relative_to(resumed) for p in resumed.rglob("*"))
    assert main("--resume", "auto", "--batch-size", "32", "--stop-after", "1") == 0
    assert "moved to" in capsys.readouterr().out
    aside = tmp_path / "resumed.old-1"
    assert sorted(p.relative_to(aside) for p in aside.rglob("*")) == before   # kept whole
    assert len(final_history(resumed)) == 1
    assert json.loads((resumed / "run.json").read_text())["config"]["batch_size"] == 32


def test_ctrl_c_leaves_a_checkpoint_that_resumes(tmp_path, capsys):
    run_dir = tmp_path / "run"
    # A shell starts background jobs (as CI may run us) with SIGINT ignored, and Python keeps an
    # ignored SIGINT ignored; a terminal's Ctrl-C reaches a foreground program, so restore that.
    foreground = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                  "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")
    command = training_command(run_dir, epochs=40, python=(sys.executable, "-c", foreground))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **TRAINING_PROCESS)
    try:
        deadline = time.monotonic() + 300
        while my.latest_checkpoint(str(run_dir)) is None and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, "training ended before its first checkpoint"
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends, mid-run
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()  # no-op once it has exited
        process.wait()
    assert process.returncode == 130 and "continue with --resume" in stderr, stderr
    assert not (run_dir / "s.csv").exists()
    done = len(final_history(run_dir))
    assert done >= 1 and final_weights(run_dir)  # the newest checkpoint is whole and loadable
    assert my.main(command[4:] + ["--resume", "--stop-after", "1"]) == 0   # in this process: no new start-up
    assert f"resumed after epoch {done}" in capsys.readouterr().out
    assert len(final_history(run_dir)) == done + 1
