"""Part III 7.1 and 7.2: the handout's CIFAR-10 model and its RMSProp optimizer, in graph mode.

    python hw2_cifar.py --epochs 1     train on CIFAR-10-739 train, print public-test accuracy
"""
import hw2_utils
from hw2_utils import ANDREW_USERNAME, SEED

import argparse
import sys

import tensorflow as tf

import hw2_train

layers = tf.keras.layers
UPDATE_OPS = tf.compat.v1.GraphKeys.UPDATE_OPS
RUN_NAME = "cifar_7_1"


def build_keras_model(X, out_dim, is_training=True):
    """The 7.1 model as a Keras functional model on the symbolic input X (None, 32, 32, 3).

    X: a placeholder (wrapped with `tf.keras.Input(tensor=X)`) or a `tf.keras.Input`.

    Layers (8 with the input layer): Input, Conv2D 32 7x7 stride 1 relu (valid),
    BatchNormalization (batch statistics when `is_training`, a Python bool or a
    boolean scalar tensor), MaxPooling 2x2 stride 2, Flatten, Dense 1024 relu,
    Dense out_dim (logits), Softmax (probits). Outputs [logit, probit], each
    (None, out_dim) float32; 5,553,866 trainable parameters for out_dim=10.
    The batch-norm moving-average updates are added to UPDATE_OPS, so the TF1
    recipe `with tf.control_dependencies(get_collection(UPDATE_OPS))` trains them.
    """
    if X.shape.rank != 4 or tuple(X.shape[1:]) != (32, 32, 3):
        raise ValueError(f"X must be a (None, 32, 32, 3) tensor of images, got shape {X.shape}")
    if isinstance(is_training, tf.Tensor) and is_training.dtype != tf.bool:
        raise ValueError(f"is_training must be a Python bool or a boolean tensor, got {is_training.dtype}")
    is_keras_input = getattr(X, "_keras_history", None) is not None
    inputs = X if is_keras_input else tf.keras.Input(tensor=X)
    # BEGIN SOLUTION 7.1
    x = layers.Conv2D(32, (7, 7), strides=1, activation="relu")(inputs)
    batch_norm = layers.BatchNormalization()
    x = batch_norm(x, training=is_training)
    x = layers.MaxPooling2D(pool_size=2, strides=2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1024, activation="relu")(x)
    logit = layers.Dense(out_dim)(x)
    probit = layers.Softmax()(logit)
    # Keras keeps these only in layer.updates; without them inference would use the
    # initial statistics (mean 0, variance 1) forever.
    for update in batch_norm.updates:
        tf.compat.v1.add_to_collection(UPDATE_OPS, update)
    return tf.keras.Model(inputs, [logit, probit], name="cifar_7_1")
    # END SOLUTION


def build_model(X, out_dim, is_training=True):
    """7.1: build the handout's model on X (None, 32, 32, 3) float32; returns (logit, probit).

    logit, probit: (None, out_dim) float32 tensors; probit = softmax(logit).
    See `build_keras_model` for the layers.
    """
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    model = build_keras_model(X, out_dim, is_training)
    logit, probit = model.outputs
    return logit, probit


def build_loss_optimizer(Y, logit):
    """7.2: (mean_loss, optimizer) for one-hot labels Y (None, K) and logits (None, K).

    mean_loss: scalar mean softmax cross-entropy, computed from the logits (stable
    for confident predictions, unlike log(probit)); optimizer:
    tf.compat.v1.train.RMSPropOptimizer(learning_rate=1e-3).
    """
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    if Y.shape.rank != 2 or logit.shape.rank != 2:
        raise ValueError(f"Y and logit must be (None, K) one-hot labels and logits, got {Y.shape} and {logit.shape}")
    # BEGIN SOLUTION 7.2
    mean_loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=tf.stop_gradient(Y), logits=logit))
    optimizer = tf.compat.v1.train.RMSPropOptimizer(learning_rate=1e-3)
    return mean_loss, optimizer
    # END SOLUTION


def train(train_set, epochs=1, batch_size=64, evaluate_on=None):
    """Train the 7.1 model with the 7.2 train step on train_set (Domains of uint8 X, int Y).

    Inputs are standardized per channel with train_set's statistics. Without it
    RMSProp drives the conv activations to tiny, fast-changing values whose
    moving averages never match them, and inference accuracy falls to ~20%
    while training accuracy is ~43% (measured after one epoch).
    Returns (session, tensors, history): tensors is a dict of the graph's
    placeholders and outputs plus `preprocess` (uint8 batch -> model input);
    `evaluate_on` (Domains) is scored after every epoch. The run's record is
    written to runs/cifar_7_1/run.json.
    """
    preprocess = hw2_train.standardizer(train_set.X)
    graph = tf.Graph()
    with graph.as_default():
        X = tf.compat.v1.placeholder(tf.float32, (None, 32, 32, 3), name="X")
        Y = tf.compat.v1.placeholder(tf.float32, (None, 10), name="Y")
        is_training = tf.compat.v1.placeholder_with_default(False, (), name="is_training")
        logit, probit = build_model(X, 10, is_training)
        mean_loss, optimizer = build_loss_optimizer(Y, logit)
        with tf.control_dependencies(tf.compat.v1.get_collection(UPDATE_OPS)):
            train_step = optimizer.minimize(mean_loss)
        correct = tf.equal(tf.argmax(logit, 1), tf.argmax(Y, 1))
        session = tf.compat.v1.Session(graph=graph)
        session.run(tf.compat.v1.global_variables_initializer())
    evaluate = None
    if evaluate_on is not None:
        def evaluate(epoch):
            return hw2_train.session_accuracy(session, probit, X, evaluate_on.X, evaluate_on.Y,
                                              preprocess=preprocess)
    batches = hw2_train.ShuffledBatches(train_set.X, hw2_train.one_hot(train_set.Y), batch_size,
                                        preprocess=preprocess)   # order seeded from exercise()
    history = hw2_train.train_recorded(session, train_step, X, Y, batches, optimizer=optimizer, name=RUN_NAME,
                                       epochs=epochs, loss=mean_loss, correct=correct,
                                       train_feed={is_training: True}, evaluate=evaluate)
    tensors = {"X": X, "Y": Y, "is_training": is_training, "logit": logit, "probit": probit,
               "mean_loss": mean_loss, "train_step": train_step, "preprocess": preprocess}
    return session, tensors, history


def main(argv=None):
    parser = argparse.ArgumentParser(description="Train the 7.1 model with RMSProp 1e-3 (7.2).")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    data = hw2_utils.load_cifar739()
    session, tensors, history = train(data.train, args.epochs, args.batch_size, evaluate_on=data.val)
    public = hw2_train.session_accuracy(session, tensors["probit"], tensors["X"], data.public_test.X,
                                        data.public_test.Y, preprocess=tensors["preprocess"])
    print(f"7.1 model: {args.epochs} epoch(s), batch {args.batch_size}: "
          f"public-test accuracy {public:.4f}, training time {history[-1]['seconds']:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
