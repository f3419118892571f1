"""Backward passes, batch norm, softmax loss and update rules: numerical gradients and TensorFlow itself."""
import numpy as np
import pytest
import tensorflow as tf

import hw2_numpy as nn
import hw2_optim
from reference import (conv2d_nchw_op, evaluate_tf, max_pool_nchw_op, numerical_gradient, random_conv_case,
                       relative_error)

TOL = 1e-7


def tf_grads(build, arrays, dout):
    """Gradients of sum(build(*placeholders) * dout) with respect to every input, by tf.gradients."""
    def graph(*tensors):
        return tf.gradients(tf.reduce_sum(build(*tensors) * dout), list(tensors))
    return evaluate_tf(graph, *arrays)


@pytest.mark.parametrize("case_seed", range(6))
def test_convolution_backward(case_seed):
    rng = np.random.default_rng(500 + case_seed)
    x, w, b, stride, pad = random_conv_case(rng)
    out, cache = nn.convolution_forward(x, w, b, stride, pad)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = nn.convolution_backward(dout, cache)
    for ours, wrt in ((dx, x), (dw, w), (db, b)):
        def f(_):
            return nn.convolution_forward(x, w, b, stride, pad)[0]
        assert relative_error(ours, numerical_gradient(f, wrt, dout)) < TOL
    expected = tf_grads(lambda x, w, b: conv2d_nchw_op(x, w, b, stride, pad), (x, w, b), dout)
    for ours, theirs in zip((dx, dw, db), expected):
        assert relative_error(ours, theirs) < 1e-10


def test_convolution_backward_stride_not_dividing():
    rng = np.random.default_rng(9)
    x, w, b = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    for stride, pad in ((2, 0), (3, 1), (2, 2)):
        out, cache = nn.convolution_forward(x, w, b, stride, pad)
        dout = rng.standard_normal(out.shape)
        grads = nn.convolution_backward(dout, cache)
        expected = tf_grads(lambda x, w, b: conv2d_nchw_op(x, w, b, stride, pad), (x, w, b), dout)
        assert all(relative_error(a, e) < 1e-10 for a, e in zip(grads, expected))
        dx_num = numerical_gradient(lambda _: nn.convolution_forward(x, w, b, stride, pad)[0], x, dout)
        assert relative_error(grads[0], dx_num) < TOL


def test_relu_backward():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 5))
    out, cache = nn.relu_forward(x)
    dout = rng.standard_normal(out.shape)
    dx = nn.relu_backward(dout, cache)
    assert relative_error(dx, numerical_gradient(lambda x: nn.relu_forward(x)[0], x, dout)) < TOL
    assert relative_error(dx, tf_grads(tf.nn.relu, (x,), dout)[0]) < 1e-12


def test_relu_backward_at_exact_zeros_is_zero_like_tensorflow():
    """ReLU's kink: at x == 0 (and -0.0) the gradient is 0, as tf.nn.relu's; random normals never hit 0."""
    rng = np.random.default_rng(11)
    x = rng.integers(-2, 3, (3, 4, 5)).astype(np.float64)   # many exact zeros
    x[0, 0, :2] = -0.0
    out, cache = nn.relu_forward(x)
    dout = rng.standard_normal(out.shape) + 1.0
    dx = nn.relu_backward(dout, cache)
    assert np.all(dx[x == 0] == 0) and np.count_nonzero(x == 0) > 10
    np.testing.assert_array_equal(dx, tf_grads(tf.nn.relu, (x,), dout)[0])


def test_relu_forward_at_exact_zeros_and_ints():
    x = np.array([-1.0, -0.0, 0.0, 2.0])
    np.testing.assert_array_equal(nn.relu_forward(x)[0], [0, 0, 0, 2])
    ints = np.array([-3, 0, 4])
    out, cache = nn.relu_forward(ints)
    np.testing.assert_array_equal(nn.relu_backward(np.ones(3), cache), [0, 0, 1])


def distinct_values(rng, shape, gap=1e-3):
    """Random array whose entries all differ by at least `gap`.

    A centered difference with step h moves an entry by h; two window entries
    closer than that swap their order mid-difference and the numerical gradient
    of max-pooling is wrong, not ours (standard normals hit a 6e-6 gap here).
    """
    return rng.permutation(int(np.prod(shape))).reshape(shape) * gap - 0.5 * gap * np.prod(shape)


@pytest.mark.parametrize("pool_height, pool_width, stride", [(2, 2, 2), (3, 3, 2), (2, 3, 1), (3, 2, 3), (1, 1, 2)])
def test_max_pool_backward(pool_height, pool_width, stride):
    rng = np.random.default_rng(2)
    x = distinct_values(rng, (2, 3, 9, 10))
    param = {"pool_height": pool_height, "pool_width": pool_width, "stride": stride}
    out, cache = nn.max_pool_forward(x, param)
    dout = rng.standard_normal(out.shape)
    dx = nn.max_pool_backward(dout, cache)
    assert relative_error(dx, numerical_gradient(lambda x: nn.max_pool_forward(x, param)[0], x, dout)) < TOL
    tf_dx = tf_grads(lambda x: max_pool_nchw_op(x, pool_height, pool_width, stride), (x,), dout)[0]
    assert relative_error(dx, tf_dx) < 1e-12


def test_max_pool_backward_routes_ties_like_tensorflow():
    """Exact ties (common after ReLU: many zeros) send the gradient to one entry, the one TF picks."""
    rng = np.random.default_rng(12)
    x = np.maximum(rng.integers(-3, 3, (2, 2, 7, 8)), 0).astype(np.float64)
    param = {"pool_height": 3, "pool_width": 2, "stride": 2}
    out, cache = nn.max_pool_forward(x, param)
    dout = rng.standard_normal(out.shape)
    dx = nn.max_pool_backward(dout, cache)
    tf_dx = tf_grads(lambda x: max_pool_nchw_op(x, 3, 2, 2), (x,), dout)[0]
    np.testing.assert_allclose(dx, tf_dx, rtol=0, atol=1e-12)
    assert np.isclose(dx.sum(), dout.sum())  # every output's gradient lands exactly once


def test_dropout_backward_uses_the_forward_mask():
    rng = np.random.default_rng(3)
    x, dout = rng.standard_normal((20, 30)), rng.standard_normal((20, 30))
    out, cache = nn.dropout_forward(x, "train", 0.4, np.random.RandomState(5))
    dx = nn.dropout_backward(dout, cache)
    kept = out != 0
    np.testing.assert_allclose(dx[kept], dout[kept] / 0.6)
    assert np.all(dx[~kept] == 0)
    f = lambda x: nn.dropout_forward(x, "train", 0.4, np.random.RandomState(5))[0]  # noqa: E731
    assert relative_error(dx, numerical_gradient(f, x, dout)) < TOL
    _, test_cache = nn.dropout_forward(x, "test", 0.4)
    np.testing.assert_array_equal(nn.dropout_backward(dout, test_cache), dout)


def test_affine_and_softmax_loss_backward():
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((5, 2, 3)), rng.standard_normal((6, 4)), rng.standard_normal(4)
    y = rng.integers(0, 4, 5)
    out, cache = nn.affine_forward(x, w, b)
    loss, dlogits = nn.softmax_loss(out, y)
    dx, dw, db = nn.affine_backward(dlogits, cache)

    def loss_of(_):
        return nn.softmax_loss(nn.affine_forward(x, w, b)[0], y)[0]
    for ours, wrt in ((dx, x), (dw, w), (db, b)):
        assert relative_error(ours, numerical_gradient(loss_of, wrt)) < TOL
    expected_loss = evaluate_tf(lambda logits: tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)), out)
    assert abs(loss - expected_loss) < 1e-12
    big_loss, big_grad = nn.softmax_loss(out * 1e4, y)  # stable for huge logits
    assert np.isfinite(big_loss) and np.all(np.isfinite(big_grad))


@pytest.mark.parametrize("mode", ["train", "test"])
def test_spatial_batchnorm_backward(mode):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 5, 6)) * 2 + 1
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    stats = {"running_mean": rng.standard_normal(3), "running_var": rng.random(3) + 0.5}

    def forward(x, gamma, beta):
        return nn.spatial_batchnorm_forward(x, gamma, beta, {"mode": mode, **stats})[0]
    out, cache = nn.spatial_batchnorm_forward(x, gamma, beta, {"mode": mode, **stats})
    dout = rng.standard_normal(out.shape)
    grads = nn.spatial_batchnorm_backward(dout, cache)
    for ours, wrt in zip(grads, (x, gamma, beta)):
        assert relative_error(ours, numerical_gradient(lambda _: forward(x, gamma, beta), wrt, dout)) < TOL


def keras_batchnorm(x, gamma, beta, mean0, var0, dout, training, dtype):
    """Keras BatchNormalization(axis=1) on x: (out, dx, dgamma, dbeta, moving_mean, moving_var) after one call."""
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        layer = tf.keras.layers.BatchNormalization(axis=1, dtype=dtype)
        inputs = tf.constant(x.astype(dtype))
        outputs = layer(inputs, training=training)
        grads = tf.gradients(tf.reduce_sum(outputs * dout.astype(dtype)), [inputs, layer.gamma, layer.beta])
        session.run(tf.compat.v1.global_variables_initializer())
        for variable, value in zip((layer.gamma, layer.beta, layer.moving_mean, layer.moving_variance),
                                   (gamma, beta, mean0, var0)):
            variable.load(value.astype(dtype), session)
        results = session.run([outputs, *grads])
        session.run(layer.updates)
        return (*results, *session.run([layer.moving_mean, layer.moving_variance])), layer.fused


# Keras has two batch-norm paths that differ in one detail: the fused kernel (its
# default for float32) feeds the running variance the unbiased batch variance, the
# plain one (float64, or fused=False) the biased one. We match each. In float64 the
# tolerance is 1e-8, not 1e-15: Keras rounds its decay 1 - momentum through float32
# (relative errors 2e-10 and 2e-9 in the running mean and variance, 1e-15 elsewhere).
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("dtype, unbiased, tolerance", [("float64", False, 1e-8), ("float32", True, 2e-6)])
def test_spatial_batchnorm_matches_keras(training, dtype, unbiased, tolerance):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 3, 4, 5)) * 3 + 2
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    mean0, var0 = rng.standard_normal(3), rng.random(3) + 0.5
    dout = rng.standard_normal(x.shape)
    bn_param = {"mode": "train" if training else "test", "running_mean": mean0.copy(), "running_var": var0.copy(),
                "unbiased_running_var": unbiased}
    out, cache = nn.spatial_batchnorm_forward(x, gamma, beta, bn_param)
    ours = (out, *nn.spatial_batchnorm_backward(dout, cache), bn_param["running_mean"], bn_param["running_var"])
    expected, fused = keras_batchnorm(x, gamma, beta, mean0, var0, dout, training, dtype)
    assert fused == (dtype == "float32")  # the path this case is about
    for name, a, b in zip(("out", "dx", "dgamma", "dbeta", "running_mean", "running_var"), ours, expected):
        assert relative_error(a, b) < tolerance, name


def test_spatial_batchnorm_running_var_correction():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 2, 3, 3))
    count = 2 * 3 * 3
    for unbiased, factor in ((True, count / (count - 1)), (False, 1.0)):
        bn_param = {"mode": "train", "momentum": 0.0, "unbiased_running_var": unbiased}
        nn.spatial_batchnorm_forward(x, np.ones(2), np.zeros(2), bn_param)
        np.testing.assert_allclose(bn_param["running_var"], x.var(axis=(0, 2, 3)) * factor, rtol=1e-13)


OPTIMIZERS = {
    "sgd": (hw2_optim.sgd, {"learning_rate": 0.1},
            lambda: tf.compat.v1.train.GradientDescentOptimizer(0.1)),
    "momentum": (hw2_optim.momentum, {"learning_rate": 0.05, "momentum": 0.9},
                 lambda: tf.compat.v1.train.MomentumOptimizer(0.05, 0.9)),
    "nesterov": (hw2_optim.momentum, {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
                 lambda: tf.compat.v1.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True)),
    "rmsprop": (hw2_optim.rmsprop, {"learning_rate": 1e-3},
                lambda: tf.compat.v1.train.RMSPropOptimizer(1e-3)),
    "rmsprop_momentum": (hw2_optim.rmsprop, {"learning_rate": 1e-3, "momentum": 0.5},
                         lambda: tf.compat.v1.train.RMSPropOptimizer(1e-3, momentum=0.5)),
    "adam": (hw2_optim.adam, {"learning_rate": 1e-2}, lambda: tf.compat.v1.train.AdamOptimizer(1e-2)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_update_rule_matches_tf_optimizer(name, weight_decay):
    rule, settings, make_optimizer = OPTIMIZERS[name]
    rng = np.random.default_rng(7)
    w0 = rng.standard_normal((4, 5))
    gradients = rng.standard_normal((20, 4, 5))
    w, state = w0.copy(), None
    for g in gradients:
        w, state = rule(w, g, state, weight_decay=weight_decay, **settings)
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        variable = tf.Variable(w0)
        fed = tf.compat.v1.placeholder(tf.float64, w0.shape)
        step = make_optimizer().apply_gradients([(fed + weight_decay * variable, variable)])
        session.run(tf.compat.v1.global_variables_initializer())
        for g in gradients:
            session.run(step, {fed: g})
        expected = session.run(variable)
    np.testing.assert_allclose(w, expected, rtol=1e-6, atol=1e-6)


# Each rule's epsilon must matter somewhere: a large epsilon, and tiny gradients over many steps
# (RMSProp's mean square decays from 1 toward g^2, Adam's sqrt(v) falls to epsilon's size).
EPSILON_CASES = {
    "rmsprop large epsilon": (hw2_optim.rmsprop, {"learning_rate": 1e-3, "epsilon": 0.5},
                              lambda: tf.compat.v1.train.RMSPropOptimizer(1e-3, epsilon=0.5), 1.0, 30),
    "rmsprop tiny gradients": (hw2_optim.rmsprop, {"learning_rate": 1e-3},
                               lambda: tf.compat.v1.train.RMSPropOptimizer(1e-3), 1e-7, 400),
    "rmsprop momentum tiny": (hw2_optim.rmsprop, {"learning_rate": 1e-3, "momentum": 0.9, "epsilon": 1e-6},
                              lambda: tf.compat.v1.train.RMSPropOptimizer(1e-3, momentum=0.9, epsilon=1e-6),
                              1e-5, 300),
    "adam large epsilon": (hw2_optim.adam, {"learning_rate": 1e-2, "epsilon": 0.5},
                           lambda: tf.compat.v1.train.AdamOptimizer(1e-2, epsilon=0.5), 1.0, 30),
    "adam tiny gradients": (hw2_optim.adam, {"learning_rate": 1e-2},
                            lambda: tf.compat.v1.train.AdamOptimizer(1e-2), 1e-9, 100),
}


@pytest.mark.parametrize("name", sorted(EPSILON_CASES))
def test_update_rule_epsilon_matches_tf(name):
    """Relative tolerance 1e-4: TF keeps the hyperparameters (and Adam its beta powers) in float32,
    which drifts the float64 result by about 1e-5 over hundreds of steps. Without epsilon (1e-30)
    the same run must miss TF by over 1%, so the case really exercises epsilon."""
    rule, settings, make_optimizer, scale, steps = EPSILON_CASES[name]
    rng = np.random.default_rng(17)
    w0 = rng.standard_normal((3, 4))
    gradients = rng.standard_normal((steps, 3, 4)) * scale

    def run(**override):
        w, state = w0.copy(), None
        for g in gradients:
            w, state = rule(w, g, state, **{**settings, **override})
        return w
    w, without_epsilon = run(), run(epsilon=1e-30)
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        variable = tf.Variable(w0)
        fed = tf.compat.v1.placeholder(tf.float64, w0.shape)
        step = make_optimizer().apply_gradients([(fed, variable)])
        session.run(tf.compat.v1.global_variables_initializer())
        for g in gradients:
            session.run(step, {fed: g})
        expected = session.run(variable)
    moved, expected_moved = w - w0, expected - w0
    assert np.abs(expected_moved).max() > 0
    np.testing.assert_allclose(moved, expected_moved, rtol=1e-4, atol=1e-12 * np.abs(expected_moved).max())
    assert relative_error(without_epsilon - w0, expected_moved) > 1e-2


def test_bad_gradients_and_caches_are_refused():
    x = np.random.default_rng(8).standard_normal((2, 3, 6, 6))
    out, cache = nn.convolution_forward(x, np.ones((2, 3, 3, 3)), np.zeros(2), 1, 0)
    with pytest.raises(ValueError, match="dout has shape"):
        nn.convolution_backward(np.ones((2, 2, 5, 5)), cache)
    _, relu_cache = nn.relu_forward(x)
    with pytest.raises(ValueError, match="comes from relu_forward, not convolution_forward"):
        nn.convolution_backward(out, relu_cache)
    with pytest.raises(ValueError, match="Cache returned by max_pool_forward"):
        nn.max_pool_backward(x, {"x": x})
    with pytest.raises(ValueError, match="dw has shape"):
        hw2_optim.adam(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="state must be None or the dict"):
        hw2_optim.adam(np.zeros(3), np.zeros(3), state={"velocity": 0})


def test_numpy_demo_learns_mnist(capsys):
    """Issue 6's end-to-end check: numpy-only conv net, 5,000 images, one epoch of Adam: > 90% test accuracy."""
    accuracy = nn.demo()
    printed = capsys.readouterr().out
    assert accuracy > 0.90
    assert "step  200  loss" in printed and "test accuracy" in printed
