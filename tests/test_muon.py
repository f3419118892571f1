"""hw2_muon: the Newton-Schulz iteration against numpy and against what it promises, and Muon's steps
against updates computed by hand."""
import numpy as np
import pytest

import hw2_utils  # noqa: F401  (sets TensorFlow up)
import hw2_muon
import tensorflow as tf
from reference import evaluate_tf

A, B, C = 3.4445, -4.7750, 2.0315   # airbench94_muon's quintic, written out: never read back from hw2_muon


def quintic_three_times(s):
    """Where one singular value s of the normalized matrix goes: s -> a s + b s^3 + c s^5, three times."""
    for _ in range(3):
        s = A * s + B * s ** 3 + C * s ** 5
    return s


@pytest.mark.parametrize("shape", [(64, 576), (576, 64), (32, 32), (10, 3), (1, 7)])
def test_newton_schulz_matches_numpy(shape):
    matrix = np.random.RandomState(sum(shape)).standard_normal(shape).astype(np.float32)
    graph = evaluate_tf(hw2_muon.newton_schulz, matrix)
    np.testing.assert_allclose(graph, hw2_muon.newton_schulz_numpy(matrix), rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("shape", [(48, 144), (256, 2304), (9, 4)])
def test_singular_values_land_in_the_promised_band_with_the_singular_vectors_kept(shape):
    """Singular values of at least 2% of the Frobenius norm end in [0.68, 1.21] after three steps (the
    quintic's image of [0.02, 1]), and the singular vectors are the input's: an orthogonalized update."""
    rng = np.random.RandomState(shape[0])
    rank = min(shape)
    u, _ = np.linalg.qr(rng.standard_normal((shape[0], rank)))
    v, _ = np.linalg.qr(rng.standard_normal((shape[1], rank)))
    singular = rng.uniform(0.3, 1.0, rank) * 7.0         # any scale: the iteration normalizes first
    relative = singular / np.linalg.norm(singular)
    assert relative.min() >= 0.02                          # the premise of the band
    matrix = (u * singular) @ v.T
    out = evaluate_tf(hw2_muon.newton_schulz, matrix.astype(np.float32)).astype(np.float64)
    np.testing.assert_allclose(u.T @ out @ v, np.diag(quintic_three_times(relative)), atol=2e-3)
    found = np.linalg.svd(out, compute_uv=False)
    assert found.min() >= 0.68 - 2e-3 and found.max() <= 1.21 + 2e-3, found


def test_bfloat16_iteration_stays_close_to_float32():
    matrix = np.random.RandomState(3).standard_normal((64, 576)).astype(np.float32)
    exact = evaluate_tf(hw2_muon.newton_schulz, matrix)
    rounded = evaluate_tf(lambda m: hw2_muon.newton_schulz(m, dtype=tf.bfloat16), matrix)
    assert rounded.dtype == np.float32
    # bfloat16 keeps 8 bits of mantissa: the update's direction holds (3% off, measured), and so does
    # the band of its singular values
    assert np.linalg.norm(rounded - exact) < 0.05 * np.linalg.norm(exact)
    # ... and it was computed in bfloat16: float32's rounding alone would leave it within 1e-5
    assert np.linalg.norm(rounded - exact) > 0.005 * np.linalg.norm(exact)
    found = np.linalg.svd(rounded, compute_uv=False)
    assert 0.5 < found.min() and found.max() < 1.3, found


def test_two_muon_steps_equal_the_hand_computed_updates():
    """A 1x1 conv of 2 channels in and out, gradients diagonal: the iteration acts on each diagonal
    entry alone, so every number is a scalar computation."""
    weight0 = np.array([[3.0, 1.0], [0.0, 2.0]], np.float32).reshape(1, 1, 2, 2)
    grad1 = np.diag([3.0, 4.0]).astype(np.float32).reshape(1, 1, 2, 2)
    grad2 = np.diag([1.0, -2.0]).astype(np.float32).reshape(1, 1, 2, 2)
    lr, momentum = 0.1, 0.6
    with tf.Graph().as_default():
        weight = tf.compat.v1.get_variable("conv", initializer=weight0)
        gradient = tf.compat.v1.placeholder(tf.float32, weight0.shape)
        step = hw2_muon.muon_update(weight, gradient, lr, momentum)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            after1 = session.run(step, {gradient: grad1})
            after2 = session.run(step, {gradient: grad2})

    def orthogonalized(diagonal):
        diagonal = np.asarray(diagonal, np.float64)
        return np.diag(np.sign(diagonal) * quintic_three_times(np.abs(diagonal) / np.linalg.norm(diagonal)))

    # step 1: buffer = g1; Nesterov direction g1 + 0.6 g1 = diag(4.8, 6.4), normalized diag(0.6, 0.8)
    w = weight0.reshape(2, 2).astype(np.float64)
    w1 = w * np.sqrt(2) / np.linalg.norm(w) - lr * orthogonalized([4.8, 6.4])
    np.testing.assert_allclose(after1.reshape(2, 2), w1, rtol=1e-5, atol=1e-6)
    # step 2: buffer = 0.6 diag(3, 4) + diag(1, -2) = diag(2.8, 0.4); direction g2 + 0.6 buffer
    w2 = w1 * np.sqrt(2) / np.linalg.norm(w1) - lr * orthogonalized([1 + 0.6 * 2.8, -2 + 0.6 * 0.4])
    np.testing.assert_allclose(after2.reshape(2, 2), w2, rtol=1e-5, atol=1e-6)
