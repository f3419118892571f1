"""The report's two formulas against real Keras models, and the report itself."""
import itertools

import pytest
import tensorflow as tf

import hw2_report
import hw2_train

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


def history(val_accs):
    return [{"epoch": i + 1, "loss": 0.1, "acc": 0.9, "val_acc": v, "seconds": 5.0 * (i + 1)}
            for i, v in enumerate(val_accs)]


def test_report_reads_figures_from_run_records(tmp_path, monkeypatch):
    """Every figure comes from runs/<name>/run.json; nothing is parsed out of printed text."""
    monkeypatch.setenv("HW2_RUNS_DIR", str(tmp_path))
    hw2_train.write_run_record(hw2_train.run_folder("mnist1"), {"batch_size": 128, "epochs": 2},
                               history([0.97, 0.981]), {"test_acc": 0.9801})
    hw2_train.write_run_record(hw2_train.run_folder("mnist2"), {"batch_size": 64, "epochs": 3},
                               history([0.99, 0.995, 0.994]), {"test_acc": 0.993})
    hw2_train.write_run_record(hw2_train.run_folder("cifar_7_1"), {"batch_size": 64, "epochs": 1},
                               history([None]), {"public_test_acc": 0.46})
    own = tmp_path / "own"
    hw2_train.write_run_record(str(own), {"preset": "fast", "batch_size": 512, "epochs": 2},
                               history([0.8, 0.9]), {"public_acc": 0.9})
    table = hw2_report.results_table(str(own))
    assert "| MNIST model 1 | 0.9810 (validation) | 0.9801 (test) | 128 | 2 |" in table
    assert "| MNIST model 2 | 0.9950 (validation) | 0.9930 (test) | 64 | 3 |" in table
    assert "| CIFAR 7.1 model (public test script) | n/a (no validation split used) | 0.4600 (public test) | 64 | 1 |" in table
    assert "| Own model (fast) | n/a (trains on train + val) | 0.9000 (public test, final) | 512 | 2 |" in table
    assert "| CIFAR" in hw2_report.results_table(str(tmp_path / "no-run")) and "Own model" not in \
        hw2_report.results_table(str(tmp_path / "no-run"))
