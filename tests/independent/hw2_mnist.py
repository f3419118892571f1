"""Part I with the Sequential API and model.fit."""
import time

import hw2_utils
from hw2_utils import ANDREW_USERNAME, SEED

import tensorflow as tf

splits = hw2_utils.Splits(*(hw2_utils.Domains(part.X.reshape(-1, 28, 28, 1), part.Y)
                            for part in hw2_utils.load_mnist()))


def build_model_mnist1():
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    return tf.keras.Sequential([
        tf.keras.layers.InputLayer(input_shape=(28, 28, 1)),
        tf.keras.layers.Conv2D(filters=32, kernel_size=5, activation=tf.nn.relu),
        tf.keras.layers.MaxPool2D(2),
        tf.keras.layers.Dropout(rate=0.2),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(units=128, activation=tf.nn.relu),
        tf.keras.layers.Dense(units=10, activation=tf.nn.softmax),
    ])


class EpochClock(tf.keras.callbacks.Callback):
    """Keeps the history the public tests read: validation accuracy and seconds per epoch."""

    def on_train_begin(self, logs=None):
        self.start, self.records = time.time(), []

    def on_epoch_end(self, epoch, logs=None):
        self.records.append({"epoch": epoch + 1, "val_acc": logs["val_accuracy"],
                             "seconds": time.time() - self.start})


def fit(model, X, Y, optimizer, epochs):
    clock = EpochClock()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, Y, batch_size=64, epochs=epochs, verbose=0, callbacks=[clock],
              validation_data=(splits.valid.X, splits.valid.Y))
    model.history_ = clock.records
    return model


def train_model_mnist1(model, X, Y):
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    return fit(model, X, Y, tf.keras.optimizers.Adam(), epochs=4)


def build_model_mnist2():
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    stack = [tf.keras.layers.InputLayer(input_shape=(28, 28, 1))]
    for width in (24, 48):
        stack += [tf.keras.layers.Conv2D(width, 3, padding="same", activation="elu"),
                  tf.keras.layers.Conv2D(width, 3, padding="same", activation="elu"),
                  tf.keras.layers.AveragePooling2D()]
    stack += [tf.keras.layers.GlobalAveragePooling2D(), tf.keras.layers.Dense(10, activation="softmax")]
    return tf.keras.Sequential(stack)


def train_model_mnist2(model, X, Y):
    hw2_utils.exercise(andrew_username=ANDREW_USERNAME, seed=SEED)
    return fit(model, X, Y, tf.keras.optimizers.Nadam(learning_rate=2e-3), epochs=8)
