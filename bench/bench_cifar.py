"""Own CIFAR model (7.3): a whole training's accuracy, training time and wall clock, on this machine.

    python bench/bench_cifar.py                       train the default preset, then summarize
    python bench/bench_cifar.py --preset accurate     the 8-epoch wide preset
    python bench/bench_cifar.py --preset sgd          the baseline: airbench94's SGD recipe
    python bench/bench_cifar.py --run runs/my_model --summarize   summarize a finished (or stopped) run
    python bench/bench_cifar.py --run runs/my_model --rescore
                                                      also re-score its last checkpoint: trained (and
                                                      averaged) weights, with and without TTA

A training runs in this process (into --run, default runs/bench-PRESET, which
must not hold a run yet), so the peak memory printed is the training's. Seconds are
training time as the run's history records it: evaluation excluded, summed
across resumes. Accuracy is the public test, scored every few epochs with one view
and after the last with the model's test-time augmentation (so "by epoch N" is the
first scored epoch at the threshold); the wall clock, start to CSV, is printed against
the training time, and the machine next to it.
"""
import argparse
import os
import resource
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import hw2_utils  # noqa: E402,F401  (sets up TensorFlow before anything imports it)
import hw2_cifar_my_model  # noqa: E402
import hw2_precision  # noqa: E402
import hw2_train  # noqa: E402
import numpy as np  # noqa: E402

THRESHOLDS = (0.83, 0.90, 0.94)


def read_run(run):
    """(config, history, final) of the run record in folder `run` (hw2_train.read_run_record)."""
    try:
        record = hw2_train.read_run_record(run)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from error
    if record is None or not record["history"]:
        raise SystemExit(f"error: {run} holds no finished epoch (no run.json with a history)")
    return record["config"], record["history"], record["final"]


def summarize(config, history, final=None):
    """Lines: one per threshold (first scored epoch and seconds reaching it), the final accuracy, and
    (from the run record's `final`) the wall clock from start to CSV against the training time."""
    lines = [f"preset {config['preset']}: widths {config['widths']}, {config['activation']}, "
             f"{config.get('optimizer', 'sgd')}, {config['epochs']} epochs, batch {config['batch_size']}, "
             f"{config['train_examples']} train images, seed {config.get('seed')}, "
             f"precision {config.get('precision', 'float32')}"]
    for threshold in THRESHOLDS:
        reached = next((r for r in history if r["val_acc"] is not None and r["val_acc"] >= threshold), None)
        lines.append(f"  {threshold:.0%} public test: " + (
            f"by epoch {reached['epoch']}, {reached['seconds']:.0f} s ({reached['seconds'] / 60:.1f} min)"
            if reached else "not reached"))
    last = history[-1]
    lines.append(f"  final: {last['val_acc']:.2%} after epoch {last['epoch']} of {config['epochs']}, "
                 f"{last['seconds']:.0f} s ({last['seconds'] / 60:.1f} min) of training, "
                 f"{last['seconds'] / last['epoch']:.0f} s/epoch")
    if final and final.get("wall_seconds") and not final.get("resumed"):
        lines.append(f"  wall clock from start to CSV: {final['wall_seconds']:.0f} s, "
                     f"{final['wall_seconds'] / last['seconds']:.3f}x the training time "
                     "(start-up, scoring, checkpoints and the final test-time augmentation included)")
    return lines


def rescore(run, config):
    """Lines: public-test accuracy of the last checkpoint with the trained weights and (presets that
    keep one) their moving average, each with the model's test-time augmentation and with the image alone."""
    my = hw2_cifar_my_model
    preset = {key: config[key] for key in my.PRESETS[config["preset"]]}
    preset["widths"] = tuple(preset["widths"])
    data, train_set, standardize, whitening = my.prepare_data(config["train_examples"])  # the run's images
    parts = my.build_graph(whitening, preset, hw2_train.steps_per_epoch(len(train_set.X), preset["batch_size"]),
                           config.get("seed", my.SEED), config.get("precision", "float32"))
    my.restore_checkpoint(parts, run)

    def accuracies():
        return [float(np.mean(hw2_train.session_predict(parts["session"], output, parts["X"], data.public_test.X,
                                                        500, preprocess=standardize).argmax(1) == data.public_test.Y))
                for output in (parts["probabilities"], parts["single_view"])]

    scores = {"trained weights": accuracies()}
    if "use_averages" in parts:
        with my.averaged_weights(parts):
            scores["averaged weights"] = accuracies()
    parts["session"].close()
    return ["  last checkpoint, public test: " + "; ".join(f"{name} {tta:.2%} with TTA, {one:.2%} without"
                                                        for name, (tta, one) in scores.items())]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(hw2_cifar_my_model.PRESETS), default="fast")
    parser.add_argument("--epochs", type=int, help="override the preset's epochs")
    parser.add_argument("--run", metavar="DIR", help="the run's folder (default runs/bench-PRESET)")
    parser.add_argument("--summarize", action="store_true", help="summarize the run in --run instead of training")
    parser.add_argument("--rescore", action="store_true",
                        help="summarize, and re-score the last checkpoint of --run: averaged vs trained weights")
    args = parser.parse_args(argv)
    run = args.run or os.path.join(ROOT, "runs", f"bench-{args.preset}")
    if args.summarize or args.rescore:
        config, history, final = read_run(run)
        lines = summarize(config, history, final) + (rescore(run, config) if args.rescore else [])
        print("\n".join(lines))
        return 0
    if os.path.exists(run):
        parser.error(f"{run} exists; a bench trains afresh: delete it or pass another --run "
                     "(or --summarize to read it)")
    command = ["--preset", args.preset, "--run", run, "--out", os.path.join(run, "submission.csv")]
    if args.epochs:
        command += ["--epochs", str(args.epochs)]
    status = hw2_cifar_my_model.main(command)
    if status:
        return status
    config, history, final = read_run(run)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print("\n".join(summarize(config, history, final)
                    + [f"  peak memory (RSS) of the training process: {peak_mb:.0f} MB",
                       f"  machine: {hw2_precision.machine_description()}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
