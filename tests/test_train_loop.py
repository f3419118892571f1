"""hw2_utils.train_loop: which examples each epoch visits, in which order (a fake session records them)."""
import numpy as np

import hw2_utils


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
    hw2_utils.train_loop(session, "train_op", "x", "y", np.zeros((n, 1)), np.arange(n), epochs=epochs,
                         batch_size=batch_size, loss="loss", correct="correct", seed=seed, start_epoch=start_epoch)
    steps = -(-n // batch_size)
    seen = np.concatenate(session.batches)
    return [seen[e * n:(e + 1) * n] for e in range(len(session.batches) // steps)]


def test_every_epoch_visits_every_example_once_in_a_new_order():
    orders = epoch_orders(4, seed=3)
    assert len(orders) == 4
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
