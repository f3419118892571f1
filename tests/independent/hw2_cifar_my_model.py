"""7.3: a small VGG trained with Adam in a Session, predictions written with save_csv."""
import sys

import hw2_utils
from hw2_utils import ANDREW_USERNAME, SEED

import numpy as np
import tensorflow as tf

from hw2_data import PRIVATE_TEST_SIZE


def save_csv(predictions, path="submission.csv", expected_length=PRIVATE_TEST_SIZE):
    import pandas as pd
    pd.DataFrame({"Id": np.arange(expected_length), "Category": predictions}).to_csv(path, index=False)


def vgg(images, training):
    net = images
    for block, width in enumerate((64, 128, 256)):
        for repeat in range(2):
            net = tf.compat.v1.layers.conv2d(net, width, 3, padding="same", name=f"conv{block}_{repeat}")
            net = tf.nn.relu(tf.compat.v1.layers.batch_normalization(net, training=training,
                                                                     name=f"bn{block}_{repeat}"))
        net = tf.nn.max_pool2d(net, 2, 2, "VALID")
    net = tf.reduce_mean(net, axis=[1, 2])
    net = tf.compat.v1.layers.dropout(net, 0.3, training=training)
    return tf.compat.v1.layers.dense(net, 10)


def main():
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    data = hw2_utils.load_cifar739()
    mean, std = data.train.X.mean(axis=(0, 1, 2)), data.train.X.std(axis=(0, 1, 2))
    images = tf.compat.v1.placeholder(tf.float32, (None, 32, 32, 3))
    labels = tf.compat.v1.placeholder(tf.int64, (None,))
    training = tf.compat.v1.placeholder_with_default(False, ())
    logits = vgg(images, training)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    with tf.control_dependencies(tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)):
        step = tf.compat.v1.train.AdamOptimizer(1e-3).minimize(loss)
    with tf.compat.v1.Session() as session:
        session.run(tf.compat.v1.global_variables_initializer())
        for epoch in range(15):
            order = np.random.permutation(len(data.train.X))
            for start in range(0, len(order), 128):
                batch = order[start:start + 128]
                flip = np.random.rand(len(batch)) < 0.5
                x = np.where(flip[:, None, None, None], data.train.X[batch][:, :, ::-1], data.train.X[batch])
                session.run(step, {images: (x - mean) / std, labels: data.train.Y[batch], training: True})
            guesses = np.concatenate([session.run(logits, {images: (data.public_test.X[i:i + 500] - mean) / std})
                                      .argmax(1) for i in range(0, len(data.public_test.X), 500)])
            print(f"epoch {epoch + 1}: public-test accuracy {np.mean(guesses == data.public_test.Y):.4f}")
        private = np.concatenate([session.run(logits, {images: (data.private_test.X[i:i + 500] - mean) / std})
                                  .argmax(1) for i in range(0, len(data.private_test.X), 500)])
    save_csv(private)
    return 0


if __name__ == "__main__":
    sys.exit(main())
