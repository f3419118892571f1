"""The report's two formulas against real Keras models, and the report itself."""
import itertools

import pytest
import tensorflow as tf

import hw2_report

layers = tf.keras.layers
SETTINGS = [  # M, C, N, F, S, Z, K1, K2
    (28, 1, 32, 5, 1, 0, 128, 10), (32, 3, 16, 3, 2, 1, 64, 10), (17, 2, 8, 4, 3, 2, 20, 5),
    (9, 5, 3, 3, 1, 1, 7, 3), (32, 3, 32, 7, 1, 0, 1024, 10), (10, 4, 6, 2, 2, 0, 11, 2),
]


def keras_conv_dense_dense(M, C, N, F, S, Z, K1, K2):
    inputs = tf.keras.Input((M, M, C))
    x = layers.ZeroPadding2D(Z)(inputs)
    conv = layers.Conv2D(N, F, strides=S, use_bias=False)
    x = conv(x)
    x = layers.Flatten()(x)
    x = layers.Dense(K1)(x)
    return tf.keras.Model(inputs, layers.Dense(K2)(x)), conv


@pytest.mark.parametrize("setting", SETTINGS)
def test_parameter_formula_matches_count_params(setting):
    with tf.Graph().as_default():
        model, _ = keras_conv_dense_dense(*setting)
        assert hw2_report.conv_dense_dense_parameters(*setting) == model.count_params()


@pytest.mark.parametrize("W, H, D, N, F, S, Z", [
    (w, h, d, n, f, s, z) for (w, h, d, n), f, s, z in itertools.product(
        [(32, 32, 3, 16), (28, 20, 1, 8), (13, 17, 5, 4)], [1, 3, 5], [1, 2, 3], [0, 1, 2])])
def test_conv_output_formula_matches_keras(W, H, D, N, F, S, Z):
    with tf.Graph().as_default():
        inputs = tf.keras.Input((H, W, D))
        out = layers.Conv2D(N, F, strides=S)(layers.ZeroPadding2D(Z)(inputs))
        _, out_h, out_w, out_d = out.shape.as_list()
    assert hw2_report.conv_output_shape(W, H, D, N, F, S, Z) == (out_w, out_h, out_d)


def test_report_reads_figures_from_logs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evaluation_mnist.txt").write_text(
        "mnist1: 50000 examples, batch 128, epochs 1-2\n"
        "mnist1 epoch 1/2  loss 0.2  acc 0.9  val_acc 0.9700  time 5.0s\n"
        "mnist1 epoch 2/2  loss 0.1  acc 0.95  val_acc 0.9810  time 9.0s\n"
        "model 1: test accuracy 0.9801\n"
        "mnist2: 50000 examples, batch 64, epochs 1-3\n"
        "mnist2 epoch 1/3  loss 0.2  acc 0.9  val_acc 0.9900  time 5.0s\n"
        "mnist2 epoch 2/3  loss 0.2  acc 0.9  val_acc 0.9950  time 5.0s\n"
        "mnist2 epoch 3/3  loss 0.2  acc 0.9  val_acc 0.9940  time 5.0s\n"
        "model 2: test accuracy 0.9930\n")
    table = hw2_report.results_table(str(tmp_path / "no-run"))
    assert "| MNIST model 1 | 0.9810 (validation) | 0.9801 | 128 | 2 |" in table
    assert "| MNIST model 2 | 0.9950 (validation) | 0.9930 | 64 | 3 |" in table
