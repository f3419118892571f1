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
