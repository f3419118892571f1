"""Build autograder.zip, the file course staff upload to Gradescope (`make autograder LABELS=...`).

    python autograder/package.py --labels PRIVATE_TEST_Y.npy [--out autograder/autograder.zip]

At the zip's root: setup.sh and run_autograder (Gradescope's contract), the reference solution
(the hw2_*.py files, the public test scripts, requirements.txt, get_dataset.sh, autograder/), the
private labels, a fresh hidden-case seed, and the checksums of the data in data/ (setup.sh checks
that the data it builds on Gradescope is the data these labels belong to). No dataset file is packed.
"""
import argparse
import glob
import os
import secrets
import sys
import zipfile

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if PROJECT not in sys.path:
    sys.path.insert(0, PROJECT)

from autograder import grade, intake  # noqa: E402
from hw2_data import atomic_write  # noqa: E402

DATA_CHECKSUMS = ("MNIST.SHA256SUMS", "cifar-10-739/SHA256SUMS")   # written by get_dataset.sh
EXECUTABLE = 0o755


def reference_files():
    """Project-relative paths of the reference the autograder carries."""
    names = [os.path.basename(path) for path in sorted(glob.glob(os.path.join(PROJECT, "hw2_*.py")))]
    names += ["requirements.txt", "get_dataset.sh"] + grade.public_test_files()
    names += [os.path.relpath(path, PROJECT) for path in sorted(glob.glob(os.path.join(PROJECT, "autograder", "*")))
              if os.path.isfile(path) and not path.endswith(".zip")]
    return names


def build(labels_path, out_path, data_dir):
    """Write the zip (atomically); returns its member names. GraderError for bad labels or data."""
    if not os.path.isfile(labels_path):
        raise grade.GraderError(f"no labels at {labels_path}; write them with `python hw2_data.py private-labels`")
    intake.load_labels(labels_path)                     # the grader's own check: PRIVATE_TEST_SIZE ids 0-9
    missing = [name for name in DATA_CHECKSUMS if not os.path.isfile(os.path.join(data_dir, name))]
    if missing:
        raise grade.GraderError(f"{data_dir} lacks {', '.join(missing)}: run `make data` first (the autograder "
                                "records which data its labels belong to)")
    members = []

    def add(archive, arcname, path=None, data=None, mode=0o644):
        info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        if path is not None:
            with open(path, "rb") as stream:
                data = stream.read()
        archive.writestr(info, data)
        members.append(arcname)

    def write(tmp_path):
        with zipfile.ZipFile(tmp_path, "w") as archive:
            for name in ("setup.sh", "run_autograder"):
                add(archive, name, os.path.join(PROJECT, "autograder", name), mode=EXECUTABLE)
            for name in reference_files():
                path = os.path.join(PROJECT, name)
                add(archive, name, path, mode=EXECUTABLE if os.access(path, os.X_OK) else 0o644)
            for name in DATA_CHECKSUMS:
                add(archive, f"data-checksums/{name}", os.path.join(data_dir, name))
            add(archive, "private_test_y.npy", labels_path, mode=0o600)
            add(archive, "hidden_seed.txt", data=f"{secrets.randbits(63)}\n", mode=0o600)
    atomic_write(out_path, write)
    return members


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", required=True, help="private_test_y.npy from `python hw2_data.py private-labels`")
    parser.add_argument("--out", default=os.path.join(PROJECT, "autograder", "autograder.zip"),
                        help="where to write it (default autograder/autograder.zip)")
    parser.add_argument("--data", default=os.path.join(PROJECT, "data"), help="the data the labels belong to")
    args = parser.parse_args(argv)
    try:
        members = build(args.labels, args.out, args.data)
    except grade.GraderError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.out}: {len(members)} files (setup.sh, run_autograder, the reference, labels, a new hidden seed); "
          "upload it as the assignment's autograder")
    return 0


if __name__ == "__main__":
    sys.exit(main())
