"""TensorFlow's own ops in the course's NCHW layout: the ground truth for the numpy code."""
import hw2_utils  # noqa: F401  (sets TensorFlow up before it is imported)

import numpy as np
import tensorflow as tf


def tf_conv2d_nchw(x, w, b, stride, pad):
    """tf.nn.conv2d on x (N, C, H, W), w (F, C, HH, WW), b (F,); returns (N, F, H', W')."""
    def build(x, w, b):
        nhwc = tf.nn.conv2d(tf.transpose(x, [0, 2, 3, 1]), tf.transpose(w, [2, 3, 1, 0]), stride,
                            padding=[[0, 0], [pad, pad], [pad, pad], [0, 0]])
        return tf.transpose(nhwc + b, [0, 3, 1, 2])
    return hw2_utils.evaluate_tf(build, x, w, b)


def tf_max_pool_nchw(x, pool_height, pool_width, stride):
    """tf.nn.max_pool2d (VALID) on x (N, C, H, W); returns (N, C, H', W')."""
    def build(x):
        pooled = tf.nn.max_pool2d(tf.transpose(x, [0, 2, 3, 1]), (pool_height, pool_width), stride, "VALID")
        return tf.transpose(pooled, [0, 3, 1, 2])
    return hw2_utils.evaluate_tf(build, x)


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
