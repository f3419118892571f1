"""Facts for the written report: `make report` -> report/hw2_report.md.

    python hw2_report.py [--run runs/my_model] [--out report/hw2_report.md]

Model summaries (MNIST models 1 and 2, the 7.1 model, our own model), the best
validation and test accuracy, batch size and epochs of each trained model as
read from the run logs (evaluation_*.txt and the own model's run folder),
the curve PNGs, and the two formulas the handout asks for.
"""
import hw2_utils

import argparse
import json
import os
import re
import shutil

import numpy as np
import tensorflow as tf


def conv_output_shape(width, height, depth, num_filters, filter_size, stride, zero_padding):
    """Output (width, height, depth) of a conv layer with N filters F x F, stride S, padding Z.

    W' = floor((W - F + 2Z) / S) + 1, H' likewise, depth N; the input depth D
    only sets the filters' depth.
    """
    def side(size):
        return (size - filter_size + 2 * zero_padding) // stride + 1
    return side(width), side(height), num_filters


def conv_dense_dense_parameters(input_size, channels, num_filters, filter_size, stride, zero_padding,
                                dense1, dense2):
    """Trainable parameters of [Conv (no bias), Dense K1, Dense K2] on an M x M x C input.

    Conv: N F^2 C. Its output is O x O x N with O = floor((M - F + 2Z) / S) + 1,
    flattened into Dense 1: O^2 N K1 + K1. Dense 2: K1 K2 + K2.
    """
    side = (input_size - filter_size + 2 * zero_padding) // stride + 1
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
                                                     for k in ("widths", "activation")}),
    }
    for name, build in builders.items():
        with tf.Graph().as_default():
            summaries[name] = summary_text(build())
    return summaries


RUN_HEADER = re.compile(r"^(?P<name>.+?): (?P<examples>\d+) examples, batch (?P<batch>\d+), epochs \d+-(?P<epochs>\d+)$")
EPOCH_LINE = re.compile(r"^(?P<name>.+?) epoch (?P<epoch>\d+)/\d+ .*?(?:val_acc|public_acc) (?P<val>[0-9.]+)")


def runs_in_log(path):
    """name -> {batch, epochs, val_accs} of each training run printed in an evaluation log."""
    runs = {}
    if not os.path.exists(path):
        return runs
    for line in open(path):
        line = line.rstrip("\n")
        if (header := RUN_HEADER.match(line)):
            runs[header["name"]] = {"batch": int(header["batch"]), "epochs": int(header["epochs"]), "val": []}
        elif (epoch := EPOCH_LINE.match(line)) and epoch["name"] in runs:
            runs[epoch["name"]]["val"].append(float(epoch["val"]))
    return runs


def test_accuracies(path, pattern):
    return [float(v) for v in re.findall(pattern, open(path).read())] if os.path.exists(path) else []


def results_table(run_dir):
    rows = []
    mnist = runs_in_log("evaluation_mnist.txt")
    mnist_tests = test_accuracies("evaluation_mnist.txt", r"model \d: test accuracy ([0-9.]+)")
    for number, name in enumerate(("mnist1", "mnist2")):
        if name in mnist:
            run = mnist[name]
            test = f"{mnist_tests[number]:.4f}" if number < len(mnist_tests) else "n/a"
            rows.append((f"MNIST model {number + 1}", f"{max(run['val']):.4f} (validation)", test,
                         run["batch"], run["epochs"]))
    cifar = runs_in_log("evaluation_cifar.txt").get("cifar 7.1")
    cifar_test = test_accuracies("evaluation_cifar.txt", r"public-test accuracy ([0-9.]+)")
    if cifar:
        rows.append(("CIFAR 7.1 model (public test script)", "n/a (no validation split used)",
                     f"{cifar_test[-1]:.4f} (public test)" if cifar_test else "n/a", cifar["batch"], cifar["epochs"]))
    import hw2_cifar_my_model
    config_path = os.path.join(run_dir, "config.json")
    checkpoint = hw2_cifar_my_model.latest_checkpoint(run_dir)
    if os.path.exists(config_path) and checkpoint:
        config = json.load(open(config_path))
        history = json.load(open(os.path.join(checkpoint, "history.json")))
        rows.append((f"Own model ({config['preset']})", "n/a (trains on train + val)",
                     f"{history[-1]['val_acc']:.4f} (public test, final)", config["batch_size"], len(history)))
    lines = ["| model | best validation accuracy | test accuracy | batch size | epochs |",
             "| --- | --- | --- | --- | --- |"]
    lines += [f"| {' | '.join(str(cell) for cell in row)} |" for row in rows]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=os.path.join("runs", "my_model"), help="the own model's --logdir")
    parser.add_argument("--out", default=os.path.join("report", "hw2_report.md"))
    args = parser.parse_args(argv)
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    config_path = os.path.join(args.run, "config.json")
    preset = json.load(open(config_path))["preset"] if os.path.exists(config_path) else "fast"
    parts = ["# hw2 report: facts from the runs", "",
             "Figures are read from the evaluation logs and the own model's run folder.", "",
             "## Results", "", results_table(args.run), ""]
    curves = os.path.join(args.run, "curves.png")
    if os.path.exists(curves):
        shutil.copyfile(curves, os.path.join(out_dir, "own_model_curves.png"))
        parts += ["## Own model training curves", "", "![own model curves](own_model_curves.png)", ""]
    parts += ["## Model summaries", ""]
    for name, text in model_summaries(preset).items():
        parts += [f"### {name}", "", "```", text, "```", ""]
    parts.append(FORMULAS)
    hw2_utils.atomic_write_text(args.out, "\n".join(parts))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
