"""How the shared-mistakes flag (autograder/integrity.py) separates independent trainings from copies.

    python bench/bench_flags.py RUN RUN [RUN ...]

Each RUN is a finished own-model run (hw2_cifar_my_model.py --run RUN, any preset, seed or epochs).
The public test stands in for the private one (its labels are at hand): each run's public-test
predictions are computed once from its last checkpoint (kept as RUN/public_predictions.npy).
Prints, for every pair of runs, the issue's literal statistic (among the images both got wrong,
the share with the same class) and the one the flag uses (of the mistakes of the one with fewer,
the share the other makes identically), then the same for copies of each run with 5% and 15% of
their rows changed to a random other class (5 edits each), and whether the rule flags each.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]
import numpy as np  # noqa: E402

from autograder import integrity  # noqa: E402
from test_regrade import edited  # noqa: E402

EDITS, EDITED_SHARES = 5, (0.05, 0.15)


def predict(run, out):
    """The run's public-test predictions (its last checkpoint, the preset's test-time augmentation)."""
    import hw2_cifar_my_model as my_model
    import hw2_train
    with open(os.path.join(run, "run.json")) as stream:
        config = json.load(stream)["config"]
    data, train_set, standardize, whitening = my_model.prepare_data()
    preset = {key: config[key] for key in my_model.PRESETS[config["preset"]]}
    steps = hw2_train.steps_per_epoch(len(train_set.X), preset["batch_size"])
    parts = my_model.build_graph(whitening, preset, steps, config["seed"], config["precision"])
    my_model.restore_checkpoint(parts, run)
    with my_model.averaged_weights(parts):
        probabilities = hw2_train.session_predict(parts["session"], parts["probabilities"], parts["X"],
                                                  data.public_test.X, 500, preprocess=standardize)
    np.save(out, probabilities.argmax(1))


def statistics(first, second, labels):
    """(literal share, the flag's share) of a pair of prediction vectors."""
    wrong, same = integrity.same_mistakes(np.array([first, second]), labels)
    both = int(np.sum((first != labels) & (second != labels)))
    return same[0, 1] / both, same[0, 1] / wrong.min()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--predict"]:   # the child: one run's graph in a process of its own
        predict(argv[1], argv[2])
        return 0
    if len(argv) < 2:
        print("give at least two finished runs: python bench/bench_flags.py RUN RUN [RUN ...]", file=sys.stderr)
        return 2
    import hw2_utils
    labels = np.load(os.path.join(hw2_utils.find_dataset([os.path.join(hw2_utils.CIFAR_FOLDER, "public_test_y.npy")]),
                                  hw2_utils.CIFAR_FOLDER, "public_test_y.npy"))
    predictions = {}
    for run in argv:
        path = os.path.join(run, "public_predictions.npy")
        if not os.path.isfile(path):
            subprocess.run([sys.executable, os.path.abspath(__file__), "--predict", run, path], check=True)
        predictions[os.path.basename(os.path.normpath(run))] = np.load(path)
    floor = integrity.SHARE_FLOOR
    print(f"flagged above {floor} (integrity.SHARE_FLOOR; in a class also far above its median)")
    names = sorted(predictions)
    for index, a in enumerate(names):
        for b in names[index + 1:]:
            literal, ours = statistics(predictions[a], predictions[b], labels)
            print(f"independent {a} ({np.mean(predictions[a] == labels):.4f}) vs {b} "
                  f"({np.mean(predictions[b] == labels):.4f}): literal {literal:.3f}, flag's {ours:.3f}"
                  f"{'  FLAGGED' if ours > floor else ''}")
    for name in names:
        for share in EDITED_SHARES:
            pairs = [statistics(predictions[name], edited(predictions[name], share, seed), labels)
                     for seed in range(EDITS)]
            literal, ours = np.array(pairs).T
            print(f"copy of {name}, {share:.0%} of rows changed ({EDITS} edits): literal {literal.min():.3f}-"
                  f"{literal.max():.3f}, flag's {ours.min():.3f}-{ours.max():.3f}; flagged {np.sum(ours > floor)}"
                  f"/{EDITS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
