"""Part III 7.1 and 7.2."""
import hw2_utils
from hw2_utils import ANDREW_USERNAME, SEED

import tensorflow as tf

UPDATE_OPS = tf.compat.v1.GraphKeys.UPDATE_OPS


def build_keras_model(X, out_dim, is_training=True):
    inputs = tf.keras.Input(tensor=X)
    features = tf.keras.layers.Conv2D(32, 7, activation=tf.nn.relu, name="conv7")(inputs)
    norm = tf.keras.layers.BatchNormalization(name="norm")
    features = norm(features, training=is_training)
    features = tf.keras.layers.Flatten()(tf.keras.layers.MaxPool2D(pool_size=(2, 2))(features))
    hidden = tf.keras.layers.Dense(1024, activation=tf.nn.relu)(features)
    scores = tf.keras.layers.Dense(out_dim, name="scores")(hidden)
    probabilities = tf.keras.layers.Softmax(name="probabilities")(scores)
    tf.compat.v1.get_collection_ref(UPDATE_OPS).extend(norm.updates)
    return tf.keras.Model(inputs=inputs, outputs=[scores, probabilities])


def build_model(X, out_dim, is_training=True):
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    return tuple(build_keras_model(X, out_dim, is_training).outputs)


def build_loss_optimizer(Y, logit):
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    loss = tf.compat.v1.losses.softmax_cross_entropy(onehot_labels=Y, logits=logit)
    return loss, tf.compat.v1.train.RMSPropOptimizer(0.001)
