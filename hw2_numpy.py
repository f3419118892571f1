"""Part II: forward passes of conv, relu, max-pool and dropout in numpy.

Layout is the course's NCHW: x (N, C, H, W), conv weights (F, C, HH, WW).
Every function is vectorized: windows are strided views of the padded input
(`sliding_window_view`) reduced with one matrix product, or whole-array
maxima over the pool-window offsets.
"""
import hw2_utils
from hw2_utils import ANDREW_USERNAME, SEED

import functools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_non_negative_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _check_ndim(name, array, ndim, layout):
    if np.ndim(array) != ndim:
        raise ValueError(f"{name} must be {ndim}-D {layout}, got shape {np.shape(array)}")


def output_size(size, kernel, stride, pad=0):
    """Output length of a window of `kernel` sliding with `stride` over `size` + 2 `pad`."""
    return 1 + (size + 2 * pad - kernel) // stride


def convolution(x, w, b, stride, pad):
    """Convolution layer forward pass (cross-correlation, as in every DL library).

    x: (N, C, H, W) input; w: (F, C, HH, WW) filters; b: (F,) biases;
    stride: positive int; pad: non-negative int of zeros on each side of H and W.
    Returns out (N, F, out_height, out_width) with
    out_height = 1 + (H + 2 pad - HH) // stride, out_width likewise, and
    out[n, f] = sum over c, i, j of x_pad[n, c, i + s*h, j + s*w] * w[f, c, i, j] + b[f].
    The dtype is the common float type of x and w.
    """
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    return convolution_forward(x, w, b, stride, pad)


def convolution_forward(x, w, b, stride, pad):
    """`convolution` without the exercise preamble; same arguments and result."""
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    _check_ndim("x", x, 4, "(N, C, H, W)")
    _check_ndim("w", w, 4, "(F, C, HH, WW)")
    num_filters, channels, kernel_height, kernel_width = w.shape
    if x.shape[1] != channels:
        raise ValueError(f"channel mismatch: x has {x.shape[1]} channels (axis 1 of {x.shape}) "
                         f"but w expects {channels} (axis 1 of {w.shape})")
    if b.shape != (num_filters,):
        raise ValueError(f"b must have shape ({num_filters},), one bias per filter, got {b.shape}")
    _check_positive_int("stride", stride)
    _check_non_negative_int("pad", pad)
    padded_height, padded_width = x.shape[2] + 2 * pad, x.shape[3] + 2 * pad
    if kernel_height > padded_height or kernel_width > padded_width:
        raise ValueError(f"filter {kernel_height}x{kernel_width} is larger than the padded input "
                         f"{padded_height}x{padded_width}; use a smaller filter or more padding")

    dtype = np.result_type(x.dtype, w.dtype, np.float32)
    # Channels last, and windows ordered (HH, WW, C): the innermost axis of the im2col
    # copy is then the contiguous channel axis, which makes that copy 4x faster.
    x_padded = np.pad(x.astype(dtype, copy=False).transpose(0, 2, 3, 1),
                      ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    patches = sliding_window_view(x_padded, (kernel_height, kernel_width), axis=(1, 2))
    patches = patches[:, ::stride, ::stride].transpose(0, 1, 2, 4, 5, 3)  # (N, out_h, out_w, HH, WW, C)
    n, out_height, out_width = patches.shape[:3]
    columns = patches.reshape(n * out_height * out_width, -1)   # im2col: (N*out_h*out_w, HH*WW*C)
    filters = w.astype(dtype, copy=False).transpose(0, 2, 3, 1).reshape(num_filters, -1)  # (F, HH*WW*C)
    out = columns @ filters.T + b.astype(dtype, copy=False)       # (N*out_h*out_w, F)
    return out.reshape(n, out_height, out_width, num_filters).transpose(0, 3, 1, 2)


LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])


def grayscale_filter(w):
    """Make filter 1 of w compute luma 0.299 R + 0.587 G + 0.114 B (pad 1, stride 1).

    w: (2, 3, 3, 3) float array (F, C, HH, WW). Filter 1 becomes the identity
    3x3 kernel (1 at the centre) scaled per input channel by the luma weights;
    filter 0 is left untouched. Modifies w in place and returns it.
    """
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    if np.shape(w) != (2, 3, 3, 3):
        raise ValueError(f"w must have shape (2, 3, 3, 3) (filters, RGB channels, 3, 3), got {np.shape(w)}")
    w[1] = 0.0
    w[1, :, 1, 1] = LUMA_WEIGHTS
    return w


def relu(x):
    """ReLU forward pass: max(0, x) elementwise. x: any shape; returns the same shape and dtype."""
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    return relu_forward(x)


def relu_forward(x):
    """`relu` without the exercise preamble."""
    x = np.asarray(x)
    return np.maximum(x, 0, dtype=x.dtype) if x.dtype.kind in "fiu" else np.maximum(x, 0)


POOL_KEYS = ("pool_height", "pool_width", "stride")


def max_pool(x, pool_param):
    """Max-pooling forward pass.

    x: (N, C, H, W); pool_param: dict with 'pool_height', 'pool_width', 'stride'
    (positive ints). No padding. Returns (N, C, out_height, out_width) with
    out_height = 1 + (H - pool_height) // stride, out_width likewise.
    """
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    return max_pool_forward(x, pool_param)


def max_pool_forward(x, pool_param):
    """`max_pool` without the exercise preamble."""
    x = np.asarray(x)
    _check_ndim("x", x, 4, "(N, C, H, W)")
    missing = [key for key in POOL_KEYS if key not in pool_param]
    if missing:
        raise ValueError(f"pool_param is missing {missing}; it needs all of {list(POOL_KEYS)}")
    pool_height, pool_width, stride = (pool_param[key] for key in POOL_KEYS)
    for key in POOL_KEYS:
        _check_positive_int(f"pool_param['{key}']", pool_param[key])
    if pool_height > x.shape[2] or pool_width > x.shape[3]:
        raise ValueError(f"pool window {pool_height}x{pool_width} is larger than the input "
                         f"{x.shape[2]}x{x.shape[3]}")
    out_height = output_size(x.shape[2], pool_height, stride)
    out_width = output_size(x.shape[3], pool_width, stride)
    # out = max over window offsets (i, j) of the strided slice starting at (i, j).
    # Each np.maximum runs over every output at once; reducing the window axes of a
    # sliding_window_view instead runs numpy's inner loop over 2-4 elements (35x slower).
    offset_slices = (x[:, :, i:i + stride * (out_height - 1) + 1:stride,
                       j:j + stride * (out_width - 1) + 1:stride]
                     for i in range(pool_height) for j in range(pool_width))
    return functools.reduce(np.maximum, offset_slices)


maxpool = max_pool  # the handout's name


def dropout(x, mode, p):
    """Inverted dropout forward pass.

    x: any shape; mode: 'train' or 'test'; p: probability of DROPPING a unit, in [0, 1].
    Train: each unit is zeroed with probability p, survivors are scaled by
    1 / (1 - p) so the expectation is unchanged (p = 1 returns all zeros).
    Test: returns x unchanged. Output has x's shape and dtype (float64 for
    integer input).
    """
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    return dropout_forward(x, mode, p)


def dropout_forward(x, mode, p, rng=np.random):
    """`dropout` without the exercise preamble; draws the mask from `rng` (numpy's global by default)."""
    x = np.asarray(x)
    if mode not in ("train", "test"):
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) or not 0 <= p <= 1:
        raise ValueError(f"p is the probability of dropping a unit and must be in [0, 1], got {p!r}")
    if x.dtype.kind != "f":
        x = x.astype(np.float64)  # scaling by 1 / (1 - p) needs a float type
    if mode == "test" or p == 0:
        return x
    if p == 1:
        return np.zeros_like(x)
    keep = rng.random_sample(x.shape) >= p
    return np.where(keep, x / x.dtype.type(1 - p), x.dtype.type(0))
