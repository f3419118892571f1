"""hw2_train's loop and batch sources: which examples each epoch visits, in which order, and the run record."""
import numpy as np
import pytest

import hw2_train


class RecordingSession:
    """Stands in for a tf Session: records the labels fed each step, returns loss 0 and all correct."""

    def __init__(self):
        self.batches = []

    def run(self, fetches, feed):
        labels = feed["y"]
        self.batches.append(labels.copy())
        return None, 0.0, np.ones(len(labels), bool)


def epoch_orders(epochs, seed, n=50, batch_size=8, start_epoch=0):
    session = RecordingSession()
    batches = hw2_train.ShuffledBatches(np.zeros((n, 1)), np.arange(n), batch_size, seed)
    history = hw2_train.train_loop(session, "train_op", "x", "y", batches, epochs=epochs, loss="loss",
                                   correct="correct", start_epoch=start_epoch)
    assert [r["epoch"] for r in history] == list(range(start_epoch + 1, epochs + 1))
    steps = hw2_train.steps_per_epoch(n, batch_size)
    assert len(session.batches) == steps * (epochs - start_epoch)
    seen = np.concatenate(session.batches)
    return [seen[e * n:(e + 1) * n] for e in range(epochs - start_epoch)]


def test_every_epoch_visits_every_example_once_in_a_new_order():
    orders = epoch_orders(4, seed=3)
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(50))
    assert len({tuple(order) for order in orders}) == 4, "two epochs shuffled alike"
    assert not any(np.array_equal(order, np.arange(50)) for order in orders)


def test_the_orders_follow_the_seed_and_a_resumed_run_sees_the_same():
    orders = epoch_orders(4, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(orders, epoch_orders(4, seed=3)))
    assert not np.array_equal(orders[0], epoch_orders(1, seed=4)[0])
    resumed = epoch_orders(4, seed=3, start_epoch=2)
    assert len(resumed) == 2 and all(np.array_equal(a, b) for a, b in zip(orders[2:], resumed))


class LabelLossSession:
    """Stands in for a tf Session: a batch's loss is the mean of its labels, an example is correct when
    its label is even. An epoch's figures are then known exactly: means over the examples."""

    def run(self, fetches, feed):
        labels = feed["y"]
        return None, float(np.mean(labels)), labels % 2 == 0


def test_an_epochs_loss_and_accuracy_are_means_over_its_examples():
    """The last batch is short (50 = 6 x 8 + 2): batches weighted by their size, not averaged alike."""
    labels = np.arange(50) ** 2 % 17
    batches = hw2_train.ShuffledBatches(np.zeros((50, 1)), labels, 8, 5)
    history = hw2_train.train_loop(LabelLossSession(), "op", "x", "y", batches, epochs=2, loss="l", correct="c")
    for record in history:
        assert record["loss"] == pytest.approx(labels.mean(), rel=1e-12)
        assert record["acc"] == pytest.approx(np.mean(labels % 2 == 0), rel=1e-12)
        assert record["val_acc"] is None and record["seconds"] >= 0


def test_leaving_the_loop_stops_training_after_that_epoch():
    session = RecordingSession()
    batches = hw2_train.ShuffledBatches(np.zeros((20, 1)), np.arange(20), 5, 0)
    done = []
    for record in hw2_train.train_epochs(session, "op", "x", "y", batches, epochs=10, loss="l", correct="c"):
        done.append(record["epoch"])
        if record["epoch"] == 3:
            break
    assert done == [1, 2, 3] and len(session.batches) == 3 * 4


def test_a_subclass_varies_the_inputs_per_epoch_without_touching_the_callers_arrays():
    class Negated(hw2_train.ShuffledBatches):
        def epoch_inputs(self, epoch):
            return (-self.X if epoch % 2 else self.X), self.preprocess
    X = np.arange(6.0)[:, None]
    batches = Negated(X, np.arange(6), 6, 0)
    first, second = (next(iter(batches(epoch)))[0] for epoch in (0, 1))
    assert first.min() >= 0 and second.max() <= 0
    np.testing.assert_array_equal(X[:, 0], np.arange(6.0))


def test_run_record_round_trip_and_bad_records(tmp_path):
    folder = str(tmp_path / "run")
    assert hw2_train.read_run_record(folder) is None
    hw2_train.write_run_record(folder, {"batch_size": 8}, [{"epoch": 1}])
    hw2_train.add_final_figures(folder, test_acc=0.5)
    assert hw2_train.read_run_record(folder) == {"config": {"batch_size": 8}, "history": [{"epoch": 1}],
                                                 "final": {"test_acc": 0.5}}
    (tmp_path / "run" / "run.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a run record"):
        hw2_train.read_run_record(folder)


@pytest.mark.parametrize("shape", [(7, 5, 3, 3), (2, 4, 4, 1), (3, 32, 32, 4)])
def test_channel_stats_equal_the_float64_formula(shape):
    images = np.random.RandomState(sum(shape)).randint(0, 256, shape).astype(np.uint8)
    images[0, 0, 0] = 255   # the top value counts too
    pixels = images.reshape(-1, shape[-1]).astype(np.float64) / 255
    mean, std = hw2_train.channel_stats(images)
    np.testing.assert_allclose(mean, pixels.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std, pixels.std(axis=0), rtol=1e-5)
    assert mean.dtype == std.dtype == np.float32 and mean.shape == (shape[-1],)
    standardized = hw2_train.standardizer(images)(images).reshape(-1, shape[-1])
    np.testing.assert_allclose(standardized.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(standardized.std(axis=0), 1, rtol=1e-4)


def test_channel_stats_refuse_images_that_are_not_uint8():
    with pytest.raises(TypeError, match="uint8"):
        hw2_train.channel_stats(np.zeros((2, 4, 4, 3), np.float32))


def test_one_hot_rows_and_refusals():
    np.testing.assert_array_equal(hw2_train.one_hot([0, 9, 3]), np.eye(10, dtype=np.float32)[[0, 9, 3]])
    assert hw2_train.one_hot(np.array([2]), 3).tolist() == [[0, 0, 1]] and hw2_train.one_hot([]).shape == (0, 10)
    for bad, got in (([10], "int64 of shape (1,) from 10 to 10"), ([-1, 3], "int64 of shape (2,) from -1 to 3"),
                     ([[1]], "int64 of shape (1, 1) from 1 to 1"), ([1.5], "float64 of shape (1,) from 1.5 to 1.5")):
        with pytest.raises(ValueError) as refused:
            hw2_train.one_hot(bad)
        assert str(refused.value) == f"labels must be a 1-D array of ints in [0, 10), got {got}"


def test_session_predict_covers_every_example_in_batches_with_the_feed_and_preprocessing():
    class Doubling:   # a Session whose output is 2 x + extra
        def __init__(self):
            self.sizes = []

        def run(self, output, feed):
            self.sizes.append(len(feed["x"]))
            return 2 * feed["x"] + feed["extra"]
    session = Doubling()
    X = np.arange(7.0).reshape(7, 1)
    got = hw2_train.session_predict(session, "out", "x", X, batch_size=3, feed={"extra": 100.0},
                                    preprocess=lambda batch: batch + 1)
    np.testing.assert_array_equal(got, 2 * (X + 1) + 100)
    assert session.sizes == [3, 3, 1]
    assert hw2_train.session_accuracy(Doubling(), "out", "x", np.eye(3), np.array([0, 1, 0]), feed={"extra": 0.0}) \
        == 2 / 3
