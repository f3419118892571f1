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


# --------------------------------------------------------------------------- bad input (issue 12)

POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


def every_output(x):
    """(name, output) of every Part II function and forward on x (N, C, H, W), settings that could alias."""
    w, b = np.ones((2, x.shape[1], 1, 1), x.dtype), np.zeros(2, x.dtype)
    yield "relu", hw2_numpy.relu(x)
    yield "convolution 1x1", hw2_numpy.convolution(x, w, b, 1, 0)
    for pool_height, pool_width, stride in ((1, 1, 1), (1, 1, 2), (2, 2, 2), (1, 2, 1)):
        param = {"pool_height": pool_height, "pool_width": pool_width, "stride": stride}
        yield f"max_pool {param}", hw2_numpy.max_pool(x, param)
    for mode, p in (("test", 0.5), ("train", 0.0), ("train", 0.5), ("train", 1.0), ("test", 0.0)):
        yield f"dropout {mode} {p}", hw2_numpy.dropout(x, mode, p)
    for name in ("relu_forward", "max_pool_forward", "dropout_forward"):
        forward = getattr(hw2_numpy, name)
        args = {"relu_forward": (), "max_pool_forward": ({"pool_height": 1, "pool_width": 1, "stride": 1},),
                "dropout_forward": ("test", 0.3)}[name]
        yield name, forward(x, *args)[0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.uint8])
def test_outputs_never_alias_their_inputs(dtype):
    x = (np.random.default_rng(0).standard_normal((2, 3, 4, 4)) * 5).astype(dtype)
    original = x.copy()
    for name, out in every_output(x):
        assert not np.shares_memory(out, x), name
        out[...] = 7  # writing an output leaves the input alone
        np.testing.assert_array_equal(x, original, err_msg=name)


@pytest.mark.parametrize("dtype", [bool, np.complex128, object, "U3", "datetime64[s]"])
def test_arrays_without_a_real_number_meaning_are_refused(dtype):
    x = np.zeros((1, 3, 4, 4), dtype=dtype)
    calls = {
        "relu": lambda: hw2_numpy.relu(x),
        "max_pool": lambda: hw2_numpy.max_pool(x, POOL),
        "dropout": lambda: hw2_numpy.dropout(x, "train", 0.5),
        "convolution x": lambda: hw2_numpy.convolution(x, np.ones((2, 3, 3, 3)), np.zeros(2), 1, 1),
        "convolution w": lambda: hw2_numpy.convolution(np.ones((1, 3, 4, 4)), np.zeros((2, 3, 3, 3), dtype),
                                                       np.zeros(2), 1, 1),
        "convolution b": lambda: hw2_numpy.convolution(np.ones((1, 3, 4, 4)), np.ones((2, 3, 3, 3)),
                                                       np.zeros(2, dtype), 1, 1),
    }
    for name, call in calls.items():
        with pytest.raises(TypeError, match="must hold real numbers"):
            call()


@pytest.mark.parametrize("x_dtype, w_dtype, out_dtype", [
    (np.float16, np.float16, np.float16), (np.float32, np.float32, np.float32), (np.float16, np.float32, np.float32),
    (np.float32, np.float64, np.float64), (np.int64, np.int64, np.float64), (np.uint8, np.float32, np.float32),
    (np.int8, np.int8, np.float64),
])
def test_convolution_dtype_rule(x_dtype, w_dtype, out_dtype):
    """out has the common float type of x and w (integers give float64), computed in at least float32."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((2, 3, 6, 6)) * 3).astype(x_dtype)
    w = (rng.standard_normal((4, 3, 3, 3)) * 3).astype(w_dtype)
    b = rng.standard_normal(4)
    out = hw2_numpy.convolution(x, w, b, 1, 1)
    assert out.dtype == out_dtype
    expected = tf_conv2d_nchw(x.astype(np.float64), w.astype(np.float64), b, 1, 1)
    tolerance = {np.float16: 2e-2, np.float32: 1e-4, np.float64: 1e-10}[np.dtype(out_dtype).type]
    np.testing.assert_allclose(out.astype(np.float64), expected, rtol=tolerance, atol=tolerance * np.abs(expected).max())


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int32, np.uint8])
def test_relu_max_pool_keep_the_dtype(dtype):
    x = (np.random.default_rng(4).standard_normal((2, 3, 4, 4)) * 4).astype(dtype)
    assert hw2_numpy.relu(x).dtype == dtype
    assert hw2_numpy.max_pool(x, POOL).dtype == dtype
    np.testing.assert_array_equal(hw2_numpy.relu(x), np.where(x > 0, x, 0).astype(dtype))


def test_grayscale_filter_needs_a_float_array_it_can_change():
    with pytest.raises(TypeError, match="float dtype"):
        hw2_numpy.grayscale_filter(np.zeros((2, 3, 3, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="numpy array"):
        hw2_numpy.grayscale_filter(np.zeros((2, 3, 3, 3)).tolist())
    w = np.zeros((2, 3, 3, 3), np.float32)
    assert hw2_numpy.grayscale_filter(w) is w
    np.testing.assert_allclose(w[1, :, 1, 1], [0.299, 0.587, 0.114], rtol=1e-6)


@pytest.mark.parametrize("x_shape, w_shape, pad", [
    ((1, 1, 1, 1), (1, 1, 1, 1), 30000),
    ((64, 3, 1000, 1000), (8, 3, 3, 3), 1),
    ((1, 3, 1, 1), (1, 3, 1, 1), 10 ** 9),
])
def test_sizes_are_checked_before_allocating(x_shape, w_shape, pad):
    """Too large a problem fails at once, naming the size, instead of being OOM-killed."""
    x = np.broadcast_to(np.float32(1), x_shape)   # no memory for x itself
    w = np.ones(w_shape, np.float32)
    with pytest.raises(MemoryError, match="GiB.*MAX_BYTES"):
        hw2_numpy.convolution(x, w, np.zeros(w_shape[0], np.float32), 1, pad)


@pytest.mark.parametrize("x_shape, w_shape", [
    ((1, 0, 5, 5), (2, 0, 3, 3)),     # zero channels
    ((1, 3, 5, 5), (2, 3, 0, 0)),     # 0x0 kernel
    ((1, 3, 5, 5), (2, 3, 0, 3)),
    ((1, 3, 5, 5), (0, 3, 3, 3)),     # zero filters
    ((1, 3, 0, 5), (2, 3, 1, 1)),     # zero rows
])
def test_empty_sizes_are_refused_by_name(x_shape, w_shape):
    with pytest.raises(ValueError, match="at least one channel, filter, row and column"):
        hw2_numpy.convolution(np.zeros(x_shape), np.zeros(w_shape), np.zeros(w_shape[0]), 1, 0)


def test_an_empty_batch_gives_an_empty_output():
    out = hw2_numpy.convolution(np.zeros((0, 3, 5, 5)), np.ones((2, 3, 3, 3)), np.zeros(2), 1, 1)
    assert out.shape == (0, 2, 5, 5)
    assert hw2_numpy.max_pool(np.zeros((0, 3, 4, 4)), POOL).shape == (0, 3, 2, 2)


def test_pool_param_must_be_a_dict():
    with pytest.raises(TypeError, match="pool_param must be a dict"):
        hw2_numpy.max_pool(np.zeros((1, 1, 4, 4)), (2, 2, 2))
