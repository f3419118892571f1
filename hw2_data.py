"""Build the hw2 data files from the public originals (used by get_dataset.sh).

Needs numpy only (no TensorFlow), so the data step starts fast.

    python hw2_data.py fetch URL DEST MD5     download URL to DEST, verified
    python hw2_data.py mnist RAW_DIR OUT      MNIST idx files -> mnist.pkl.gz
    python hw2_data.py cifar ARCHIVE OUT_DIR  cifar-10-python.tar.gz -> CIFAR-10-739
    python hw2_data.py private-labels ARCHIVE OUT [--check CIFAR_DIR]
                                              course staff: private_test_y.npy, outside the project

CIFAR-10-739 split (fixed, as in the course mirror): one numpy
RandomState(739) permutes the training images; the first 9/10 are `train`,
the last 1/10 `val` (45,000 / 5,000). The same generator's next permutation
of the test images gives `public_test` (first half) and `private_test`
(second half, labels not written). MNIST: train = the first 50,000 training
images, valid = the last 10,000, test = the 10,000 test images; X float32
(N, 784) = pixel / 255, y int64.

Every output is written to a temporary name and renamed once complete, so an
interrupted run never leaves a file that looks valid.
"""
import argparse
import gzip
import hashlib
import io
import os
import pickle
import shutil
import sys
import tarfile
import urllib.request

import numpy as np

CIFAR_SPLIT_SEED = 739
MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
MNIST_TRAIN_SIZE = 50_000
CIFAR_TEST_SIZE = 10_000
PRIVATE_TEST_SIZE = CIFAR_TEST_SIZE // 2   # the second half of the test images; submission.csv has a row each


class DataBuildError(RuntimeError):
    """A download or source file is not what it should be."""


def file_digest(path, algorithm):
    """Hex digest of the file at `path` with hashlib `algorithm` ('md5', 'sha256')."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def process_is_running(pid):
    """True when a process with this pid exists (ours included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user
        return True
    return True


def remove_stale_parts(path):
    """Remove `path.part<pid>` files or folders whose writer process is gone (killed mid-write).

    Those of running processes are left alone: another run may be writing them.
    """
    folder, name = os.path.split(os.path.abspath(path))
    if not os.path.isdir(folder):
        return
    for entry in os.listdir(folder):
        pid = entry[len(name) + len(".part"):]
        if entry.startswith(name + ".part") and pid.isdigit() and not process_is_running(int(pid)):
            stale = os.path.join(folder, entry)
            shutil.rmtree(stale) if os.path.isdir(stale) and not os.path.islink(stale) else os.remove(stale)


def atomic_write(path, write, choose=None):
    """Call write(tmp_path), then rename tmp_path to path; no partial file on failure.

    The shared way every hw2 file a user keeps is written (logs, CSVs, zips, PNGs).
    choose(tmp_path), if given, decides after writing where the whole file goes:
    `path`, another path, or None to discard it (whatever is at `path` stays).
    The temporary name is `path.part<pid>`; leftovers of killed writers are removed first.
    Returns the path written, or None.
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    remove_stale_parts(path)
    tmp_path = f"{path}.part{os.getpid()}"
    try:
        write(tmp_path)
        destination = path if choose is None else choose(tmp_path)
        if destination is not None:
            os.replace(tmp_path, destination)
        return destination
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)


def atomic_write_text(path, text):
    """Write `text` to `path` atomically."""
    def write(tmp_path):
        with open(tmp_path, "w") as stream:
            stream.write(text)
    atomic_write(path, write)


def fetch(url, dest, md5):
    """Download `url` (http(s) or file://) to `dest` unless a file with that md5 is there."""
    if os.path.exists(dest) and file_digest(dest, "md5") == md5:
        print(f"  {os.path.basename(dest)}: present, checksum ok")
        return

    def write(tmp_path):
        print(f"  downloading {url}", flush=True)
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(tmp_path, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        except OSError as error:
            raise DataBuildError(f"could not download {url} to {dest}: {error}") from error
        actual = file_digest(tmp_path, "md5")
        if actual != md5:
            raise DataBuildError(f"{dest}: md5 {actual} does not match the published {md5}; "
                                 "the download is corrupt or the URL serves another file")
    atomic_write(dest, write)


def read_idx(path):
    """Array stored in a gzipped idx file (MNIST's format): uint8 (N,) or (N, rows, cols)."""
    with gzip.open(path, "rb") as stream:
        data = stream.read()
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 8:
        raise DataBuildError(f"{path} is not an idx file of unsigned bytes")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise DataBuildError(f"{path} is truncated: {body.size} bytes for shape {shape}")
    return body.reshape(shape)


def build_mnist(raw_dir, out_path):
    """MNIST idx files in raw_dir -> the classic pickled ((X, y), (X, y), (X, y)) at out_path."""
    train_x, train_y, test_x, test_y = (read_idx(os.path.join(raw_dir, name)) for name in MNIST_FILES)
    if len(train_x) != len(train_y) or len(test_x) != len(test_y):
        raise DataBuildError(f"MNIST images and labels in {raw_dir} differ in count")
    n_train = min(MNIST_TRAIN_SIZE, len(train_x) * 5 // 6)  # 50,000 of 60,000; 5/6 of a smaller set

    def domain(x, y):
        return x.reshape(len(x), -1).astype(np.float32) / 255.0, y.astype(np.int64)
    parts = (domain(train_x[:n_train], train_y[:n_train]),
             domain(train_x[n_train:], train_y[n_train:]),
             domain(test_x, test_y))

    def write(tmp_path):
        with gzip.open(tmp_path, "wb") as stream:
            pickle.dump(parts, stream, protocol=4)
    atomic_write(out_path, write)
    print(f"  built {out_path}: " + " / ".join(str(len(x)) for x, _ in parts))


def read_cifar_archive(archive):
    """(train_X, train_y, test_X, test_y) from cifar-10-python.tar.gz; X uint8 (N, 32, 32, 3)."""
    batches = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                name = os.path.basename(member.name)
                if member.isfile() and (name.startswith("data_batch_") or name == "test_batch"):
                    batches[name] = pickle.load(io.BytesIO(tar.extractfile(member).read()),
                                                encoding="bytes")
    except (tarfile.TarError, OSError, EOFError, pickle.UnpicklingError) as error:
        raise DataBuildError(f"{archive} is not a readable CIFAR-10 python archive: {error}") from error
    expected = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    missing = [name for name in expected if name not in batches]
    if missing:
        raise DataBuildError(f"{archive} lacks {missing}")

    def stack(names):
        x = np.concatenate([np.asarray(batches[n][b"data"], dtype=np.uint8) for n in names])
        y = np.concatenate([np.asarray(batches[n][b"labels"], dtype=np.int64) for n in names])
        return x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), y
    return (*stack(expected[:5]), *stack(expected[5:]))


def split_cifar739(archive):
    """The CIFAR-10-739 split of cifar-10-python.tar.gz: name -> array, private_test_y included.

    One numpy RandomState(CIFAR_SPLIT_SEED) permutes the training images (the
    first 9/10 train, the rest val), then the test images (the first half
    public_test, the second private_test).
    """
    train_x, train_y, test_x, test_y = read_cifar_archive(archive)
    rng = np.random.RandomState(CIFAR_SPLIT_SEED)
    train_order, test_order = rng.permutation(len(train_x)), rng.permutation(len(test_x))
    n_train = len(train_x) - len(train_x) // 10
    n_public = len(test_x) // 2
    return {
        "train_X": train_x[train_order[:n_train]], "train_y": train_y[train_order[:n_train]],
        "val_X": train_x[train_order[n_train:]], "val_y": train_y[train_order[n_train:]],
        "public_test_X": test_x[test_order[:n_public]], "public_test_y": test_y[test_order[:n_public]],
        "private_test_X": test_x[test_order[n_public:]], "private_test_y": test_y[test_order[n_public:]],
    }


def build_cifar739(archive, out_dir):
    """Write CIFAR-10-739 .npy files and SHA256SUMS into out_dir (replaced whole, atomically); no private labels."""
    arrays = split_cifar739(archive)
    del arrays["private_test_y"]   # the course staff's alone: write_private_labels
    remove_stale_parts(out_dir)
    tmp_dir = f"{out_dir}.part{os.getpid()}"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    os.makedirs(tmp_dir)
    try:
        sums = []
        for name, array in arrays.items():
            np.save(os.path.join(tmp_dir, f"{name}.npy"), array)
            sums.append(f"{file_digest(os.path.join(tmp_dir, name + '.npy'), 'sha256')}  {name}.npy\n")
        with open(os.path.join(tmp_dir, "SHA256SUMS"), "w") as stream:
            stream.writelines(sums)
        shutil.rmtree(out_dir, ignore_errors=True)
        os.replace(tmp_dir, out_dir)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    print(f"  built {out_dir}: " + ", ".join(f"{k} {len(v)}" for k, v in arrays.items() if k.endswith("X")))


def write_private_labels(archive, out_path, data_dir=None):
    """Write the private-test labels (int64 (N,)) of the archive's split to out_path, for the course staff.

    Refuses a path inside this project (data/ included: the labels must never be
    distributed or committed). data_dir, if given, is a built cifar-10-739
    folder whose private_test_X.npy must equal the archive's private images, so
    the labels are known to belong to the images the students have.
    """
    project = os.path.realpath(os.path.dirname(os.path.abspath(__file__)))
    target = os.path.realpath(os.path.abspath(out_path))
    if os.path.commonpath([target, project]) == project:
        raise DataBuildError(f"{out_path} is inside the project ({project}): write the private labels outside "
                             "it (e.g. ~/hw2-staff/private_test_y.npy), where they can be neither distributed "
                             "with the data nor committed")
    arrays = split_cifar739(archive)
    if data_dir is not None:
        try:
            distributed = np.load(os.path.join(data_dir, "private_test_X.npy"), allow_pickle=False)
        except (OSError, ValueError) as error:
            raise DataBuildError(f"cannot read {data_dir}/private_test_X.npy to check against: {error}") from error
        if not np.array_equal(distributed, arrays["private_test_X"]):
            raise DataBuildError(f"{archive}'s split does not give the private images in {data_dir}: these "
                                 "labels would not belong to the students' private_test_X.npy")

    def write(tmp_path):
        with open(tmp_path, "wb") as stream:
            np.save(stream, arrays["private_test_y"])
    atomic_write(out_path, write)
    print(f"  wrote {out_path}: {len(arrays['private_test_y'])} private-test labels")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_parser = commands.add_parser("fetch", help="download URL to DEST, verified by its md5")
    for name in ("url", "dest", "md5"):
        fetch_parser.add_argument(name)
    mnist_parser = commands.add_parser("mnist", help="MNIST idx files in RAW_DIR -> mnist.pkl.gz at OUT")
    mnist_parser.add_argument("raw_dir")
    mnist_parser.add_argument("out")
    cifar_parser = commands.add_parser("cifar", help="cifar-10-python.tar.gz -> CIFAR-10-739 in OUT_DIR")
    cifar_parser.add_argument("archive")
    cifar_parser.add_argument("out_dir")
    labels_parser = commands.add_parser("private-labels", help="course staff: the private-test labels of "
                                        "cifar-10-python.tar.gz's split, to a path outside the project")
    labels_parser.add_argument("archive")
    labels_parser.add_argument("out", help="e.g. ~/hw2-staff/private_test_y.npy (never inside the project)")
    labels_parser.add_argument("--check", metavar="CIFAR_DIR",
                               help="a built cifar-10-739 folder whose private_test_X.npy the labels must match")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            fetch(args.url, args.dest, args.md5)
        elif args.command == "mnist":
            build_mnist(args.raw_dir, args.out)
        elif args.command == "cifar":
            build_cifar739(args.archive, args.out_dir)
        else:
            write_private_labels(args.archive, args.out, args.check)
    except DataBuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
