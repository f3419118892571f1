"""Private-test predictions at a chosen accuracy and their submission.csv bytes: what the tests that
grade 7.3 or judge a class hand the grader."""
import numpy as np


def edited(predictions, share, seed):
    """A copy with `share` of its rows (to the nearest row) changed to a random other class."""
    rng = np.random.default_rng(seed)
    copy = predictions.copy()
    rows = rng.permutation(len(copy))[:round(share * len(copy))]
    copy[rows] = (copy[rows] + rng.integers(1, 10, len(rows))) % 10
    return copy


def predictions_with(labels, accuracy, seed=0):
    """Predictions right on `accuracy` of the images (to the nearest image), each wrong one a random
    other class (an independent student's mistakes share little with another's)."""
    return edited(labels, 1 - accuracy, seed)


def csv_bytes(predictions, seed=None):
    """submission.csv's bytes: the header, then a row `Id,Category` per image, in Id order (seed None)
    or shuffled with that seed (the grader takes rows in any order)."""
    order = np.arange(len(predictions)) if seed is None else np.random.default_rng(seed).permutation(len(predictions))
    return ("Id,Category\n" + "".join(f"{i},{predictions[i]}\n" for i in order)).encode()
