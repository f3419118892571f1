"""Facts for the written report: `make report` -> report/hw2_report.md.

    python hw2_report.py [--run runs/my_model] [--out report/hw2_report.md]

Model summaries (MNIST models 1 and 2, the 7.1 model, our own model), the best
validation and test accuracy, batch size and epochs of each trained model as
read from the run records (runs/<name>/run.json, written by every training:
the public test scripts' and the own model's), the curve PNGs, and the two
formulas the handout asks for.
"""
import hw2_utils

import argparse
import os
import shutil
import sys

import numpy as np
import tensorflow as tf

import hw2_train
from hw2_numpy import output_size


def conv_output_shape(width, height, depth, num_filters, filter_size, stride, zero_padding):
    """Output (width, height, depth) of a conv layer with N filters F x F, stride S, padding Z.

    W' = floor((W - F + 2Z) / S) + 1, H' likewise, depth N; the input depth D
    only sets the filters' depth.
    """
    return (output_size(width, filter_size, stride, zero_padding),
            output_size(height, filter_size, stride, zero_padding), num_filters)


def conv_dense_dense_parameters(input_size, channels, num_filters, filter_size, stride, zero_padding,
                                dense1, dense2):
    """Trainable parameters of [Conv (no bias), Dense K1, Dense K2] on an M x M x C input.

    Conv: N F^2 C. Its output is O x O x N with O = floor((M - F + 2Z) / S) + 1,
    flattened into Dense 1: O^2 N K1 + K1. Dense 2: K1 K2 + K2.
    """
    side = output_size(input_size, filter_size, stride, zero_padding)
    return (num_filters * filter_size ** 2 * channels
            + side ** 2 * num_filters * dense1 + dense1
            + dense1 * dense2 + dense2)


FORMULAS = r"""
## Formulas

**Conv output size.** An image W x H x D through a conv layer with N filters of
size F (F x F x D), stride S and zero padding Z gives

    W' = floor((W - F + 2Z) / S) + 1,   H' = floor((H - F + 2Z) / S) + 1,   depth N.

**Trainable parameters of [Conv, Dense1, Dense2]** on an M x M x C input, N
filters of size F, stride S, padding Z, no conv bias, dense sizes K1 and K2,
with O = floor((M - F + 2Z) / S) + 1:

    N F^2 C  +  (O^2 N K1 + K1)  +  (K1 K2 + K2)

Both are checked in `tests/test_report.py` against `count_params()` and the
output shapes of real Keras models over several settings.
"""


def summary_text(model):
    lines = []
    model.summary(print_fn=lines.append, line_length=90)
    return "\n".join(lines)


def model_summaries(own_preset):
    """name -> model.summary() text of the four models, each built in a fresh graph."""
    import hw2_cifar
    import hw2_cifar_my_model
    import hw2_mnist
    summaries = {}
    builders = {
        "MNIST model 1": hw2_mnist.build_model_mnist1,
        "MNIST model 2": hw2_mnist.build_model_mnist2,
        "CIFAR 7.1 model": lambda: hw2_cifar.build_keras_model(
            tf.compat.v1.placeholder(tf.float32, (None, 32, 32, 3)), 10, False),
        f"Own model ({own_preset} preset)": lambda: hw2_cifar_my_model.build_model(
            tf.compat.v1.placeholder(tf.float32, (None, 32, 32, 3)), False,
            np.zeros((2, 2, 3, 24), np.float32), **{k: hw2_cifar_my_model.PRESETS[own_preset][k]
                                                     for k in ("widths", "activation", "head")}),
    }
    for name, build in builders.items():
        with tf.Graph().as_default():
            summaries[name] = summary_text(build())
    return summaries


def results_table(own_run):
    """Markdown table: each trained model's best validation and test accuracy, batch size, epochs,
    from the run records of the public test scripts' trainings and of the own model (folder own_run)."""
    import hw2_cifar
    runs = [("MNIST model 1", hw2_train.run_folder("mnist1"), "test_acc", "test"),
            ("MNIST model 2", hw2_train.run_folder("mnist2"), "test_acc", "test"),
            ("CIFAR 7.1 model (public test script)", hw2_train.run_folder(hw2_cifar.RUN_NAME), "public_test_acc",
             "public test"),
            ("Own model", own_run, "public_acc", "public test, final")]
    rows = []
    for label, folder, test_key, test_name in runs:
        record = hw2_train.read_run_record(folder)
        if record is None or not record["history"]:
            continue
        config, history = record["config"], record["history"]
        validation = [r["val_acc"] for r in history if r["val_acc"] is not None]
        if "preset" in config:   # the own model trains on train + val and scores the public test every few epochs
            label, best = f"{label} ({config['preset']})", "n/a (trains on train + val)"
        else:
            best = f"{max(validation):.4f} (validation)" if validation else "n/a (no validation split used)"
        test = record["final"].get(test_key)
        rows.append((label, best, f"{test:.4f} ({test_name})" if test is not None else "n/a",
                     config["batch_size"], len(history)))
    lines = ["| model | best validation accuracy | test accuracy | batch size | epochs |",
             "| --- | --- | --- | --- | --- |"]
    lines += [f"| {' | '.join(str(cell) for cell in row)} |" for row in rows]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=os.path.join("runs", "my_model"), help="the own model's run folder")
    parser.add_argument("--out", default=os.path.join("report", "hw2_report.md"))
    args = parser.parse_args(argv)
    out_dir = os.path.dirname(os.path.abspath(args.out))
    try:
        own = hw2_train.read_run_record(args.run)
        table = results_table(args.run)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    preset = own["config"]["preset"] if own else "fast"
    parts = ["# hw2 report: facts from the runs", "",
             "Figures are read from the run records (runs/<name>/run.json).", "",
             "## Results", "", table, ""]
    curves = os.path.join(args.run, "curves.png")
    os.makedirs(out_dir, exist_ok=True)
    if os.path.exists(curves):
        shutil.copyfile(curves, os.path.join(out_dir, "own_model_curves.png"))
        parts += ["## Own model training curves", "", "![own model curves](own_model_curves.png)", ""]
    parts += ["## Model summaries", ""]
    for name, text in model_summaries(preset).items():
        parts += [f"### {name}", "", "```", text, "```", ""]
    parts.append(FORMULAS)
    hw2_utils.atomic_write_text(args.out, "\n".join(parts))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
