"""The benchmarks' own logic: summaries of run records, the PyTorch comparison's table and children."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import bench_cifar  # noqa: E402
import bench_vs_pytorch  # noqa: E402

CONFIG = {"preset": "sgd", "widths": [32, 128, 128], "activation": "relu", "optimizer": "sgd", "epochs": 4,
          "batch_size": 512, "train_examples": 50000, "seed": 42, "precision": "bfloat16"}


def history(scores):
    return [{"epoch": i + 1, "loss": 1.0, "acc": 0.9, "val_acc": v, "seconds": 60.0 * (i + 1)}
            for i, v in enumerate(scores)]


def test_summary_skips_unscored_epochs_and_reports_the_wall_clock():
    lines = bench_cifar.summarize(CONFIG, history([None, 0.91, None, 0.95]),
                                  {"wall_seconds": 252.0, "resumed": False})
    assert "seed 42, precision bfloat16" in lines[0]
    assert "83% public test: by epoch 2, 120 s" in lines[1] and "90% public test: by epoch 2" in lines[2]
    assert "94% public test: by epoch 4, 240 s" in lines[3]
    assert lines[-1].startswith("  wall clock from start to CSV: 252 s, 1.050x the training time")


def test_summary_of_a_resumed_run_claims_no_wall_clock():
    """Its wall clock covers only the last invocation: no ratio to the whole training time."""
    lines = bench_cifar.summarize(CONFIG, history([0.5, 0.6]), {"wall_seconds": 30.0, "resumed": True})
    assert not any("wall clock" in line for line in lines)


def test_table_ratios():
    lines = bench_vs_pytorch.table([("ours", 300.0), ("theirs", 600.0)], 300.0, 600.0)
    assert lines[2] == "| ours | 300 | 1.00x | 0.50x |" and lines[3] == "| theirs | 600 | 2.00x | 1.00x |"
    assert bench_vs_pytorch.table([("ours", 300.0)], 300.0, None)[2].endswith("| - |")


def test_a_failing_measurement_is_named(tmp_path):
    with pytest.raises(SystemExit, match="measurement .*-c import sys; sys.exit.3.* failed .exit 3."):
        bench_vs_pytorch.run_child([sys.executable, "-c", "import sys; sys.exit(3)"])


def test_a_missing_torch_venv_says_how_to_make_it(capsys):
    with pytest.raises(SystemExit):
        bench_vs_pytorch.main(["--torch-python", "/nonexistent/python"])
    assert "make bench-pytorch" in capsys.readouterr().err
