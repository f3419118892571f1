"""Part II with explicit loops over output positions."""
import hw2_utils
from hw2_utils import ANDREW_USERNAME, SEED

import numpy as np


def convolution(x, w, b, stride, pad):
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    n_images, _, rows, cols = x.shape
    n_filters, _, k_rows, k_cols = w.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out_rows = (rows + 2 * pad - k_rows) // stride + 1
    out_cols = (cols + 2 * pad - k_cols) // stride + 1
    result = np.zeros((n_images, n_filters, out_rows, out_cols))
    for image in range(n_images):
        for f in range(n_filters):
            for r in range(out_rows):
                for c in range(out_cols):
                    top, left = r * stride, c * stride
                    window = padded[image, :, top:top + k_rows, left:left + k_cols]
                    result[image, f, r, c] = np.sum(window * w[f]) + b[f]
    return result


def grayscale_filter(w):
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    for channel, weight in enumerate((0.299, 0.587, 0.114)):
        w[1, channel] = np.zeros((3, 3))
        w[1, channel, 1, 1] = weight
    return w


def relu(x):
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    out = x.copy()
    out[out < 0] = 0
    return out


def max_pool(x, pool_param):
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    height, width = pool_param["pool_height"], pool_param["pool_width"]
    step = pool_param["stride"]
    n, channels, rows, cols = x.shape
    out_rows, out_cols = (rows - height) // step + 1, (cols - width) // step + 1
    pooled = np.empty((n, channels, out_rows, out_cols), dtype=x.dtype)
    for r in range(out_rows):
        for c in range(out_cols):
            patch = x[:, :, r * step:r * step + height, c * step:c * step + width]
            pooled[:, :, r, c] = patch.reshape(n, channels, -1).max(axis=2)
    return pooled


maxpool = max_pool


def dropout(x, mode, p):
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    if mode == "test":
        return x.copy()
    keep = np.random.rand(*x.shape) > p
    return x * keep / (1.0 - p)
