"""The hidden cases' judges (autograder/hidden.py), in this process: every judge passes the reference
and fails the wrong answers a student could hand in, each made to bite on its own."""
import numpy as np
import pytest

import hw2_numpy
from autograder import hidden


@pytest.fixture(scope="module")
def built():
    return hidden.part2_cases(hw2_numpy, np.random.default_rng([7, 1]))


def inputs_of(built, case):
    return [built.inputs[arg["array"]] if "array" in arg else arg["value"] for arg in case.args]


def reference_output(built, case):
    return np.asarray(getattr(hw2_numpy, case.function)(*[np.copy(a) if isinstance(a, np.ndarray) else a
                                                          for a in inputs_of(built, case)]))


def cases_of(built, exercise):
    found = [case for case in built.cases if case.exercise == exercise]
    assert found
    return found


def test_the_reference_passes_every_hidden_case(built):
    assert {case.exercise for case in built.cases} == {"6.1", "6.2", "6.3", "6.4"}
    for case in built.cases:
        assert case.judge(reference_output(built, case)) == "", case.label


def test_a_convolution_with_one_value_right_fails_every_case(built):
    """Only the first output value right (or all but the first): each case must fail."""
    for case in cases_of(built, "6.1"):
        right = reference_output(built, case)
        if right.size < 2:
            continue
        one_right = right + 1.0
        one_right.flat[0] = right.flat[0]
        one_wrong = right.copy()
        one_wrong.flat[-1] += 1e-3 + 1e-3 * abs(one_wrong.flat[-1])
        assert "values differ" in case.judge(one_right), case.label
        assert "values differ" in case.judge(one_wrong), case.label
        assert "shape" in case.judge(right[..., :-1]), case.label
        nan = right.copy()
        nan.flat[0] = np.nan
        assert case.judge(nan), case.label


@pytest.mark.parametrize("output, expected, rtol, atol, verdict", [
    ([1.0, 2.0], [1.0, 2.0], 0, 0, ""),
    ([1.0, 2.0 + 1e-7], [1.0, 2.0], 1e-6, 0, ""),        # within rtol * |expected|
    ([1.0, 2.0 + 1e-5], [1.0, 2.0], 1e-6, 1e-6, "values differ"),
    ([1.0, 5.0], [1.0, 2.0], 1e-6, 1e-6, "values differ"),  # one of two right
    ([0.0, 1e-7], [0.0, 0.0], 0, 1e-6, ""),               # within atol where expected is 0
    ([np.inf, 1.0], [np.inf, 1.0], 1, 1, "NaN or infinity"),
    ([1.0], [1.0, 2.0], 1, 1, "output shape"),
])
def test_close(output, expected, rtol, atol, verdict):
    found = hidden.close(np.array(output), np.array(expected), rtol, atol)
    assert (found == "") if verdict == "" else verdict in found


def test_exact_wants_every_value():
    assert hidden.exact(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == ""
    assert "values differ" in hidden.exact(np.array([1.0, 3.0]), np.array([1.0, 2.0]))
    assert "shape" in hidden.exact(np.array([1.0]), np.array([1.0, 2.0]))


def test_a_relu_or_max_pool_off_anywhere_fails(built):
    for case in cases_of(built, "6.2") + cases_of(built, "6.3"):
        right = reference_output(built, case)
        wrong = right.copy()
        wrong.flat[-1] += 1
        assert case.judge(wrong), case.label
    for case in cases_of(built, "6.2"):   # the identity: negatives kept
        assert case.judge(np.asarray(inputs_of(built, case)[0])), case.label


def biased_dropout(x, p, keep_share, rng):
    """Inverted dropout that keeps `keep_share` of the units instead of 1 - p."""
    mask = rng.random(x.shape) < keep_share
    return np.where(mask, x / (1 - p), 0.0)


def train_cases(built):
    return [case for case in cases_of(built, "6.4") if inputs_of(built, case)[1] == "train"]


def test_dropout_that_drops_too_few_or_too_many_fails(built):
    rng = np.random.default_rng(3)
    for case in train_cases(built):
        x, _, p = inputs_of(built, case)
        assert case.judge(biased_dropout(x, p, 1 - p, rng)) == "", case.label   # fair coin: passes
        if 0 < p:
            assert "dropped" in case.judge(biased_dropout(x, p, 1 - p + 0.03, rng)), case.label   # too few
        if p < 0.9:
            assert "dropped" in case.judge(biased_dropout(x, p, 1 - p - 0.03, rng)), case.label   # too many


def test_dropout_judged_row_by_row_and_by_scale(built):
    rng = np.random.default_rng(4)
    case = next(case for case in train_cases(built) if inputs_of(built, case)[2] == 0.5)
    x, _, p = inputs_of(built, case)
    rows = np.zeros(x.shape, bool)
    rows[: len(x) // 2] = True            # whole rows dropped: overall 0.5, each row 0 or 1
    assert "varies between rows" in case.judge(np.where(rows, 0.0, x / (1 - p)))
    unscaled = biased_dropout(x, p, 1 - p, rng) * (1 - p)
    assert "kept values" in case.judge(unscaled)


def test_dropout_statistics_alone():
    x = np.ones((100, 100))
    half = np.zeros_like(x)
    half[:, ::2] = 2.0
    assert hidden.dropout_statistics(half, x, 0.5) == ""
    assert "dropped 0.0000" in hidden.dropout_statistics(x * 2, x, 0.5)      # drops nothing
    assert "dropped 1.0000" in hidden.dropout_statistics(np.zeros_like(x), x, 0.5)
    assert "output shape" in hidden.dropout_statistics(half[:, :50], x, 0.5)


def test_dropout_in_test_mode_must_be_the_identity(built):
    for case in cases_of(built, "6.4"):
        if inputs_of(built, case)[1] == "test":
            x = inputs_of(built, case)[0]
            assert case.judge(x) == ""
            assert case.judge(x * 2), case.label


# What the hidden cases promise (hidden.py's docstring and comments), written out here and checked
# over several secret seeds: a change to how they are drawn must show up as a broken promise.

def conv_cases(built):
    found = []
    for case in cases_of(built, "6.1"):
        if case.function == "convolution":
            x, w, b, stride, pad = inputs_of(built, case)
            found.append((case, x, w, b, stride, pad))
    return found


@pytest.mark.parametrize("seed", range(6))
def test_the_convolution_cases_hold_what_the_public_tests_do_not(seed):
    built = hidden.part2_cases(hw2_numpy, np.random.default_rng([seed, 1]))
    convolutions = conv_cases(built)
    assert len(convolutions) == 18
    for index, (case, x, w, b, stride, pad) in enumerate(convolutions):
        (batch, channels, height, width), (filters, w_channels, kernel_height, kernel_width) = x.shape, w.shape
        float32 = index >= 16
        assert pad == ((0, 3)[index - 16] if float32 else index % 4)
        assert batch == (2 if float32 else 1 if index % 3 == 0 else batch) and 1 <= batch <= 3
        assert (batch == 1) == (not float32 and index % 3 == 0)
        assert kernel_height != kernel_width and {kernel_height, kernel_width} <= {1, 2, 3, 4, 5}
        assert height % 2 == width % 2 == 1 and {height, width} <= set(range(5, 14))
        assert w_channels == channels and {channels, filters} <= {1, 2, 3, 4} and b.shape == (filters,)
        spans = (height + 2 * pad - kernel_height, width + 2 * pad - kernel_width)
        divides = not float32 and index % 2 == 0
        assert divides == all(span % stride == 0 for span in spans) and min(spans) >= 0
        assert stride in ((1, 2, 3) if divides else (2, 3))
        dtype = np.float32 if float32 else np.float64
        assert x.dtype == w.dtype == b.dtype == dtype
        assert case.label == f"{'float32 ' if float32 else ''}convolution x {x.shape}, w {w.shape}, stride {stride}, " \
                             f"pad {pad}"
        # The tolerance: float64 to 1e-6, float32 to 1e-4 (relative and absolute), no looser, no tighter.
        right = reference_output(built, case).astype(np.float64)
        tolerance = (1e-4 if float32 else 1e-6) * (1 + np.abs(right))
        assert case.judge(right + 0.5 * tolerance) == "", case.label
        assert "values differ" in case.judge(right + 2 * tolerance), case.label
    grays = [case for case in cases_of(built, "6.1") if case.function == "grayscale_filter"]
    assert len(grays) == 2 and all(case.label == "grayscale_filter on random filters" for case in grays)
    for case in grays:
        (w,) = inputs_of(built, case)
        assert w.shape == (2, 3, 3, 3) and w.dtype == np.float64
        right = reference_output(built, case)
        assert case.judge(right + 0.5e-12 * (1 + np.abs(right))) == ""
        assert "values differ" in case.judge(right + 2e-12 * (1 + np.abs(right)))
        assert "values differ" in case.judge(right * (1 + 3e-12))   # relative too (luma's zeros take atol)


def test_the_convolution_cases_span_their_ranges_over_seeds():
    """Over a few seeds every kernel size 1-5, odd size 5-13, stride 1-3 and channel count 1-4 is drawn,
    and some kernel covers the whole padded input (an output one row or column wide)."""
    kernels, sizes, strides, channels, whole, batches, uneven = set(), set(), set(), set(), False, set(), set()
    for seed in range(20):
        for index, (case, x, w, b, stride, pad) in enumerate(
                conv_cases(hidden.part2_cases(hw2_numpy, np.random.default_rng([seed, 1])))):
            if index < 16:   # the float64 ones (the two float32 ones have batch 2)
                batches.add(x.shape[0])
            if index % 2:
                uneven.add(stride)
            kernels |= set(w.shape[2:])
            sizes |= set(x.shape[2:])
            strides.add(stride)
            channels |= {x.shape[1], w.shape[0]}
            whole |= x.shape[2] + 2 * pad == w.shape[2] or x.shape[3] + 2 * pad == w.shape[3]
    assert kernels == {1, 2, 3, 4, 5} and sizes == {5, 7, 9, 11, 13} and strides == {1, 2, 3}
    assert channels == {1, 2, 3, 4} and whole and batches == {1, 2, 3} and uneven == {2, 3}


@pytest.mark.parametrize("seed", range(6))
def test_the_relu_max_pool_and_dropout_cases_hold_what_they_promise(seed):
    built = hidden.part2_cases(hw2_numpy, np.random.default_rng([seed, 1]))
    relus = cases_of(built, "6.2")
    assert [np.ndim(inputs_of(built, case)[0]) for case in relus] == [1, 2, 3, 4, 4, 2]
    largest = 0.0
    for case in relus:
        (x,) = inputs_of(built, case)
        assert x.dtype == (np.float32 if x.ndim == 2 else np.float64) and set(x.shape) <= set(range(2, 8))
        flat = x.ravel()
        assert np.all(flat[:-1][::3] == 0)                                    # exact zeros
        negative_zeros = flat[:-1][1::5]
        assert np.all(negative_zeros == 0) and np.all(np.signbit(negative_zeros))
        assert flat[-1] <= -1                                                 # a negative in every case
        largest = max(largest, float(np.abs(x).max()))
        assert case.label == f"relu {x.dtype} {x.shape}"
    assert largest > 5   # values of scale 10, not 1
    pools = cases_of(built, "6.3")
    assert len(pools) == 12
    for index, case in enumerate(pools):
        x, param = inputs_of(built, case)
        assert set(param) == {"pool_height", "pool_width", "stride"}
        pool_height, pool_width, stride = param["pool_height"], param["pool_width"], param["stride"]
        assert {pool_height, pool_width} <= {1, 2, 3, 4} and stride in (1, 2, 3)
        batch, channels, height, width = x.shape
        assert (batch == 1) == (index % 3 == 0) and batch <= 3 and channels in (1, 2, 3)
        assert height % 2 == width % 2 == 1 and pool_height <= height <= 13 and pool_width <= width <= 13
        assert case.label == f"max_pool x {x.shape}, pool {pool_height}x{pool_width}, stride {stride}"
    dropouts = [inputs_of(built, case) + [case.label] for case in cases_of(built, "6.4")]
    assert [(mode, p, x.shape) for x, mode, p, _ in dropouts] == \
        [("train", p, (300, 400)) for p in (0.1, 0.35, 0.5, 0.75, 0.9, 0.0)] + \
        [("test", 0.3, (17,)), ("test", 0.9, (3, 5, 7)), ("test", 0.5, (2, 3, 4, 5))]
    for x, mode, p, label in dropouts:
        assert label == f"dropout {mode} p={p} on {x.shape}"
        if mode == "train":
            assert 0.5 <= x.min() < 0.51 and 1.49 < x.max() < 1.5


def test_the_pool_and_relu_cases_vary_their_shapes_over_seeds():
    """Non-square pools, strides smaller than, equal to and larger than the pool, batches and channels
    1-3; relu's sizes 2-7."""
    pools, relations, strides, batches, channels, relu_sizes = set(), set(), set(), set(), set(), set()
    for seed in range(6):
        built = hidden.part2_cases(hw2_numpy, np.random.default_rng([seed, 1]))
        for case in cases_of(built, "6.3"):
            x, param = inputs_of(built, case)
            pools.add((param["pool_height"], param["pool_width"]))
            relations.add(np.sign(param["stride"] - param["pool_height"]))
            strides.add(param["stride"])
            batches.add(x.shape[0])
            channels.add(x.shape[1])
        for case in cases_of(built, "6.2"):
            relu_sizes |= set(inputs_of(built, case)[0].shape)
    assert {size for pool in pools for size in pool} == {1, 2, 3, 4}
    assert any(height != width for height, width in pools) and relations == {-1, 0, 1}
    assert strides == batches == channels == {1, 2, 3} and relu_sizes == set(range(2, 8))


def test_dropout_tolerances_are_six_binomial_deviations_and_exact_scaling():
    p, x = 0.5, np.ones((300, 400))
    tolerance, row_tolerance = 6 * np.sqrt(p * (1 - p) / x.size), 6 * np.sqrt(p * (1 - p) / 400)

    def dropping(shares):   # each row drops its share of the units, its first ones
        counts = np.round(np.asarray(shares) * 400).astype(int)
        return np.where(np.arange(400) < counts[:, None], 0.0, x / (1 - p))
    inside, outside = 0.5 + 0.8 * tolerance, 0.5 + 1.1 * tolerance   # 1.1: under 7 deviations
    assert hidden.dropout_statistics(dropping(np.full(300, inside)), x, p) == ""
    assert "dropped 0.5" in hidden.dropout_statistics(dropping(np.full(300, outside)), x, p)
    rows = np.full(300, 0.5)
    rows[0], rows[1] = 0.5 + 0.9 * row_tolerance, 0.5 - 0.9 * row_tolerance
    assert hidden.dropout_statistics(dropping(rows), x, p) == ""
    rows[0], rows[1] = 0.5 + 1.1 * row_tolerance, 0.5 - 1.1 * row_tolerance
    assert "varies between rows" in hidden.dropout_statistics(dropping(rows), x, p)
    # Survivors exactly x / (1 - p): off by 1e-8 relative fails, and so does an error tiny in absolute terms.
    half = dropping(np.full(300, 0.5))
    assert hidden.dropout_statistics(half * (1 + 1e-8), x, p) == "kept values are not x / (1 - p) = x / 0.5"
    small = x * 1e-10
    assert "kept values" in hidden.dropout_statistics(np.where(half == 0, 0.0, small / (1 - p) * 1.001), small, p)
    assert "kept values" in hidden.dropout_statistics(np.where(half == 0, 0.0, half + 0.5), x, p)


def test_the_judges_say_what_failed():
    assert hidden.close(np.array([np.nan]), np.array([1.0]), 1, 1) == "output holds NaN or infinity"
    assert hidden.close(np.array([1.0, 3.0]), np.array([1.0, 1.0]), 0, 0) == \
        "values differ from the reference (largest difference 2)"
    assert hidden.close(np.array([1.0]), np.array([1.0, 1.0]), 0, 0) == "output shape (1,), expected (2,)"
    assert hidden.exact(np.array([1.0, 3.0]), np.array([1.0, 2.0])) == "values differ from the reference"
    assert hidden.exact(np.array([1.0]), np.array([1.0, 2.0])) == "output shape (1,), expected (2,)"
