"""Images per second: our Session loop vs Keras `fit`, training the 7.1 model, same run.

    python bench/bench_train_loop.py [--images 12800] [--batch-size 64]

Both train the same architecture (hw2_cifar.build_keras_model) with RMSProp 1e-3
on the same standardized CIFAR-10-739 images, batch size and shuffling budget,
for 2 epochs; the second epoch is timed (the first includes graph warm-up).
Prints the ratio ours / fit (higher is better; goal >= 1.0).
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import hw2_utils  # noqa: E402
import hw2_cifar  # noqa: E402
import hw2_train  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def ours(train_set, batch_size):
    hw2_utils.exercise(andrew_username="bench", seed=0)
    session, _, history = hw2_cifar.train(train_set, epochs=2, batch_size=batch_size)
    session.close()
    return len(train_set.X) / (history[1]["seconds"] - history[0]["seconds"])


class EpochTimer(tf.keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.last = time.perf_counter() - self.start


def keras_fit(train_set, batch_size):
    tf.compat.v1.keras.backend.clear_session()
    hw2_utils.exercise(andrew_username="bench", seed=0)
    X = hw2_train.standardizer(train_set.X)(train_set.X)
    inputs = tf.keras.Input(shape=(32, 32, 3))
    model = hw2_cifar.build_keras_model(inputs, 10, is_training=tf.compat.v1.keras.backend.learning_phase())
    trainer = tf.keras.Model(model.inputs, model.outputs[0])
    trainer.compile(optimizer=tf.compat.v1.train.RMSPropOptimizer(1e-3),
                    loss=tf.keras.losses.CategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    timer = EpochTimer()
    trainer.fit(X, hw2_train.one_hot(train_set.Y), batch_size=batch_size, epochs=2, verbose=0,
                callbacks=[timer])
    return len(X) / timer.last


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12_800)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    train = hw2_utils.load_cifar739().train
    subset = hw2_utils.Domains(train.X[:args.images], train.Y[:args.images])
    fit_rate = keras_fit(subset, args.batch_size)
    # Our loop's run record goes to a folder of its own: runs/cifar_7_1 is the public script's.
    with tempfile.TemporaryDirectory(prefix="hw2-bench-runs-") as runs:
        os.environ["HW2_RUNS_DIR"] = runs
        our_rate = ours(subset, args.batch_size)
    print(f"7.1 model, {args.images} images, batch {args.batch_size}: ours {our_rate:.0f} img/s, "
          f"Keras fit {fit_rate:.0f} img/s, ratio {our_rate / fit_rate:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
