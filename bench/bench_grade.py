"""Wall time and peak memory of grading one submission, per box task and in total (`make bench-grade`).

    python bench/bench_grade.py ZIP [--labels LABELS] [--interval 0.2]

Runs `autograder/grade.py` on the zip (a temporary root, as `make grade`) and samples, every
`interval` seconds, the resident memory of the grader's whole process tree (its boxes, and what
they left, are in it): the sum is what a container running the autograder must hold. Each sample
is charged to the box task running then (read from its task.json). Prints a table of seconds
(the grader's own timings) and peak MiB per task, then the totals and the machine.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from autograder import sandbox  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def tree(root, table):
    members, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, *_) in table.items() if ppid == parent and pid not in members]
        members.update(children)
        frontier += children
    return members


def running_task(pids):
    """The kind of box task one of pids is running (its folder's task.json), or "grader"."""
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cwd/task.json") as stream:
                task = json.load(stream)
            return task["kind"] + (f" {task['module']}" if task["kind"] == "import" else "") + \
                (f" {task['script']}" if task["kind"] == "public_tests" else "")
        except (OSError, ValueError, KeyError):
            continue
    return "grader"


def machine():
    with open("/proc/cpuinfo") as stream:
        model = next((line.split(":", 1)[1].strip() for line in stream if line.startswith("model name")), "?")
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zip")
    parser.add_argument("--labels")
    parser.add_argument("--interval", type=float, default=0.2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        results_path = os.path.join(folder, "results.json")
        command = [sys.executable, os.path.join(ROOT, "autograder", "grade.py"), args.zip, "--results", results_path]
        if args.labels:
            command += ["--labels", args.labels]
        start = time.monotonic()
        grader = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
        peaks, total_peak = {}, 0
        while grader.poll() is None:
            table = sandbox.process_table()
            # The boxes are the grader's children, and what they leave behind is reparented to it
            # (it is their subreaper): its process tree holds every process of the grading.
            members = tree(grader.pid, table)
            resident = PAGE * sum(table[pid][3] for pid in members if pid in table)
            task = running_task(members - {grader.pid})
            peaks[task] = max(peaks.get(task, 0), resident)
            total_peak = max(total_peak, resident)
            time.sleep(args.interval)
        wall = time.monotonic() - start
        with open(results_path) as stream:
            results = json.load(stream)
    print(f"machine: {machine()}")
    print(f"{'task':<34} {'seconds':>8} {'peak MiB':>9}")
    for name, seconds in results["extra_data"]["seconds"].items():
        print(f"{name:<34} {seconds:>8.1f}")
    for task, peak in sorted(peaks.items()):
        print(f"{'(memory) ' + task:<34} {'':>8} {peak / 2 ** 20:>9.0f}")
    print(f"{'total':<34} {wall:>8.1f} {total_peak / 2 ** 20:>9.0f}   score {results['score']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
