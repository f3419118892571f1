"""Build and verify submission.zip for the autograder (no TensorFlow needed).

    python hw2_submission.py build [--out submission/submission.zip]
    python hw2_submission.py check ZIP

The zip holds, flat at its top level: the three exercise files, submission.csv,
the three evaluation logs, and every script used to train, preprocess and test
the own model. `check` verifies a zip: every file there and no folders; the
CSV's header, row count and classes; no FAIL in any log; and every log's
fingerprint (sha256 of the sources it exercised, the username and the seed,
printed in its first line) recomputed from the files in the zip, so a log
written by older code is caught.
"""
import argparse
import csv
import hashlib
import io
import os
import re
import sys
import zipfile

from hw2_data import atomic_write

ROOT = os.path.dirname(os.path.abspath(__file__))
REQUIRED = ("hw2_mnist.py", "hw2_numpy.py", "hw2_cifar.py", "submission.csv",
            "evaluation_mnist.txt", "evaluation_numpy.txt", "evaluation_cifar.txt")
# The own model's training, preprocessing and support scripts (and what they import).
OWN_MODEL_SCRIPTS = ("hw2_cifar_my_model.py", "hw2_utils.py", "hw2_submission.py", "hw2_data.py",
                     "get_dataset.sh")
# Which sources each log exercises (besides hw2_utils.py and this file, imported by all).
LOG_SOURCES = {"evaluation_numpy.txt": ("hw2_numpy.py",), "evaluation_mnist.txt": ("hw2_mnist.py",),
               "evaluation_cifar.txt": ("hw2_cifar.py",)}
COMMON_SOURCES = ("hw2_utils.py", "hw2_submission.py")
NUM_PRIVATE = 5000
FINGERPRINT = re.compile(r"^=== FINGERPRINT (?P<digest>[0-9a-f]{64}) user=(?P<user>\S+) seed=(?P<seed>\S+) "
                         r"sources=(?P<sources>\S+) ===$")


def fingerprint(sources, andrew_username, seed):
    """sha256 hex of (username, seed, and each (name, bytes) of `sources` in name order)."""
    digest = hashlib.sha256(f"{andrew_username}\0{seed}\0".encode())
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + hashlib.sha256(sources[name]).digest())
    return digest.hexdigest()


def fingerprint_line(log_name, andrew_username, seed, read=None):
    """The header line of `log_name`: its sources' fingerprint, read from the project (or `read(name)`)."""
    read = read or (lambda name: open(os.path.join(ROOT, name), "rb").read())
    names = sorted(LOG_SOURCES[log_name] + COMMON_SOURCES)
    digest = fingerprint({name: read(name) for name in names}, andrew_username, seed)
    return f"=== FINGERPRINT {digest} user={andrew_username} seed={seed} sources={','.join(names)} ==="


def build(out_path):
    """Write the zip atomically; raises FileNotFoundError naming any missing file."""
    names = REQUIRED + OWN_MODEL_SCRIPTS
    missing = [name for name in names if not os.path.isfile(os.path.join(ROOT, name))]
    if missing:
        raise FileNotFoundError(f"cannot build the submission, missing: {', '.join(missing)} (run `make`)")
    def write(tmp_path):
        with zipfile.ZipFile(tmp_path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in names:
                archive.write(os.path.join(ROOT, name), arcname=name)
    atomic_write(out_path, write)


def check(zip_path):
    """Problems found in the zip at zip_path, as a list of messages (empty: the zip is good)."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (OSError, zipfile.BadZipFile) as error:
        return [f"{zip_path}: not a readable zip ({error})"]
    with archive:
        names = archive.namelist()
        problems = [f"{name}: folders are not allowed, files must be at the top level of the zip"
                    for name in names if "/" in name or "\\" in name]
        present = set(names)
        problems += [f"{name}: missing" for name in REQUIRED + OWN_MODEL_SCRIPTS if name not in present]
        if "submission.csv" in present:
            problems += check_csv(archive.read("submission.csv"))
        for log_name in LOG_SOURCES:
            if log_name in present:
                problems += check_log(log_name, archive.read(log_name).decode("utf-8", "replace"),
                                      lambda name: archive.read(name) if name in present else None)
    return problems


def check_csv(data):
    """Problems of submission.csv's bytes: header Id,Category, NUM_PRIVATE rows, Id 0.., classes 0-9."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8", "replace"))))
    if not rows or [cell.strip() for cell in rows[0]] != ["Id", "Category"]:
        return [f"submission.csv: the header must be 'Id,Category', got {rows[0] if rows else 'nothing'}"]
    body = [row for row in rows[1:] if row]
    if len(body) != NUM_PRIVATE:
        return [f"submission.csv: {len(body)} rows, expected {NUM_PRIVATE} (one per private-test image)"]
    for number, row in enumerate(body):
        if len(row) != 2 or row[0].strip() != str(number) or row[1].strip() not in set("0123456789"):
            return [f"submission.csv: row {number + 2} is {row}, expected [{number}, a class 0-9]"]
    return []


def check_log(log_name, text, read):
    """Problems of one evaluation log: FAIL lines, a missing or stale fingerprint."""
    lines = text.splitlines()
    problems = [f"{log_name}: a test failed (line {i + 1})" for i, line in enumerate(lines) if line == "FAIL"]
    match = FINGERPRINT.match(lines[0]) if lines else None
    if not match:
        return problems + [f"{log_name}: no fingerprint header; regenerate it with `make {log_name}`"]
    sources = match["sources"].split(",")
    missing = [name for name in sources if read(name) is None]
    if missing:
        return problems + [f"{log_name}: exercised {', '.join(missing)}, which the zip lacks"]
    expected = fingerprint({name: read(name) for name in sources}, match["user"], match["seed"])
    if expected != match["digest"]:
        problems.append(f"{log_name}: stale, written by other code than the zip holds "
                        f"({', '.join(sources)}); regenerate it with `make {log_name}`")
    utils = read("hw2_utils.py")
    if utils is not None:
        user = re.search(rb'^ANDREW_USERNAME = "([^"]*)"', utils, re.M)
        seed = re.search(rb"^SEED = (\S+)", utils, re.M)
        if user and seed and (user[1].decode(), seed[1].decode()) != (match["user"], match["seed"]):
            problems.append(f"{log_name}: written as user={match['user']} seed={match['seed']}, but "
                            f"hw2_utils.py says {user[1].decode()} / {seed[1].decode()}")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="write the zip, then check it")
    build_parser.add_argument("--out", default=os.path.join(ROOT, "submission", "submission.zip"))
    check_parser = commands.add_parser("check", help="check a zip")
    check_parser.add_argument("zip")
    args = parser.parse_args(argv)
    zip_path = args.out if args.command == "build" else args.zip
    if args.command == "build":
        try:
            build(zip_path)
        except FileNotFoundError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    problems = check(zip_path)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    if problems:
        print(f"{zip_path}: {len(problems)} problem(s); the autograder would not accept it", file=sys.stderr)
        return 1
    print(f"{zip_path}: ok ({len(REQUIRED + OWN_MODEL_SCRIPTS)} files, logs match the code)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
