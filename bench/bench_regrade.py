"""A class graded with --jobs 1 and with --jobs 2 (`make bench-regrade`): seconds per submission, the
time ratio, and whether both give the same gradebook and the same results (a slow submission
beside normal ones must change nothing but the wall clock).

    python bench/bench_regrade.py [--students 5] [--slow-seconds 40] [--only 6.1,6.2,6.3,6.4,7.3] [--out DIR]

The class: the reference's code with all-OK logs (the grader re-runs them) and CSVs at several
accuracies, one per student, plus one whose hw2_numpy.py sleeps at import (each box that imports
it waits). Prints the machine, each run's wall clock, seconds per submission, the ratio, and the
projection for 200 students on this machine and on a SLURM array.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests"), os.path.join(ROOT, "bench")]
import numpy as np  # noqa: E402

import hw2_submission  # noqa: E402
from bench_grade import machine  # noqa: E402
from test_grade import forged_log  # noqa: E402
from test_regrade import csv_bytes, predictions_with  # noqa: E402

PROJECTED_STUDENTS, SLURM_TASKS = 200, 16


def reference_upload(labels, accuracy, seed, numpy_suffix=""):
    files = {name: hw2_submission.read_project_file(name) for name in hw2_submission.submission_files()
             if name.endswith((".py", ".sh"))}
    files["hw2_numpy.py"] += numpy_suffix.encode()
    for log in hw2_submission.LOGS:
        files[log] = forged_log(log, files)
    files["submission.csv"] = csv_bytes(predictions_with(labels, accuracy, seed))
    return files


def write_class(folder, labels, students, slow_seconds):
    os.makedirs(folder)
    uploads = {f"student{index:02d}": reference_upload(labels, 0.70 + 0.03 * index, index) for index in range(students)}
    uploads["slow"] = reference_upload(labels, 0.81, 99, f"\nimport time\ntime.sleep({slow_seconds})\n")
    for name, files in uploads.items():
        with zipfile.ZipFile(os.path.join(folder, f"{name}.zip"), "w", zipfile.ZIP_DEFLATED) as archive:
            for member, data in files.items():
                archive.writestr(member, data)
    return sorted(uploads)


def graded(out, name):
    """results.json without what measures time (execution_time, the per-task seconds)."""
    with open(os.path.join(out, "results", f"{name}.json")) as stream:
        results = json.load(stream)
    results.pop("execution_time")
    results.pop("extra_data")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=5, help="normal submissions besides the slow one")
    parser.add_argument("--slow-seconds", type=int, default=40, help="the slow submission's sleep at import")
    parser.add_argument("--only", default="", help="grade.py's --only (default: every part, as Gradescope)")
    parser.add_argument("--out", help="keep the class and both runs here (default: a temporary folder)")
    args = parser.parse_args(argv)
    work = args.out or tempfile.mkdtemp(prefix="bench-regrade-")
    os.makedirs(work, exist_ok=True)
    labels = np.random.default_rng(0).integers(0, 10, hw2_submission.PRIVATE_TEST_SIZE)
    np.save(os.path.join(work, "labels.npy"), labels)
    names = write_class(os.path.join(work, "class"), labels, args.students, args.slow_seconds)
    print(f"machine: {machine()}")
    print(f"class: {len(names)} submissions (one sleeps {args.slow_seconds} s at import); parts: {args.only or 'all'}")
    walls = {}
    for jobs in (1, 2):
        out = os.path.join(work, f"jobs{jobs}")
        start = time.monotonic()
        subprocess.run([sys.executable, os.path.join(ROOT, "autograder", "regrade.py"), os.path.join(work, "class"),
                        "--out", out, "--jobs", str(jobs), "--hidden-seed", "7", "--labels",
                        os.path.join(work, "labels.npy")] + (["--only", args.only] if args.only else []), check=True)
        walls[jobs] = time.monotonic() - start
        seconds = [json.load(open(os.path.join(out, "graded", f"{name}.json")))["seconds"] for name in names]
        print(f"--jobs {jobs}: {walls[jobs]:.0f} s wall; per submission median {statistics.median(seconds):.0f} s "
              f"(normal), slow one {seconds[names.index('slow')]:.0f} s")
    same_book = open(os.path.join(work, "jobs1", "gradebook.csv"), "rb").read() == \
        open(os.path.join(work, "jobs2", "gradebook.csv"), "rb").read()
    same_results = all(graded(os.path.join(work, "jobs1"), name) == graded(os.path.join(work, "jobs2"), name)
                       for name in names)
    print(f"gradebook identical: {same_book}; every results.json identical but for its timings: {same_results}")
    print(f"time ratio --jobs 1 / --jobs 2: {walls[1] / walls[2]:.2f}x")
    per_submission = walls[2] / len(names)
    print(f"projection, {PROJECTED_STUDENTS} students at this class's mix: --jobs 2 here "
          f"{PROJECTED_STUDENTS * per_submission / 3600:.1f} h; a SLURM array of {SLURM_TASKS} such machines "
          f"{PROJECTED_STUDENTS * per_submission / SLURM_TASKS / 3600:.2f} h")
    return 0 if same_book and same_results else 1


if __name__ == "__main__":
    sys.exit(main())
