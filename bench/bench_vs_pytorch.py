"""Our training loop against PyTorch on the same network: images per second, float32 and bfloat16.

    make bench-pytorch                      makes .venv-bench (PyTorch, CPU build) and runs this
    python bench/bench_vs_pytorch.py --torch-python .venv-bench/bin/python [--batch-size B] [--steps N]

One run measures, one process after the other on the same machine: our whole training loop
(hw2_cifar_my_model's accurate preset: augmentation, feeding, the Muon step, batch-norm
updates; `hw2_train.train_epochs`, its second epoch timed) and our bare step (the same train op
fed one fixed batch), each in float32 and bfloat16, then PyTorch's step on the same network
and optimizer (bench/torch_step.py, in its own venv) in float32 and with bf16 autocast. Each
measurement is a child process that writes a JSON record; this prints them as a table with
ratios to our float32 loop and to PyTorch's bf16 step, and the CPU they ran on.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def measure_ours(precision, batch_size, steps, out):
    """Child process: our loop and bare step in `precision`; writes the JSON record `out`."""
    import time
    import numpy as np
    import hw2_cifar_my_model as my
    import hw2_train
    preset = {**my.PRESETS["accurate"], "batch_size": batch_size}
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, (batch_size * steps, 32, 32, 3)).astype(np.uint8)
    labels = rng.randint(0, 10, len(images)).astype(np.int64)
    standardize = hw2_train.standardizer(images)
    parts = my.build_graph(my.whitening_kernel(standardize(images[:500])), preset, steps, precision=precision)
    session = parts["session"]
    batches = my.AirbenchBatches(images, labels, batch_size, 0, standardize)
    records = list(hw2_train.train_epochs(
        session, parts["train_op"], parts["X"], parts["labels"], batches, epochs=2, loss=parts["loss"],
        correct=parts["correct"], train_feed={parts["is_training"]: True}, name=f"ours-{precision}"))
    loop_seconds = records[1]["seconds"] - records[0]["seconds"]   # the first epoch warms up
    feed = {parts["X"]: standardize(images[:batch_size]), parts["labels"]: labels[:batch_size],
            parts["is_training"]: True}
    step_seconds = []
    for _ in range(steps):
        start = time.perf_counter()
        session.run(parts["train_op"], feed)
        step_seconds.append(time.perf_counter() - start)
    record = {"precision": precision, "batch_size": batch_size,
              "loop_images_per_second": batch_size * steps / loop_seconds,
              "step_images_per_second": batch_size * steps / sum(step_seconds), "step_seconds": step_seconds}
    with open(out, "w") as stream:
        json.dump(record, stream)


def run_child(command):
    """Run a measurement process (its output shown as it goes); its JSON record, or exit naming it."""
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "record.json")
        result = subprocess.run(command + ["--out", out], cwd=ROOT)
        if result.returncode or not os.path.exists(out):
            raise SystemExit(f"error: the measurement {' '.join(command)} failed (exit {result.returncode})")
        with open(out) as stream:
            return json.load(stream)


def table(rows, ours_float32, torch_bf16):
    """Markdown table lines of (name, images/s) with the ratios to ours_float32 and torch_bf16."""
    lines = ["| implementation | images/s | vs our float32 loop | vs PyTorch bf16 step |", "| --- | ---: | ---: | ---: |"]
    for name, rate in rows:
        lines.append(f"| {name} | {rate:.0f} | {rate / ours_float32:.2f}x | "
                     + (f"{rate / torch_bf16:.2f}x |" if torch_bf16 else "- |"))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", help="the Python of a venv with torch (make bench-pytorch makes "
                                               ".venv-bench); without it, only our side runs")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the accurate preset's")
    parser.add_argument("--steps", type=int, default=4, help="timed steps per measurement")
    parser.add_argument("--child", choices=("float32", "bfloat16"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        measure_ours(args.child, args.batch_size, args.steps, args.out)
        return 0
    if args.torch_python and not os.path.exists(args.torch_python):
        parser.error(f"--torch-python {args.torch_python} does not exist: run `make bench-pytorch`, "
                     "which makes .venv-bench with PyTorch")
    import hw2_cifar_my_model as my
    import hw2_precision
    batch_size = args.batch_size or my.PRESETS["accurate"]["batch_size"]
    common = ["--batch-size", str(batch_size), "--steps", str(args.steps)]
    ours = {p: run_child([sys.executable, os.path.abspath(__file__), "--child", p] + common)
            for p in ("float32", "bfloat16")}
    theirs = {}
    if args.torch_python:
        script = os.path.join(ROOT, "bench", "torch_step.py")
        theirs = {p: run_child([args.torch_python, script, "--precision", p] + common)
                  for p in ("float32", "bfloat16")}
    rows = [(f"ours, whole loop, {p}", ours[p]["loop_images_per_second"]) for p in ours]
    rows += [(f"ours, step alone, {p}", ours[p]["step_images_per_second"]) for p in ours]
    rows += [(theirs[p]["implementation"], theirs[p]["images_per_second"]) for p in theirs]
    torch_bf16 = theirs["bfloat16"]["images_per_second"] if theirs else None
    print(f"\nthe accurate network's training step, batch {batch_size}, {args.steps} timed steps each; "
          f"{hw2_precision.machine_description()}")
    print("\n".join(table(rows, ours["float32"]["loop_images_per_second"], torch_bf16)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
