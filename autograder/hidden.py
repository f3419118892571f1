"""The hidden cases: inputs drawn from the grader's secret seed, judged against the reference in the
grader's own process.

Part II: every function on shapes, strides, pads, kernels and modes the public tests do not use
(non-square kernels and pools, strides that do not divide the input, pad 0..3, batch 1, odd sizes,
float32, dropout statistics and test-mode identity). Part I and 7.1/7.2: inputs for the box's
observations of the student's models (images, labels, logits, an out_dim other than 10).

A case is (what the box calls, how to judge what came back). Judges take the decoded output and
return "" when it passes, else one line saying how it failed. None of this reaches the box except
the inputs themselves.
"""
import dataclasses

import numpy as np


@dataclasses.dataclass
class Case:
    """One call of a student's function: `args` as the box passes them ({"array": key} names an input,
    {"value": v} is a JSON value),
    a `label` for feedback, and `judge(output) -> ""` or the reason it fails."""
    exercise: str
    function: str
    args: list
    label: str
    judge: object


def close(output, expected, rtol, atol):
    """"" when output has expected's shape and values within tolerance, else how it differs."""
    if output.shape != expected.shape:
        return f"output shape {output.shape}, expected {expected.shape}"
    output = output.astype(np.float64)
    if not np.all(np.isfinite(output)):
        return "output holds NaN or infinity"
    difference = np.abs(output - expected)
    if not np.all(difference <= atol + rtol * np.abs(expected)):
        return f"values differ from the reference (largest difference {difference.max():.3g})"
    return ""


def exact(output, expected):
    if output.shape != expected.shape:
        return f"output shape {output.shape}, expected {expected.shape}"
    return "" if np.array_equal(output, expected) else "values differ from the reference"


class CaseBuilder:
    """Collects cases and their input arrays (named a0, a1, ... in inputs.npz)."""

    def __init__(self):
        self.cases, self.inputs = [], {}

    def array(self, value):
        key = f"a{len(self.inputs)}"
        self.inputs[key] = value
        return {"array": key}

    def add(self, exercise, function, arrays, scalars, label, judge):
        args = [self.array(a) for a in arrays] + [{"value": scalar} for scalar in scalars]
        self.cases.append(Case(exercise, function, args, label, judge))


def conv_shape(rng, pad, batch, divides):
    """(x shape, w shape, stride): odd sizes, a non-square kernel, a stride that divides the padded
    input's span or not, as asked."""
    while True:
        kernel_height, kernel_width = (int(k) for k in rng.integers(1, 6, size=2))
        if kernel_height == kernel_width:
            continue
        height, width = (2 * int(k) + 1 for k in rng.integers(2, 7, size=2))
        stride = int(rng.integers(1, 4)) if divides else int(rng.integers(2, 4))
        spans = (height + 2 * pad - kernel_height, width + 2 * pad - kernel_width)   # >= 0: height >= 5 >= kernel
        if divides == all(span % stride == 0 for span in spans):
            channels, filters = (int(k) for k in rng.integers(1, 5, size=2))
            return (batch, channels, height, width), (filters, channels, kernel_height, kernel_width), stride


def part2_cases(reference, rng):
    """The hidden Part II cases (a CaseBuilder), judged against `reference` (the reference hw2_numpy)."""
    built = CaseBuilder()

    # 6.1: 16 float64 convolutions over pads 0..3, batch 1 in a third of them, half with a stride
    # that does not divide; two float32; two grayscale filters.
    for index in range(16):
        pad, batch = index % 4, 1 if index % 3 == 0 else int(rng.integers(2, 4))
        x_shape, w_shape, stride = conv_shape(rng, pad, batch, divides=index % 2 == 0)
        x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        b = rng.standard_normal(w_shape[0])
        expected = reference.convolution(x, w, b, stride, pad)
        built.add("6.1", "convolution", (x, w, b), (stride, pad),
                  f"convolution x {x_shape}, w {w_shape}, stride {stride}, pad {pad}",
                  lambda out, e=expected: close(out, e, 1e-6, 1e-6))
    for pad in (0, 3):
        x_shape, w_shape, stride = conv_shape(rng, pad, 2, divides=False)
        x, w = (rng.standard_normal(shape).astype(np.float32) for shape in (x_shape, w_shape))
        b = rng.standard_normal(w_shape[0]).astype(np.float32)
        expected = reference.convolution(x, w, b, stride, pad).astype(np.float64)
        built.add("6.1", "convolution", (x, w, b), (stride, pad),
                  f"float32 convolution x {x_shape}, w {w_shape}, stride {stride}, pad {pad}",
                  lambda out, e=expected: close(out, e, 1e-4, 1e-4))
    for _ in range(2):
        w = rng.standard_normal((2, 3, 3, 3))
        expected = reference.grayscale_filter(w.copy())
        built.add("6.1", "grayscale_filter", (w,), (), "grayscale_filter on random filters",
                  lambda out, e=expected: close(out, e, 1e-12, 1e-12))

    # 6.2: every rank from 1 to 4, exact zeros and negative zeros among the values, float32 too;
    # every case holds negatives (a relu that returns its input passes none).
    for rank in (1, 2, 3, 4, 4, 2):
        shape = tuple(int(n) for n in rng.integers(2, 8, size=rank))
        x = rng.standard_normal(shape) * 10
        x.flat[::3] = 0.0
        x.flat[1::5] = -0.0
        x.flat[-1] = -1 - abs(x.flat[-1])
        if rank == 2:
            x = x.astype(np.float32)
        expected = reference.relu(x)
        built.add("6.2", "relu", (x,), (), f"relu {x.dtype} {shape}", lambda out, e=expected: exact(out, e))

    # 6.3: non-square pools, strides smaller, equal to and larger than the pool, batch 1, odd sizes.
    for index in range(12):
        pool_height, pool_width = (int(k) for k in rng.integers(1, 5, size=2))
        stride = int(rng.integers(1, 4))
        height = int(rng.integers(pool_height, 14)) | 1
        width = int(rng.integers(pool_width, 14)) | 1
        shape = (1 if index % 3 == 0 else int(rng.integers(2, 4)), int(rng.integers(1, 4)), height, width)
        x = rng.standard_normal(shape)
        param = {"pool_height": pool_height, "pool_width": pool_width, "stride": stride}
        expected = reference.max_pool(x, param)
        built.add("6.3", "max_pool", (x,), (param,),
                  f"max_pool x {shape}, pool {pool_height}x{pool_width}, stride {stride}",
                  lambda out, e=expected: exact(out, e))

    # 6.4: training statistics (the share dropped, overall and in every row; survivors scaled
    # by 1 / (1 - p)), p = 0 keeps everything, test mode is the identity.
    for p in (0.1, 0.35, 0.5, 0.75, 0.9, 0.0):
        x = rng.uniform(0.5, 1.5, size=(300, 400))
        built.add("6.4", "dropout", (x,), ("train", p), f"dropout train p={p} on {x.shape}",
                  lambda out, x=x, p=p: dropout_statistics(out, x, p))
    for shape, p in (((17,), 0.3), ((3, 5, 7), 0.9), ((2, 3, 4, 5), 0.5)):
        x = rng.standard_normal(shape)
        built.add("6.4", "dropout", (x,), ("test", p), f"dropout test p={p} on {shape}",
                  lambda out, x=x: exact(out, x))
    return built


def dropout_statistics(out, x, p):
    """"" when out is inverted dropout of x (all entries nonzero) with drop probability p."""
    if out.shape != x.shape:
        return f"output shape {out.shape}, expected {x.shape}"
    dropped = out == 0
    kept = ~dropped
    if not np.allclose(out[kept], x[kept] / (1 - p), rtol=1e-9, atol=0):
        return f"kept values are not x / (1 - p) = x / {1 - p:g}"
    share = dropped.mean()
    # Six standard deviations of the binomial share: a correct dropout fails once in ~10^9 gradings.
    tolerance = 6 * np.sqrt(p * (1 - p) / x.size) + 1e-12
    if abs(share - p) > tolerance:
        return f"dropped {share:.4f} of the units, expected {p} (within {tolerance:.4f})"
    row_tolerance = 6 * np.sqrt(p * (1 - p) / x.shape[1]) + 1e-12
    worst = np.abs(dropped.mean(axis=1) - p).max()
    if worst > row_tolerance:
        return f"the dropped share varies between rows (off by up to {worst:.3f}): the units are not dropped at random"
    return ""
