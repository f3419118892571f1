"""The tests' ground truth: TensorFlow's own ops in the course's NCHW layout, and numerical gradients."""
import hw2_utils  # noqa: F401  (sets TensorFlow up before it is imported)

import numpy as np
import tensorflow as tf


def evaluate_tf(build, *arrays):
    """Evaluate `build(*tensors)` in a fresh graph and session, feeding numpy `arrays`.

    `build` maps one placeholder per array (same dtype and shape) to a tensor or
    a list of tensors. Returns the numpy value(s). Used to check numpy code
    against TensorFlow's own ops.
    """
    with tf.Graph().as_default() as graph:
        placeholders = [tf.compat.v1.placeholder(tf.as_dtype(a.dtype), a.shape) for a in arrays]
        outputs = build(*placeholders)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            return session.run(outputs, dict(zip(placeholders, arrays)))


def numerical_gradient(f, x, dout=None, h=1e-5):
    """Centered-difference gradient of sum(f(x) * dout) with respect to array x (changed in place, restored).

    f: function of x returning an array (or a scalar when dout is None); dout:
    the upstream gradient, same shape as f(x). Returns an array shaped like x.
    Use float64 inputs: the error is O(h^2) plus rounding of order eps / h.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    weights = 1.0 if dout is None else dout
    iterator = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in iterator:
        index = iterator.multi_index
        original = x[index]
        x[index] = original + h
        plus = np.sum(f(x) * weights)
        x[index] = original - h
        minus = np.sum(f(x) * weights)
        x[index] = original
        grad[index] = (plus - minus) / (2 * h)
    return grad


def relative_error(a, b):
    """max |a - b| / max(max |a|, max |b|, 1e-8): the arrays' difference relative to their scale.

    Relative to the whole array, not per element: a per-element ratio is
    dominated by entries near zero, where centered differences carry an
    absolute rounding error of ~eps / h whatever the true value.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare shapes {a.shape} and {b.shape}")
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), 1e-8)
    return float(np.abs(a - b).max(initial=0.0) / scale)


def conv2d_nchw_op(x, w, b, stride, pad):
    """The graph op: tf.nn.conv2d on tensors x (N, C, H, W), w (F, C, HH, WW), b (F,) -> (N, F, H', W')."""
    nhwc = tf.nn.conv2d(tf.transpose(x, [0, 2, 3, 1]), tf.transpose(w, [2, 3, 1, 0]), stride,
                        padding=[[0, 0], [pad, pad], [pad, pad], [0, 0]])
    return tf.transpose(nhwc + b, [0, 3, 1, 2])


def max_pool_nchw_op(x, pool_height, pool_width, stride):
    """The graph op: tf.nn.max_pool2d (VALID) on a tensor x (N, C, H, W) -> (N, C, H', W')."""
    pooled = tf.nn.max_pool2d(tf.transpose(x, [0, 2, 3, 1]), (pool_height, pool_width), stride, "VALID")
    return tf.transpose(pooled, [0, 3, 1, 2])


def tf_conv2d_nchw(x, w, b, stride, pad):
    """`conv2d_nchw_op` evaluated on numpy x, w, b; returns (N, F, H', W')."""
    return evaluate_tf(lambda x, w, b: conv2d_nchw_op(x, w, b, stride, pad), x, w, b)


def tf_max_pool_nchw(x, pool_height, pool_width, stride):
    """`max_pool_nchw_op` evaluated on numpy x; returns (N, C, H', W')."""
    return evaluate_tf(lambda x: max_pool_nchw_op(x, pool_height, pool_width, stride), x)


def random_conv_case(rng, dtype=np.float64):
    """A random (x, w, b, stride, pad) with any N, C, H, W, F, kernel, stride and pad that fit."""
    n, channels, num_filters = rng.integers(1, 4), rng.integers(1, 5), rng.integers(1, 6)
    kernel_height, kernel_width = rng.integers(1, 6, size=2)
    stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    height = int(rng.integers(max(1, kernel_height - 2 * pad), 13))
    width = int(rng.integers(max(1, kernel_width - 2 * pad), 13))
    x = rng.standard_normal((n, channels, height, width)).astype(dtype)
    w = rng.standard_normal((num_filters, channels, kernel_height, kernel_width)).astype(dtype)
    b = rng.standard_normal(num_filters).astype(dtype)
    return x, w, b, stride, pad
