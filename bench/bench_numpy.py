"""Our numpy conv (forward and backward) / max-pool vs TensorFlow's, same inputs, same run.

    python bench/bench_numpy.py

TensorFlow is timed as a prepared graph (built once, input fed in NHWC, its own
layout); ours takes the course's NCHW input. Each figure is the best of
several repeats, so the ratio is ours / TensorFlow's (lower is better; the
goal is <= 1.25 for conv and <= 2 for max-pool). The backward conv is timed
against tf.gradients of tf.nn.conv2d with respect to input, filters and bias
(goal <= 2); ours excludes the forward pass, TF's graph recomputes nothing
it does not need.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import hw2_utils  # noqa: E402,F401
import hw2_numpy  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

REPEATS, CALLS = 7, 10


def best_time(thunk):
    """Best over REPEATS of the mean time of CALLS calls, in milliseconds."""
    thunk()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(CALLS):
            thunk()
        times.append((time.perf_counter() - start) / CALLS)
    return 1000 * min(times)


def tf_runner(build, *arrays_nhwc):
    """A thunk running the graph `build(*placeholders)` on the given NHWC arrays."""
    graph = tf.Graph()
    with graph.as_default():
        placeholders = [tf.compat.v1.placeholder(a.dtype, a.shape) for a in arrays_nhwc]
        output = build(*placeholders)
    session = tf.compat.v1.Session(graph=graph)
    feed = dict(zip(placeholders, arrays_nhwc))
    return lambda: session.run(output, feed)


def report(name, ours_ms, tf_ms):
    print(f"{name:<53} ours {ours_ms:8.2f} ms   tf {tf_ms:8.2f} ms   ratio {ours_ms / tf_ms:5.2f}x")


def main():
    rng = np.random.default_rng(0)
    conv_cases = [
        ("conv N=32 C=16 32x32 F=32 3x3 pad1 stride1", (32, 16, 32, 32), (32, 16, 3, 3), 1, 1),
        ("conv 7.1 model: N=64 C=3 32x32 F=32 7x7", (64, 3, 32, 32), (32, 3, 7, 7), 1, 0),
        ("conv N=32 C=64 16x16 F=64 3x3 pad1 stride2", (32, 64, 16, 16), (64, 64, 3, 3), 2, 1),
    ]
    print(f"numpy {np.__version__}, tensorflow {tf.__version__}, float32, best of {REPEATS}x{CALLS}")
    for name, x_shape, w_shape, stride, pad in conv_cases:
        x = rng.standard_normal(x_shape, dtype=np.float32)
        w = rng.standard_normal(w_shape, dtype=np.float32)
        b = rng.standard_normal(w_shape[0], dtype=np.float32)
        ours = best_time(lambda: hw2_numpy.convolution_forward(x, w, b, stride, pad)[0])
        theirs = best_time(tf_runner(
            lambda x, w: tf.nn.conv2d(x, w, stride, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) + b,
            x.transpose(0, 2, 3, 1).copy(), w.transpose(2, 3, 1, 0).copy()))
        report(name, ours, theirs)
    for name, x_shape, w_shape, stride, pad in conv_cases:
        x = rng.standard_normal(x_shape, dtype=np.float32)
        w = rng.standard_normal(w_shape, dtype=np.float32)
        b = rng.standard_normal(w_shape[0], dtype=np.float32)
        out, cache = hw2_numpy.convolution_forward(x, w, b, stride, pad)
        dout = rng.standard_normal(out.shape, dtype=np.float32)
        ours = best_time(lambda: hw2_numpy.convolution_backward(dout, cache))

        def gradients(x, w, dout):
            bias = tf.constant(b)
            out = tf.nn.conv2d(x, w, stride, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) + bias
            return tf.gradients(out, [x, w, bias], grad_ys=dout)
        theirs = best_time(tf_runner(gradients, x.transpose(0, 2, 3, 1).copy(), w.transpose(2, 3, 1, 0).copy(),
                                     dout.transpose(0, 2, 3, 1).copy()))
        report("backward " + name, ours, theirs)
    for name, x_shape, size, stride in [("max_pool N=32 C=32 32x32 2x2/2", (32, 32, 32, 32), 2, 2),
                                        ("max_pool N=64 C=32 26x26 2x2/2 (7.1 model)", (64, 32, 26, 26), 2, 2),
                                        ("max_pool N=32 C=16 32x32 3x3/2", (32, 16, 32, 32), 3, 2)]:
        x = rng.standard_normal(x_shape, dtype=np.float32)
        param = {"pool_height": size, "pool_width": size, "stride": stride}
        ours = best_time(lambda: hw2_numpy.max_pool_forward(x, param)[0])
        theirs = best_time(tf_runner(lambda x: tf.nn.max_pool2d(x, size, stride, "VALID"),
                                     x.transpose(0, 2, 3, 1).copy()))
        report(name, ours, theirs)


if __name__ == "__main__":
    main()
