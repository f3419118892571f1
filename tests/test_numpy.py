"""hw2_numpy beyond the public tests: many random shapes against TensorFlow, bad input."""
import numpy as np
import pytest

import hw2_numpy
from reference import random_conv_case, tf_conv2d_nchw, tf_max_pool_nchw


@pytest.mark.parametrize("case_seed", range(8))
def test_convolution_matches_tf_on_random_cases(case_seed):
    rng = np.random.default_rng(100 + case_seed)
    for _ in range(10):
        x, w, b, stride, pad = random_conv_case(rng)
        ours, _ = hw2_numpy.convolution_forward(x, w, b, stride, pad)
        expected = tf_conv2d_nchw(x, w, b, stride, pad)
        assert ours.shape == expected.shape
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)


def test_convolution_stride_not_dividing_size():
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((2, 3, 10, 9)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    out = hw2_numpy.convolution(x, w, b, stride=3, pad=1)
    assert out.shape == (2, 4, 1 + (10 + 2 - 3) // 3, 1 + (9 + 2 - 2) // 3)
    np.testing.assert_allclose(out, tf_conv2d_nchw(x, w, b, 3, 1), rtol=1e-10, atol=1e-10)


def test_convolution_with_integer_input_computes_in_float():
    x = np.arange(16).reshape(1, 1, 4, 4)
    out = hw2_numpy.convolution(x, np.ones((1, 1, 2, 2)), np.zeros(1), 2, 0)
    np.testing.assert_array_equal(out[0, 0], [[10, 18], [42, 50]])


@pytest.mark.parametrize("args, message", [
    (((1, 3, 5, 5), (2, 4, 3, 3), (2,), 1, 0), "channel mismatch"),
    (((1, 3, 5, 5), (2, 3, 3, 3), (3,), 1, 0), "one bias per filter"),
    (((1, 3, 5, 5), (2, 3, 8, 3), (2,), 1, 1), "larger than the padded input"),
    (((1, 3, 5, 5), (2, 3, 3, 3), (2,), 0, 0), "stride must be a positive integer"),
    (((1, 3, 5, 5), (2, 3, 3, 3), (2,), 1.5, 0), "stride must be a positive integer"),
    (((1, 3, 5, 5), (2, 3, 3, 3), (2,), 1, -1), "pad must be a non-negative integer"),
    (((3, 5, 5), (2, 3, 3, 3), (2,), 1, 0), "x must be 4-D"),
])
def test_convolution_rejects_bad_input(args, message):
    x_shape, w_shape, b_shape, stride, pad = args
    with pytest.raises(ValueError, match=message):
        hw2_numpy.convolution(np.zeros(x_shape), np.zeros(w_shape), np.zeros(b_shape), stride, pad)


def test_grayscale_filter_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"\(2, 3, 3, 3\)"):
        hw2_numpy.grayscale_filter(np.zeros((1, 3, 3, 3)))


def test_relu_keeps_shape_and_dtype():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    out = hw2_numpy.relu(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_array_equal(out, np.maximum(x, 0))


def test_max_pool_matches_tf_on_random_cases():
    rng = np.random.default_rng(9)
    for _ in range(30):
        pool_height, pool_width, stride = (int(v) for v in rng.integers(1, 4, size=3))
        x = rng.standard_normal((int(rng.integers(1, 4)), int(rng.integers(1, 4)),
                                 int(rng.integers(pool_height, 12)), int(rng.integers(pool_width, 12))))
        param = {"pool_height": pool_height, "pool_width": pool_width, "stride": stride}
        np.testing.assert_array_equal(hw2_numpy.max_pool_forward(x, param)[0],
                                      tf_max_pool_nchw(x, pool_height, pool_width, stride))


@pytest.mark.parametrize("param, message", [
    ({"pool_height": 2, "stride": 2}, "missing \\['pool_width'\\]"),
    ({"pool_height": 2, "pool_width": 0, "stride": 2}, "positive integer"),
    ({"pool_height": 9, "pool_width": 2, "stride": 2}, "larger than the input"),
])
def test_max_pool_rejects_bad_param(param, message):
    with pytest.raises(ValueError, match=message):
        hw2_numpy.max_pool(np.zeros((1, 1, 4, 4)), param)


def test_dropout_edge_cases():
    x = np.random.default_rng(1).standard_normal((50, 40))
    zeros = hw2_numpy.dropout(x, "train", 1.0)
    assert np.all(zeros == 0) and not np.isnan(zeros).any()
    np.testing.assert_array_equal(hw2_numpy.dropout(x, "train", 0.0), x)
    np.testing.assert_array_equal(hw2_numpy.dropout(x, "train", 0.3), hw2_numpy.dropout(x, "train", 0.3))
    ints = hw2_numpy.dropout(np.ones((100, 100), dtype=int), "train", 0.75)
    assert ints.dtype == np.float64 and set(np.unique(ints)) == {0.0, 4.0}


@pytest.mark.parametrize("mode, p, message", [
    ("training", 0.5, "mode must be 'train' or 'test'"),
    ("train", 1.5, r"in \[0, 1\]"),
    ("train", -0.1, r"in \[0, 1\]"),
    ("test", "0.5", r"in \[0, 1\]"),
])
def test_dropout_rejects_bad_input(mode, p, message):
    with pytest.raises(ValueError, match=message):
        hw2_numpy.dropout(np.ones(3), mode, p)
