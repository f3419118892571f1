# BEGIN SOLUTION
"""Part II: conv, relu, max-pool and dropout in numpy, forward (the handout) and backward.

The handout's functions (`convolution`, `relu`, `max_pool`/`maxpool`,
`dropout`, `grayscale_filter`) keep their signatures and return values. Each
has a `*_forward` twin returning (out, cache) and a `*_backward(dout, cache)`
returning the gradients; also affine, spatial batch norm and softmax loss.
`python hw2_numpy.py --demo` trains a small network built from these pieces.

Layout is the course's NCHW: x (N, C, H, W), conv weights (F, C, HH, WW).
Every function is vectorized: windows are strided views of the padded input
(`patch_rows`) reduced with one matrix product, or whole-array
maxima over the pool-window offsets.
"""
# BEGIN PROMPT
# """Part II: the forward passes of convolution, ReLU, max-pooling and dropout in numpy (6.1-6.4).
#
# Complete the five functions below; keep their names, signatures and return values.
# Layout is NCHW: x (N, C, H, W), conv weights (F, C, HH, WW). numpy only (no TensorFlow).
# Check your work with `make evaluation_numpy.txt` (the public tests in tests/hw2_test_numpy.py).
# """
# END PROMPT
# END SOLUTION
import hw2_utils
from hw2_utils import ANDREW_USERNAME, SEED

# BEGIN SOLUTION NO PROMPT
import functools

# END SOLUTION
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view  # SOLUTION NO PROMPT


# BEGIN SOLUTION NO PROMPT
def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_non_negative_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _check_ndim(name, array, ndim, layout):
    if np.ndim(array) != ndim:
        raise ValueError(f"{name} must be {ndim}-D {layout}, got shape {np.shape(array)}")


def _real_array(name, value):
    """value as a numpy array of real numbers (float, int or unsigned int); TypeError for anything else.

    bool, complex, object, string and date arrays have no meaning as activations or weights.
    """
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        hint = " (convert it with .astype(float) if you mean 0 and 1)" if array.dtype.kind == "b" else ""
        raise TypeError(f"{name} must hold real numbers (a float or integer dtype), got dtype {array.dtype}{hint}")
    return array


def _float_dtype(*arrays):
    """The common dtype of arrays when it is a float type; float64 when they are all integers."""
    dtype = np.result_type(*arrays)
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


# The most a single call may allocate: the sizes of its temporary arrays are checked
# before any is made, so a huge pad or input fails with a message, not an out-of-memory kill.
MAX_BYTES = 4 * 2 ** 30


def _check_memory(what, *shapes_and_dtypes):
    """Raise MemoryError naming the sizes when the arrays (shape, dtype) would exceed MAX_BYTES in all."""
    total = sum(int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize for shape, dtype in shapes_and_dtypes)
    if total > MAX_BYTES:
        raise MemoryError(f"{what} would need {total / 2 ** 30:.1f} GiB of arrays, more than "
                          f"hw2_numpy.MAX_BYTES = {MAX_BYTES / 2 ** 30:.0f} GiB; use smaller inputs or padding")


class Cache:
    """What a forward pass keeps for its backward pass.

    op: name of the forward that made it; out_shape: shape of that forward's
    output (the shape dout must have); values: the arrays and settings kept.
    """

    def __init__(self, op, out_shape, **values):
        self.op, self.out_shape, self.values = op, tuple(out_shape), values

    def __getattr__(self, name):
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None


def _check_cache(cache, op, dout):
    """Validate that `cache` came from forward `op` and that dout fits its output; returns dout as array."""
    if not isinstance(cache, Cache):
        raise ValueError(f"cache must be the Cache returned by {op}_forward, got {type(cache).__name__}")
    if cache.op != op:
        raise ValueError(f"this cache comes from {cache.op}_forward, not {op}_forward")
    dout = np.asarray(dout)
    if dout.shape != cache.out_shape:
        raise ValueError(f"dout has shape {dout.shape}, but {op}_forward produced {cache.out_shape}")
    return dout


def patch_rows(images, kernel_height, kernel_width, stride=1):
    """im2col of channels-last images: (N, H, W, C) -> (N * out_h * out_w, kernel_height * kernel_width * C).

    Row (n, h, w) holds the window images[n, s*h : s*h + kh, s*w : s*w + kw, :]
    flattened in (kh, kw, C) order, out_h = 1 + (H - kh) // s, likewise out_w;
    no padding (pad first). A copy: C is the innermost, contiguous axis of the
    source, which makes the copy much faster than windows ordered (C, kh, kw).
    """
    windows = sliding_window_view(images, (kernel_height, kernel_width), axis=(1, 2))  # (N, H', W', C, kh, kw)
    windows = windows[:, ::stride, ::stride].transpose(0, 1, 2, 4, 5, 3)
    return windows.reshape(-1, kernel_height * kernel_width * images.shape[-1])


def output_size(size, kernel, stride, pad=0):
    """Output length of a window of `kernel` sliding with `stride` over `size` + 2 `pad`."""
    return 1 + (size + 2 * pad - kernel) // stride


# END SOLUTION
def convolution(x, w, b, stride, pad):
    """Convolution layer forward pass (cross-correlation, as in every DL library).

    x: (N, C, H, W) input; w: (F, C, HH, WW) filters; b: (F,) biases;
    stride: positive int; pad: non-negative int of zeros on each side of H and W.
    Returns out (N, F, out_height, out_width) with
    out_height = 1 + (H + 2 pad - HH) // stride, out_width likewise, and
    out[n, f] = sum over c, i, j of x_pad[n, c, i + s*h, j + s*w] * w[f, c, i, j] + b[f].
    dtypes: x, w and b hold real numbers (float or integer; bool, complex and
    object arrays raise TypeError). out has the common float type of x and w
    (float16 stays float16, integers give float64), computed in at least
    float32. Every size must be at least 1 (N may be 0).
    """
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    return convolution_forward(x, w, b, stride, pad)[0]  # SOLUTION 6.1


# BEGIN SOLUTION NO PROMPT
def convolution_forward(x, w, b, stride, pad):
    """`convolution` without the exercise preamble; returns (out, cache for convolution_backward)."""
    x, w, b = _real_array("x", x), _real_array("w", w), _real_array("b", b)
    _check_ndim("x", x, 4, "(N, C, H, W)")
    _check_ndim("w", w, 4, "(F, C, HH, WW)")
    num_filters, channels, kernel_height, kernel_width = w.shape
    if min(w.shape) < 1 or min(x.shape[1:]) < 1:
        raise ValueError(f"x (N, C, H, W) = {x.shape} and w (F, C, HH, WW) = {w.shape} need at least one "
                         "channel, filter, row and column each")
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

    out_dtype = _float_dtype(x, w)
    dtype = np.promote_types(out_dtype, np.float32)
    n = x.shape[0]
    out_height = output_size(x.shape[2], kernel_height, stride, pad)
    out_width = output_size(x.shape[3], kernel_width, stride, pad)
    _check_memory(f"convolution of x {x.shape} with w {w.shape}, pad {pad}, stride {stride}",
                  ((n, padded_height, padded_width, channels), dtype),
                  ((n * out_height * out_width, kernel_height * kernel_width * channels), dtype),
                  ((n * out_height * out_width, num_filters), dtype))
    x_padded = np.pad(x.astype(dtype, copy=False).transpose(0, 2, 3, 1),
                      ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    columns = patch_rows(x_padded, kernel_height, kernel_width, stride)  # (N*out_h*out_w, HH*WW*C)
    filters = w.astype(dtype, copy=False).transpose(0, 2, 3, 1).reshape(num_filters, -1)  # (F, HH*WW*C)
    out = columns @ filters.T + b.astype(dtype, copy=False)       # (N*out_h*out_w, F)
    out = out.reshape(n, out_height, out_width, num_filters).transpose(0, 3, 1, 2).astype(out_dtype, copy=False)
    cache = Cache("convolution", out.shape, columns=columns, filters=filters, x_shape=x.shape,
                  w_shape=w.shape, stride=stride, pad=pad)
    return out, cache


def convolution_backward(dout, cache):
    """Gradients of the convolution: dout (N, F, out_h, out_w) -> (dx, dw, db).

    dx (N, C, H, W), dw (F, C, HH, WW), db (F,), from the cache of
    `convolution_forward`. dw and db are one matrix product / sum each; dx is
    the im2col matrix product scattered back (col2im) with one whole-array
    addition per kernel offset, since overlapping windows must accumulate.
    """
    dout = _check_cache(cache, "convolution", dout)
    n, channels, height, width = cache.x_shape
    num_filters, _, kernel_height, kernel_width = cache.w_shape
    stride, pad = cache.stride, cache.pad
    out_height, out_width = dout.shape[2:]
    dout_by_filter = dout.transpose(1, 0, 2, 3).reshape(num_filters, -1)     # (F, N*out_h*out_w)
    db = dout_by_filter.sum(axis=1)
    dw = (dout_by_filter @ cache.columns).reshape(num_filters, kernel_height, kernel_width, channels)
    # dcolumns laid out (HH, WW, C, N, out_h, out_w): each kernel offset's slab then adds
    # into dx with out_w as the contiguous inner axis; with (..., C) innermost the adds
    # run over 3 channels at a time, far slower on 7.1's 7x7 filters (bench/bench_numpy.py).
    dcolumns = (cache.filters.T @ dout_by_filter).reshape(kernel_height, kernel_width, channels, n,
                                                          out_height, out_width)
    dx_padded = np.zeros((channels, n, height + 2 * pad, width + 2 * pad), dtype=dcolumns.dtype)
    for i in range(kernel_height):
        for j in range(kernel_width):
            dx_padded[:, :, i:i + stride * (out_height - 1) + 1:stride,
                      j:j + stride * (out_width - 1) + 1:stride] += dcolumns[i, j]
    dx = dx_padded[:, :, pad:pad + height, pad:pad + width].transpose(1, 0, 2, 3)
    return dx, dw.transpose(0, 3, 1, 2), db


LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])


# END SOLUTION
def grayscale_filter(w):
    """Make filter 1 of w compute luma 0.299 R + 0.587 G + 0.114 B (pad 1, stride 1).

    w: (2, 3, 3, 3) numpy array of a float dtype (F, C, HH, WW). Filter 1
    becomes the identity 3x3 kernel (1 at the centre) scaled per input channel
    by the luma weights; filter 0 is left untouched. Modifies w in place and
    returns it; an integer array could not hold the weights and raises TypeError.
    """
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    # BEGIN SOLUTION 6.1
    if not isinstance(w, np.ndarray):
        raise TypeError(f"w must be a numpy array (it is changed in place), got {type(w).__name__}")
    if np.shape(w) != (2, 3, 3, 3):
        raise ValueError(f"w must have shape (2, 3, 3, 3) (filters, RGB channels, 3, 3), got {np.shape(w)}")
    if w.dtype.kind != "f":
        raise TypeError(f"w must have a float dtype to hold the luma weights 0.299, 0.587, 0.114, got "
                        f"{w.dtype}; pass w.astype(float)")
    w[1] = 0.0
    w[1, :, 1, 1] = LUMA_WEIGHTS
    return w
    # END SOLUTION


def relu(x):
    """ReLU forward pass: max(0, x) elementwise.

    x: any shape, real numbers (float or integer; bool, complex and object
    arrays raise TypeError). Returns a new array of the same shape and dtype.
    """
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    return relu_forward(x)[0]  # SOLUTION 6.2


# BEGIN SOLUTION NO PROMPT
def relu_forward(x):
    """`relu` without the exercise preamble; returns (out, cache for relu_backward)."""
    x = _real_array("x", x)
    out = np.maximum(x, x.dtype.type(0))
    return out, Cache("relu", out.shape, positive=x > 0)


def relu_backward(dout, cache):
    """Gradient of ReLU: dout (any shape, as the input) -> dx = dout where x > 0, else 0."""
    dout = _check_cache(cache, "relu", dout)
    return np.where(cache.positive, dout, 0).astype(dout.dtype, copy=False)


POOL_KEYS = ("pool_height", "pool_width", "stride")


# END SOLUTION
def max_pool(x, pool_param):
    """Max-pooling forward pass.

    x: (N, C, H, W) real numbers (float or integer; bool, complex and object
    arrays raise TypeError); pool_param: dict with 'pool_height', 'pool_width',
    'stride' (positive ints). No padding. Returns a new array (never a view of
    x) of x's dtype, (N, C, out_height, out_width) with
    out_height = 1 + (H - pool_height) // stride, out_width likewise.
    """
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    return max_pool_forward(x, pool_param)[0]  # SOLUTION 6.3


# BEGIN SOLUTION NO PROMPT
def _pool_offsets(x, pool_height, pool_width, stride, out_height, out_width):
    """(index, slice of x) for each window offset (i, j): x[:, :, i + s*h, j + s*w] over all outputs."""
    for i in range(pool_height):
        for j in range(pool_width):
            index = (slice(None), slice(None), slice(i, i + stride * (out_height - 1) + 1, stride),
                     slice(j, j + stride * (out_width - 1) + 1, stride))
            yield index, x[index]


def max_pool_forward(x, pool_param):
    """`max_pool` without the exercise preamble; returns (out, cache for max_pool_backward)."""
    x = _real_array("x", x)
    _check_ndim("x", x, 4, "(N, C, H, W)")
    if not isinstance(pool_param, dict):
        raise TypeError(f"pool_param must be a dict with {list(POOL_KEYS)}, got {type(pool_param).__name__}")
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
    # sliding_window_view instead runs numpy's inner loop over 2-4 elements, far slower.
    windows = (window for _, window in _pool_offsets(x, pool_height, pool_width, stride, out_height, out_width))
    first = next(windows).copy()  # a 1x1 window would otherwise return a view of x
    out = functools.reduce(lambda maxima, window: np.maximum(maxima, window, out=maxima), windows, first)
    return out, Cache("max_pool", out.shape, x=x, out=out, pool=(pool_height, pool_width, stride))


def max_pool_backward(dout, cache):
    """Gradient of max-pooling: dout (N, C, out_h, out_w) -> dx (N, C, H, W).

    Each output's gradient goes to the first maximum of its window (row-major
    order, as TensorFlow does for ties); overlapping windows accumulate.
    """
    dout = _check_cache(cache, "max_pool", dout)
    x, out = cache.x, cache.out
    pool_height, pool_width, stride = cache.pool
    dx = np.zeros(x.shape, dtype=np.result_type(dout.dtype, np.float32))
    routed = np.zeros(out.shape, dtype=bool)
    for index, window in _pool_offsets(x, pool_height, pool_width, stride, *out.shape[2:]):
        first_max = (window == out) & ~routed
        dx[index] += np.where(first_max, dout, 0)
        routed |= first_max
    return dx


# END SOLUTION
maxpool = max_pool  # the handout's name


def dropout(x, mode, p):
    """Inverted dropout forward pass.

    x: any shape, real numbers (float or integer; bool, complex and object
    arrays raise TypeError); mode: 'train' or 'test'; p: probability of
    DROPPING a unit, in [0, 1].
    Train: each unit is zeroed with probability p, survivors are scaled by
    1 / (1 - p) so the expectation is unchanged (p = 1 returns all zeros).
    Test: returns a copy of x, values unchanged. Output is a new array with
    x's shape and dtype (float64 for integer input).
    """
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    return dropout_forward(x, mode, p)[0]  # SOLUTION 6.4
# BEGIN SOLUTION NO PROMPT


def dropout_forward(x, mode, p, rng=np.random):
    """`dropout` without the exercise preamble; returns (out, cache for dropout_backward).

    The mask is drawn from `rng` (numpy's global generator by default).
    """
    x = _real_array("x", x)
    if mode not in ("train", "test"):
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) or not 0 <= p <= 1:
        raise ValueError(f"p is the probability of dropping a unit and must be in [0, 1], got {p!r}")
    if x.dtype.kind != "f":
        x = x.astype(np.float64)  # scaling by 1 / (1 - p) needs a float type
    if mode == "test" or p == 0:
        scale = np.ones((), x.dtype)
    elif p == 1:
        scale = np.zeros((), x.dtype)
    else:
        scale = np.where(rng.random_sample(x.shape) >= p, x.dtype.type(1 / (1 - p)), x.dtype.type(0))
    out = x * scale  # a new array even when scale is 1: outputs never alias inputs
    return out, Cache("dropout", out.shape, scale=scale)


def dropout_backward(dout, cache):
    """Gradient of dropout: dout (shape of x) -> dx = dout * the forward's mask / (1 - p)."""
    dout = _check_cache(cache, "dropout", dout)
    return dout * cache.scale


# --------------------------------------------------------------------------- beyond the handout

def affine_forward(x, w, b):
    """Fully connected layer: x (N, d1, ..., dk) flattened to (N, D), w (D, M), b (M,).

    Returns (out (N, M) = x_flat @ w + b, cache for affine_backward).
    """
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    rows = x.reshape(len(x), -1)
    if w.ndim != 2 or rows.shape[1] != w.shape[0] or b.shape != (w.shape[1],):
        raise ValueError(f"affine needs x (N, D), w (D, M), b (M,); got x {x.shape} (D={rows.shape[1]}), "
                         f"w {w.shape}, b {b.shape}")
    out = rows @ w + b
    return out, Cache("affine", out.shape, rows=rows, w=w, x_shape=x.shape)


def affine_backward(dout, cache):
    """Gradients of the affine layer: dout (N, M) -> (dx (shape of x), dw (D, M), db (M,))."""
    dout = _check_cache(cache, "affine", dout)
    return (dout @ cache.w.T).reshape(cache.x_shape), cache.rows.T @ dout, dout.sum(axis=0)


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization over N, H, W per channel: x (N, C, H, W), gamma and beta (C,).

    bn_param: dict with 'mode' ('train' or 'test'), optional 'eps' (default
    1e-3) and 'momentum' (default 0.99), and the running statistics
    'running_mean' / 'running_var' (C,) (zeros / ones when absent), updated in
    place in train mode as Keras does: running = momentum * running +
    (1 - momentum) * batch statistic. The batch variance fed to the running
    average is unbiased (times m / (m - 1), m = N*H*W) as in Keras' default
    fused layer (float32/float16); 'unbiased_running_var': False gives the
    biased one of its non-fused path (float64, or fused=False).
    Train mode normalizes with the batch's statistics, test mode with the
    running ones. Returns (out (N, C, H, W), cache).
    """
    x, gamma, beta = np.asarray(x), np.asarray(gamma), np.asarray(beta)
    _check_ndim("x", x, 4, "(N, C, H, W)")
    channels = x.shape[1]
    if gamma.shape != (channels,) or beta.shape != (channels,):
        raise ValueError(f"gamma and beta must have shape ({channels},), got {gamma.shape} and {beta.shape}")
    mode = bn_param.get("mode")
    if mode not in ("train", "test"):
        raise ValueError(f"bn_param['mode'] must be 'train' or 'test', got {mode!r}")
    eps, momentum = bn_param.get("eps", 1e-3), bn_param.get("momentum", 0.99)
    running_mean = bn_param.setdefault("running_mean", np.zeros(channels, x.dtype))
    running_var = bn_param.setdefault("running_var", np.ones(channels, x.dtype))
    axes = (0, 2, 3)
    if mode == "train":
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        count = x.size // channels
        correction = count / max(count - 1, 1) if bn_param.get("unbiased_running_var", True) else 1.0
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var * correction
    else:
        mean, var = running_mean, running_var
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean[:, None, None]) * inv_std[:, None, None]
    out = gamma[:, None, None] * x_hat + beta[:, None, None]
    return out, Cache("spatial_batchnorm", out.shape, x_hat=x_hat, gamma=gamma, inv_std=inv_std, mode=mode)


def spatial_batchnorm_backward(dout, cache):
    """Gradients of spatial batch norm: dout (N, C, H, W) -> (dx, dgamma (C,), dbeta (C,)).

    Train mode differentiates through the batch mean and variance:
    dx = inv_std / m * (m dx_hat - sum(dx_hat) - x_hat sum(dx_hat x_hat)), per channel.
    """
    dout = _check_cache(cache, "spatial_batchnorm", dout)
    axes = (0, 2, 3)
    x_hat, inv_std = cache.x_hat, cache.inv_std[:, None, None]
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    dx_hat = dout * cache.gamma[:, None, None]
    if cache.mode == "test":
        return dx_hat * inv_std, dgamma, dbeta
    count = dout.size // dout.shape[1]
    dx = inv_std / count * (count * dx_hat - dx_hat.sum(axis=axes, keepdims=True)
                            - x_hat * (dx_hat * x_hat).sum(axis=axes, keepdims=True))
    return dx, dgamma, dbeta


def softmax_loss(logits, y):
    """Mean softmax cross-entropy of logits (N, K) against int labels y (N,); returns (loss, dlogits (N, K))."""
    logits, y = np.asarray(logits), np.asarray(y)
    if logits.ndim != 2 or y.shape != (len(logits),):
        raise ValueError(f"softmax_loss needs logits (N, K) and labels (N,), got {logits.shape} and {y.shape}")
    if y.dtype.kind not in "iu" or y.size and (y.min() < 0 or y.max() >= logits.shape[1]):
        raise ValueError(f"labels must be ints in [0, {logits.shape[1]})")
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    loss = -log_probs[rows, y].mean()
    dlogits = np.exp(log_probs)
    dlogits[rows, y] -= 1
    return loss, dlogits / len(y)


# --------------------------------------------------------------------------- demo

def demo(num_train=5000, batch_size=20, learning_rate=2e-3, num_filters=8, seed=0):
    """Train conv(3x3, pad 1) -> relu -> max-pool 2 -> affine on MNIST with Adam, numpy only.

    One epoch over the first `num_train` training images; prints the mean loss
    of every 100 steps, then the accuracy on the 10,000 test images. Returns it.
    """
    import time
    import hw2_optim
    rng = np.random.RandomState(seed)
    mnist = hw2_utils.load_mnist()
    images = mnist.train.X[:num_train].reshape(-1, 1, 28, 28).astype(np.float64)
    labels = mnist.train.Y[:num_train]
    params = {"w1": rng.standard_normal((num_filters, 1, 3, 3)) * np.sqrt(2 / 9), "b1": np.zeros(num_filters),
              "w2": rng.standard_normal((num_filters * 14 * 14, 10)) * np.sqrt(2 / (num_filters * 196)),
              "b2": np.zeros(10)}
    states = dict.fromkeys(params)
    pool = {"pool_height": 2, "pool_width": 2, "stride": 2}

    def logits_of(x):
        conv, conv_cache = convolution_forward(x, params["w1"], params["b1"], 1, 1)
        activation, relu_cache = relu_forward(conv)
        pooled, pool_cache = max_pool_forward(activation, pool)
        logits, affine_cache = affine_forward(pooled, params["w2"], params["b2"])
        return logits, (conv_cache, relu_cache, pool_cache, affine_cache)

    start, losses = time.perf_counter(), []
    order = rng.permutation(num_train)
    for step, first in enumerate(range(0, num_train, batch_size), start=1):
        batch = order[first:first + batch_size]
        logits, (conv_cache, relu_cache, pool_cache, affine_cache) = logits_of(images[batch])
        loss, dlogits = softmax_loss(logits, labels[batch])
        dpooled, grads_w2, grads_b2 = affine_backward(dlogits, affine_cache)
        dconv = relu_backward(max_pool_backward(dpooled, pool_cache), relu_cache)
        _, grads_w1, grads_b1 = convolution_backward(dconv, conv_cache)
        for name, grad in (("w1", grads_w1), ("b1", grads_b1), ("w2", grads_w2), ("b2", grads_b2)):
            params[name], states[name] = hw2_optim.adam(params[name], grad, states[name], learning_rate)
        losses.append(loss)
        if step % 100 == 0:
            print(f"step {step:4d}  loss {np.mean(losses[-100:]):.4f}  ({time.perf_counter() - start:.1f}s)")
    test_x = mnist.test.X.reshape(-1, 1, 28, 28).astype(np.float64)
    predictions = np.concatenate([logits_of(test_x[i:i + 1000])[0].argmax(1) for i in range(0, len(test_x), 1000)])
    accuracy = float(np.mean(predictions == mnist.test.Y))
    print(f"numpy conv-relu-pool-affine, {num_train} images, 1 epoch, Adam {learning_rate}: "
          f"test accuracy {accuracy:.4f} in {time.perf_counter() - start:.1f}s")
    return accuracy


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description="Part II in numpy; --demo trains a small numpy network on MNIST.")
    parser.add_argument("--demo", action="store_true", required=True,
                        help="train conv-relu-pool-affine with Adam on 5,000 MNIST images, print test accuracy")
    parser.parse_args(argv)
    demo()
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main())
# END SOLUTION
