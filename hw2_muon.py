"""Muon for graph mode: Nesterov momentum whose update is orthogonalized, for convolution filters.

airbench94_muon's optimizer (Keller Jordan), built as TF1 update ops. For a filter W
(kh, kw, C_in, C_out) with gradient G, each step:

    buffer <- momentum * buffer + G                    (the momentum buffer, a variable)
    M      <- G + momentum * buffer                    (Nesterov)
    W      <- W * sqrt(C_out) / ||W||_F                (every filter set kept at one norm)
    W      <- W - learning_rate * orthogonalize(M)

orthogonalize(M) treats M as the (kh kw C_in, C_out) matrix of the filters (one column per
output channel; PyTorch's (C_out, C_in kh kw) is its transpose, and orthogonalizing commutes
with transposing) and runs the quintic Newton-Schulz iteration of `newton_schulz`, which
moves every singular value of the normalized matrix towards 1: the update has the direction
of the gradient's polar factor U V^T and no scale of its own.
"""
import numpy as np
import tensorflow as tf

# The quintic's coefficients: steepest slope at zero that still keeps the singular values within
# about [0.7, 1.2] after a few steps (airbench94_muon's choice, with 3 steps).
NEWTON_SCHULZ_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NEWTON_SCHULZ_STEPS = 3
EPSILON = 1e-7


def newton_schulz(matrix, steps=NEWTON_SCHULZ_STEPS, dtype=tf.float32):
    """An approximately orthogonal matrix with the singular vectors of `matrix` (rows x cols, a tensor).

    X = matrix / ||matrix||_F (every singular value in [0, 1]), worked on as its wide form
    (fewer rows than columns, so X X^T is the small Gram matrix); then `steps` times
    X <- a X + (b A + c A^2) X with A = X X^T, which maps each singular value s to
    a s + b s^3 + c s^5. Computed in `dtype` (bfloat16 where the CPU has fast bf16 matrix
    products), returned in the matrix's dtype.
    """
    a, b, c = NEWTON_SCHULZ_COEFFICIENTS
    tall = matrix.shape[0] > matrix.shape[1]
    x = tf.transpose(matrix) if tall else matrix
    x = tf.cast(x / (tf.norm(x) + EPSILON), dtype)
    for _ in range(steps):
        gram = tf.matmul(x, x, transpose_b=True)
        x = a * x + tf.matmul(b * gram + c * tf.matmul(gram, gram), x)
    x = tf.cast(x, matrix.dtype)
    return tf.transpose(x) if tall else x


def newton_schulz_numpy(matrix, steps=NEWTON_SCHULZ_STEPS):
    """`newton_schulz` in float64 numpy: the reference the tests hold the graph version to."""
    a, b, c = NEWTON_SCHULZ_COEFFICIENTS
    matrix = np.asarray(matrix, np.float64)
    x = matrix.T if matrix.shape[0] > matrix.shape[1] else matrix
    x = x / (np.linalg.norm(x) + EPSILON)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if matrix.shape[0] > matrix.shape[1] else x


def muon_update(weight, gradient, learning_rate, momentum, nesterov=True, dtype=tf.float32):
    """The op that takes one Muon step on `weight` (a (kh, kw, C_in, C_out) filter variable).

    gradient: its gradient tensor; learning_rate: scalar (tensor or float);
    dtype: the Newton-Schulz iteration's (`newton_schulz`). Creates the momentum
    buffer, a non-trainable variable `<weight>/muon_momentum` (zeros; saved in
    checkpoints with every other global variable).
    """
    out_channels = weight.shape[-1]
    with tf.compat.v1.variable_scope(weight.op.name, reuse=False):
        buffer = tf.compat.v1.get_variable("muon_momentum", weight.shape, weight.dtype.base_dtype,
                                           initializer=tf.compat.v1.zeros_initializer(), trainable=False)
    new_buffer = buffer.assign(momentum * buffer + gradient)
    direction = gradient + momentum * new_buffer if nesterov else new_buffer
    orthogonal = tf.reshape(newton_schulz(tf.reshape(direction, (-1, out_channels)), dtype=dtype), weight.shape)
    normalized = weight * (float(np.sqrt(out_channels)) / tf.norm(weight))
    return weight.assign(normalized - learning_rate * orthogonal)
