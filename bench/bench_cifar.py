"""Own CIFAR model (7.3): epochs and training seconds to 83%, 90%, 94% public-test accuracy.

    python bench/bench_cifar.py                       train the default preset, then summarize
    python bench/bench_cifar.py --preset accurate     the 10-epoch wide preset
    python bench/bench_cifar.py --from-run runs/my_model   summarize a finished (or stopped) run
    python bench/bench_cifar.py --from-run runs/my_model --rescore
                                                      also re-score its last checkpoint: averaged vs
                                                      trained weights, with and without TTA

A training runs in this process (into --logdir, default runs/bench-PRESET,
started afresh), so the peak memory printed is the training's. Seconds are
training time as the run's history records it: evaluation excluded, summed
across resumes. Accuracy is the public test, with the model's moving-average
weights and flip test-time augmentation, scored after every epoch.
"""
import argparse
import json
import os
import resource
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import hw2_utils  # noqa: E402  (sets up TensorFlow before anything imports it)
import hw2_cifar_my_model  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

THRESHOLDS = (0.83, 0.90, 0.94)


def read_run(logdir):
    """(config dict, history list) of a run folder written by hw2_cifar_my_model."""
    folder = hw2_cifar_my_model.latest_checkpoint(logdir)
    if folder is None:
        raise SystemExit(f"error: {logdir} holds no finished epoch (no checkpoints/epoch-NNN folder)")
    with open(os.path.join(folder, "history.json")) as stream:
        history = json.load(stream)
    with open(os.path.join(logdir, "config.json")) as stream:
        config = json.load(stream)
    return config, history


def summarize(config, history):
    """Lines: one per threshold (first epoch and seconds reaching it), then the final accuracy."""
    lines = [f"preset {config['preset']}: widths {config['widths']}, {config['activation']}, "
             f"{config['epochs']} epochs, batch {config['batch_size']}, {config['train_examples']} train images"]
    for threshold in THRESHOLDS:
        reached = next((r for r in history if r["val_acc"] >= threshold), None)
        lines.append(f"  {threshold:.0%} public test: " + (
            f"epoch {reached['epoch']}, {reached['seconds']:.0f} s ({reached['seconds'] / 60:.1f} min)"
            if reached else "not reached"))
    last = history[-1]
    lines.append(f"  final: {last['val_acc']:.2%} after epoch {last['epoch']} of {config['epochs']}, "
                 f"{last['seconds']:.0f} s ({last['seconds'] / 60:.1f} min) of training, "
                 f"{last['seconds'] / last['epoch']:.0f} s/epoch")
    return lines


def rescore(logdir, config):
    """Lines: public-test accuracy of the last checkpoint with the moving-average and with the
    trained weights, each with the model's test-time augmentation and with the image alone."""
    my = hw2_cifar_my_model
    preset = {key: config[key] for key in my.PRESETS[config["preset"]]}
    preset["widths"] = tuple(preset["widths"])
    data, train_set, standardize, whitening = my.prepare_data(config["train_examples"])  # the run's images
    parts = my.build_graph(whitening, preset, -(-len(train_set.X) // preset["batch_size"]))
    my.restore_checkpoint(parts, logdir)
    with parts["graph"].as_default():
        single_view = tf.nn.softmax(parts["model"].output)

    def accuracy(output):
        scores = hw2_utils.session_predict(parts["session"], output, parts["X"], data.public_test.X, 500,
                                           preprocess=standardize)
        return float(np.mean(scores.argmax(1) == data.public_test.Y))

    trained = [accuracy(parts["probabilities"]), accuracy(single_view)]
    with my.averaged_weights(parts):
        averaged = [accuracy(parts["probabilities"]), accuracy(single_view)]
    parts["session"].close()
    return [f"  last checkpoint, public test: averaged weights {averaged[0]:.2%} with TTA, {averaged[1]:.2%} "
            f"without; trained weights {trained[0]:.2%} with TTA, {trained[1]:.2%} without"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(hw2_cifar_my_model.PRESETS), default="fast")
    parser.add_argument("--epochs", type=int, help="override the preset's epochs")
    parser.add_argument("--logdir", help="run folder (default runs/bench-PRESET); replaced")
    parser.add_argument("--from-run", metavar="DIR", help="summarize this run folder instead of training")
    parser.add_argument("--rescore", action="store_true",
                        help="with --from-run: re-score the last checkpoint, averaged vs trained weights")
    args = parser.parse_args(argv)
    if args.rescore and not args.from_run:
        parser.error("--rescore re-scores a finished run: give its folder with --from-run DIR")
    if args.from_run:
        config, history = read_run(args.from_run)
        lines = summarize(config, history) + (rescore(args.from_run, config) if args.rescore else [])
        print("\n".join(lines))
        return 0
    logdir = args.logdir or os.path.join(ROOT, "runs", f"bench-{args.preset}")
    shutil.rmtree(logdir, ignore_errors=True)
    command = ["--preset", args.preset, "--logdir", logdir, "--out", os.path.join(logdir, "submission.csv")]
    if args.epochs:
        command += ["--epochs", str(args.epochs)]
    status = hw2_cifar_my_model.main(command)
    if status:
        return status
    config, history = read_run(logdir)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print("\n".join(summarize(config, history) + [f"  peak memory (RSS) of the training process: {peak_mb:.0f} MB"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
