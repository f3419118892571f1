"""The loaders and get_dataset.sh, offline: tiny mirrors and archives built here."""
import gzip
import hashlib
import io
import os
import pathlib
import pickle
import subprocess
import tarfile

import numpy as np
import pytest

import hw2_data
import hw2_utils
from commands import run_main

SCRIPT = os.path.join(hw2_utils.ROOT, "get_dataset.sh")


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def md5(path):
    return hashlib.md5(pathlib.Path(path).read_bytes()).hexdigest()


def run_script(env, expect_ok=True):
    environment = {**os.environ, **env}
    environment.pop("HW2_DATA_MIRROR", None) if "HW2_DATA_MIRROR" not in env else None
    result = subprocess.run(["bash", SCRIPT], env=environment, capture_output=True, text=True, timeout=300)
    assert (result.returncode == 0) == expect_ok, result.stdout + result.stderr
    return result


def write_mnist_pickle(path, sizes=(50, 10, 10), x_shape=784):
    rng = np.random.default_rng(0)
    parts = tuple((rng.random((n, x_shape), dtype=np.float32), rng.integers(0, 10, n)) for n in sizes)
    with gzip.open(path, "wb") as stream:
        pickle.dump(parts, stream)
    return parts


def write_cifar_npys(folder, n=20):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(1)
    for split in ("train", "val", "public_test", "private_test"):
        np.save(os.path.join(folder, f"{split}_X.npy"), rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8))
        if split != "private_test":
            np.save(os.path.join(folder, f"{split}_y.npy"), rng.integers(0, 10, n))


@pytest.fixture
def tiny_mirror(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    write_mnist_pickle(mirror / "mnist.pkl.gz")
    write_cifar_npys(mirror / "cifar-10-739")
    (mirror / "SHA256SUMS").write_text(f"{sha256(mirror / 'mnist.pkl.gz')}  mnist.pkl.gz\n")
    cifar = mirror / "cifar-10-739"
    (cifar / "SHA256SUMS").write_text("".join(f"{sha256(cifar / n)}  {n}\n" for n in sorted(os.listdir(cifar))))
    return mirror


def test_mirror_copy_verifies_and_loads(tiny_mirror, tmp_path, monkeypatch):
    out = tmp_path / "data"
    run_script({"HW2_DATA_MIRROR": str(tiny_mirror), "HW2_DATA_OUT": str(out)})
    monkeypatch.setenv("HW2_DATA_DIR", str(out))
    splits = hw2_utils.load_mnist()
    assert [len(s.X) for s in splits] == [50, 10, 10] and splits.train.X.dtype == np.float32
    cifar = hw2_utils.load_cifar739()
    assert cifar.train.X.shape == (20, 32, 32, 3) and cifar.private_test.Y is None
    second = run_script({"HW2_DATA_MIRROR": str(tiny_mirror), "HW2_DATA_OUT": str(out)})
    assert "train_X.npy" not in second.stdout  # nothing copied again


def test_corrupt_mirror_fails_and_leaves_no_file(tiny_mirror, tmp_path):
    with open(tiny_mirror / "cifar-10-739" / "val_X.npy", "r+b") as f:
        f.seek(200)
        f.write(b"\xff\xfe")
    out = tmp_path / "data"
    result = run_script({"HW2_DATA_MIRROR": str(tiny_mirror), "HW2_DATA_OUT": str(out)}, expect_ok=False)
    assert "val_X.npy" in result.stderr
    assert not (out / "cifar-10-739" / "val_X.npy").exists()
    assert not [p for p in out.rglob("*") if ".part" in p.name]


def _idx(array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def _cifar_batch(images, labels):
    data = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    return pickle.dumps({b"data": data, b"labels": list(map(int, labels))})


@pytest.fixture
def tiny_originals(tmp_path):
    """Tiny MNIST idx files and a CIFAR-10 python archive in the official formats."""
    rng = np.random.default_rng(2)
    src = tmp_path / "src"
    src.mkdir()
    mnist = {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (60, 28, 28)),
             "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 60),
             "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (12, 28, 28)),
             "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 12)}
    for name, array in mnist.items():
        (src / name).write_bytes(_idx(array))
    (src / "md5s").write_text("".join(f"{md5(src / n)}  {n}\n" for n in mnist))
    images = rng.integers(0, 256, (60, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, 60)
    with tarfile.open(src / "cifar-10-python.tar.gz", "w:gz") as tar:
        batches = [(f"data_batch_{i + 1}", images[i * 10:(i + 1) * 10], labels[i * 10:(i + 1) * 10]) for i in range(5)]
        batches.append(("test_batch", images[50:], labels[50:]))
        for name, x, y in batches:
            payload = _cifar_batch(x, y)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    env = {"HW2_MNIST_URL": (src.as_uri() + "/"), "HW2_MNIST_MD5SUMS": str(src / "md5s"),
           "HW2_CIFAR_URL": (src / "cifar-10-python.tar.gz").as_uri(),
           "HW2_CIFAR_MD5": md5(src / "cifar-10-python.tar.gz"), "HW2_DATA_OUT": str(tmp_path / "data")}
    return env, mnist, images, labels


def test_download_builds_documented_split(tiny_originals, monkeypatch):
    env, mnist, images, labels = tiny_originals
    run_script(env)
    monkeypatch.setenv("HW2_DATA_DIR", env["HW2_DATA_OUT"])
    splits = hw2_utils.load_mnist()
    assert [len(s.X) for s in splits] == [50, 10, 12]
    np.testing.assert_array_equal(splits.train.X[3], mnist["train-images-idx3-ubyte.gz"][3].ravel().astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(splits.valid.Y, mnist["train-labels-idx1-ubyte.gz"][50:])
    cifar = hw2_utils.load_cifar739()
    rng = np.random.RandomState(739)
    train_order, test_order = rng.permutation(50), rng.permutation(10)
    np.testing.assert_array_equal(cifar.train.X, images[:50][train_order[:45]])
    np.testing.assert_array_equal(cifar.val.Y, labels[:50][train_order[45:]])
    np.testing.assert_array_equal(cifar.public_test.X, images[50:][test_order[:5]])
    np.testing.assert_array_equal(cifar.private_test.X, images[50:][test_order[5:]])
    assert not os.path.exists(os.path.join(env["HW2_DATA_OUT"], "cifar-10-739", "private_test_y.npy"))
    again = run_script(env)
    assert "downloading" not in again.stdout


def test_corrupt_download_fails_and_leaves_no_file(tiny_originals):
    env, *_ = tiny_originals
    env = {**env, "HW2_CIFAR_MD5": "0" * 32}
    result = run_script(env, expect_ok=False)
    assert "cifar-10-python.tar.gz" in result.stderr and "md5" in result.stderr
    out = env["HW2_DATA_OUT"]
    assert not os.path.exists(os.path.join(out, "downloads", "cifar-10-python.tar.gz"))
    assert not os.path.exists(os.path.join(out, "cifar-10-739"))
    leftovers = [f for _, _, files in os.walk(out) for f in files if ".part" in f]
    assert leftovers == []


def test_missing_data_says_how_to_fetch(tmp_path, monkeypatch):
    monkeypatch.setattr(hw2_utils, "data_search_path", lambda: [str(tmp_path)])
    with pytest.raises(hw2_utils.DataError, match="get_dataset.sh"):
        hw2_utils.load_mnist()
    with pytest.raises(hw2_utils.DataError, match="get_dataset.sh"):
        hw2_utils.load_cifar739()


def test_wrong_or_truncated_files_are_named(tmp_path, monkeypatch):
    monkeypatch.setattr(hw2_utils, "data_search_path", lambda: [str(tmp_path)])
    write_mnist_pickle(tmp_path / "mnist.pkl.gz", x_shape=783)
    with pytest.raises(hw2_utils.DataError, match="shape"):
        hw2_utils.load_mnist()
    (tmp_path / "mnist.pkl.gz").write_bytes(gzip.compress(b"x" * 1000)[:50])
    with pytest.raises(hw2_utils.DataError, match="truncated"):
        hw2_utils.load_mnist()
    write_cifar_npys(tmp_path / "cifar-10-739")
    path = tmp_path / "cifar-10-739" / "train_X.npy"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(hw2_utils.DataError, match="train_X.npy"):
        hw2_utils.load_cifar739()
    np.save(path, np.zeros((20, 32, 32, 3), np.float32))
    with pytest.raises(hw2_utils.DataError, match="dtype"):
        hw2_utils.load_cifar739()


def test_course_data_as_documented():
    """The real data (from the mirror or a download): sizes, dtypes, ranges."""
    splits = hw2_utils.load_mnist()
    assert [len(s.X) for s in splits] == [50_000, 10_000, 10_000]
    cifar = hw2_utils.load_cifar739()
    assert [len(s.X) for s in cifar] == [45_000, 5_000, 5_000, 5_000]
    assert np.bincount(cifar.train.Y).min() > 4000


# --------------------------------------------------------------------------- bad input (issue 12)

def dead_pid():
    """The pid of a process that has exited (not reused this soon in practice)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_partial_data_folder_is_not_mixed_with_another_copy(tiny_mirror, tmp_path, monkeypatch):
    """data/ missing one file, a full copy elsewhere: the error names the partial folder, no mix."""
    partial, complete = tmp_path / "partial", tmp_path / "complete"
    write_cifar_npys(partial / "cifar-10-739")
    write_cifar_npys(complete / "cifar-10-739")
    (partial / "cifar-10-739" / "val_y.npy").unlink()
    monkeypatch.setattr(hw2_utils, "data_search_path", lambda: [str(partial), str(complete)])
    with pytest.raises(hw2_utils.DataError, match=f"{partial}.*lacks cifar-10-739/val_y.npy"):
        hw2_utils.load_cifar739()
    write_mnist_pickle(complete / "mnist.pkl.gz")
    assert len(hw2_utils.load_mnist().train.X) == 50  # the first folder holding MNIST: complete


def world_readable_dir():
    """A fresh folder an unprivileged user can enter (pytest's tmp_path is private to its user)."""
    import tempfile
    folder = tempfile.mkdtemp(prefix="hw2-ro-")
    os.chmod(folder, 0o755)
    return folder


def snapshot(folder):
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for p in pathlib.Path(folder).rglob("*")}


@pytest.mark.parametrize("use_mirror", [True, False])
def test_a_complete_read_only_data_folder_is_verified_without_writing(tiny_originals, use_mirror):
    """As root the script runs as `nobody` (root ignores permissions); otherwise as ourselves."""
    import shutil
    env, *_ = tiny_originals
    base = world_readable_dir()
    try:
        out = os.path.join(base, "data")
        env = {**env, "HW2_DATA_OUT": out}
        if use_mirror:
            mirror = os.path.join(base, "mirror")
            os.makedirs(mirror)
            write_mnist_pickle(os.path.join(mirror, "mnist.pkl.gz"))
            write_cifar_npys(os.path.join(mirror, "cifar-10-739"))
            with open(os.path.join(mirror, "SHA256SUMS"), "w") as f:
                f.write(f"{sha256(os.path.join(mirror, 'mnist.pkl.gz'))}  mnist.pkl.gz\n")
            cifar = os.path.join(mirror, "cifar-10-739")
            sums = "".join(f"{sha256(os.path.join(cifar, n))}  {n}\n" for n in sorted(os.listdir(cifar)))
            with open(os.path.join(cifar, "SHA256SUMS"), "w") as f:
                f.write(sums)
            env["HW2_DATA_MIRROR"] = mirror
        run_script(env)
        for root, folders, files in os.walk(base):
            for name in folders + files:
                os.chmod(os.path.join(root, name), 0o555 if name in folders else 0o444)
        os.chmod(base, 0o755)
        before = snapshot(out)
        command = ["bash", SCRIPT]
        if os.geteuid() == 0:
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + command
        environment = {**os.environ, **env}
        if not use_mirror:
            environment.pop("HW2_DATA_MIRROR", None)
        result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        assert snapshot(out) == before
    finally:
        for root, folders, _ in os.walk(base):
            os.chmod(root, 0o755)
        shutil.rmtree(base)


def test_leftovers_of_a_killed_copy_are_removed_by_the_next_run(tiny_mirror, tmp_path):
    out = tmp_path / "data"
    env = {"HW2_DATA_MIRROR": str(tiny_mirror), "HW2_DATA_OUT": str(out)}
    run_script(env)
    dead, alive = dead_pid(), os.getpid()
    leftovers = [out / f"mnist.pkl.gz.part{dead}", out / "cifar-10-739" / f"train_X.npy.part{dead}",
                 out / "downloads" / f"cifar-10-python.tar.gz.part{dead}"]
    (out / "downloads").mkdir()
    for path in leftovers:
        path.write_bytes(b"x" * 1000)
    running = out / "cifar-10-739" / f"val_X.npy.part{alive}"   # another run still writing: kept
    running.write_bytes(b"x")
    result = run_script(env)
    assert not any(path.exists() for path in leftovers), result.stdout
    assert running.exists()


def test_atomic_write_removes_leftovers_of_killed_writers(tmp_path):
    import hw2_data
    target = tmp_path / "submission.csv"
    stale, live = tmp_path / f"submission.csv.part{dead_pid()}", tmp_path / "submission.csv.part1"
    stale.write_text("half")
    live.write_text("pid 1 is always running")
    hw2_data.atomic_write_text(str(target), "Id,Category\n")
    assert target.read_text() == "Id,Category\n" and not stale.exists() and live.exists()


@pytest.mark.parametrize("remove, named", [
    ("mnist.pkl.gz", "mnist.pkl.gz is missing"),
    ("SHA256SUMS", "SHA256SUMS is missing"),
    ("cifar-10-739/val_X.npy", "cifar-10-739/val_X.npy is missing"),
    ("cifar-10-739/SHA256SUMS", "cifar-10-739/SHA256SUMS is missing"),
])
def test_an_incomplete_mirror_names_what_is_missing(tiny_mirror, tmp_path, remove, named):
    (tiny_mirror / remove).unlink()
    out = tmp_path / "data"
    result = run_script({"HW2_DATA_MIRROR": str(tiny_mirror), "HW2_DATA_OUT": str(out)}, expect_ok=False)
    assert named in result.stderr and "no entry" not in result.stderr, result.stderr
    assert not (out / "mnist.pkl.gz").exists()


def test_an_empty_mirror_names_every_missing_file(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_script({"HW2_DATA_MIRROR": str(tmp_path / "empty"), "HW2_DATA_OUT": str(tmp_path / "data")},
                        expect_ok=False)
    for named in ("mnist.pkl.gz is missing", "/SHA256SUMS is missing", "cifar-10-739/SHA256SUMS is missing"):
        assert named in result.stderr, result.stderr


class _RunsCode:
    """Unpickling this calls os.system: what a crafted mnist.pkl.gz could do."""
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_crafted_mnist_pickle_runs_no_code(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    with gzip.open(tmp_path / "mnist.pkl.gz", "wb") as stream:
        pickle.dump(((_RunsCode(marker), np.zeros(3)),) * 3, stream)
    monkeypatch.setattr(hw2_utils, "data_search_path", lambda: [str(tmp_path)])
    with pytest.raises(hw2_utils.DataError, match="only numpy arrays and tuples"):
        hw2_utils.load_mnist()
    assert not marker.exists()


@pytest.mark.parametrize("parts", [
    (np.zeros((2, 784)), np.zeros(2)),                             # a pair, not three splits
    ((np.zeros((2, 784)), np.zeros(2)),) * 2,                      # two splits
    ((np.zeros((2, 784)),),) * 3,                                  # X without Y
    (([[0.0] * 784], [0]),) * 3,                                   # lists, not arrays
    ((np.zeros((2, 784)), np.zeros(2), np.zeros(2)),) * 3,         # triples
    "not even a tuple",
])
def test_mnist_pickle_of_the_wrong_structure_is_named(tmp_path, monkeypatch, parts):
    with gzip.open(tmp_path / "mnist.pkl.gz", "wb") as stream:
        pickle.dump(parts, stream)
    monkeypatch.setattr(hw2_utils, "data_search_path", lambda: [str(tmp_path)])
    with pytest.raises(hw2_utils.DataError, match="does not hold"):
        hw2_utils.load_mnist()


def test_object_arrays_in_mnist_pickle_are_refused(tmp_path, monkeypatch):
    x = np.empty((2, 784), dtype=object)
    x[:] = 0.5
    with gzip.open(tmp_path / "mnist.pkl.gz", "wb") as stream:
        pickle.dump(((x, np.zeros(2, int)),) * 3, stream)
    monkeypatch.setattr(hw2_utils, "data_search_path", lambda: [str(tmp_path)])
    with pytest.raises(hw2_utils.DataError):
        hw2_utils.load_mnist()


def corrupt(path):
    with open(path, "r+b") as stream:
        stream.seek(150)
        stream.write(b"\x13\x37\x13\x37")


def test_a_corrupted_file_already_in_data_is_replaced_from_the_mirror(tiny_mirror, tmp_path):
    out = tmp_path / "data"
    env = {"HW2_DATA_MIRROR": str(tiny_mirror), "HW2_DATA_OUT": str(out)}
    run_script(env)
    for name in ("mnist.pkl.gz", "cifar-10-739/train_y.npy"):
        corrupt(out / name)
        assert sha256(out / name) != sha256(tiny_mirror / name)
        run_script(env)
        assert sha256(out / name) == sha256(tiny_mirror / name), name


def test_a_corrupted_file_already_in_data_is_rebuilt_by_the_download_step(tiny_originals):
    env, *_ = tiny_originals
    run_script(env)
    out = env["HW2_DATA_OUT"]
    def content(name):  # a rebuilt .gz differs in its header's time stamp only
        data = pathlib.Path(out, name).read_bytes()
        return gzip.decompress(data) if name.endswith(".gz") else data
    for name in ("mnist.pkl.gz", "cifar-10-739/val_X.npy"):
        good = content(name)
        corrupt(os.path.join(out, name))
        run_script(env)
        assert content(name) == good, name


def data_command(*args):
    return run_main(hw2_data.main, *args)


def labels_command(*args):
    return data_command("private-labels", *args)


def test_the_scripts_steps_run_here_build_what_the_script_builds(tiny_originals, tmp_path):
    """get_dataset.sh's steps (fetch, mnist, cifar) called here give the script's files byte for byte;
    a download whose md5 differs is refused and leaves nothing."""
    env, mnist, _, _ = tiny_originals
    run_script(env)
    built, here = pathlib.Path(env["HW2_DATA_OUT"]), tmp_path / "here"
    src = tmp_path / "src"
    for name in mnist:
        fetched = data_command("fetch", (src / name).as_uri(), here / "downloads" / name, md5(src / name))
        assert fetched.returncode == 0 and fetched.stdout == f"  downloading {(src / name).as_uri()}\n", fetched
        assert (here / "downloads" / name).read_bytes() == (src / name).read_bytes()
    again = data_command("fetch", (src / name).as_uri(), here / "downloads" / name, md5(src / name))
    assert again.returncode == 0 and again.stdout == f"  {name}: present, checksum ok\n"
    archive = here / "downloads" / "cifar-10-python.tar.gz"
    wrong = data_command("fetch", (src / "cifar-10-python.tar.gz").as_uri(), archive, "0" * 32)
    assert wrong.returncode == 1 and wrong.stderr == (
        f"error: {archive}: md5 {md5(src / 'cifar-10-python.tar.gz')} does not match the published {'0' * 32}; "
        "the download is corrupt or the URL serves another file\n")
    assert not archive.exists()
    missing = data_command("fetch", (src / "nothing.gz").as_uri(), here / "downloads" / "nothing.gz", "0" * 32)
    assert missing.returncode == 1 and "could not download" in missing.stderr
    assert sorted(os.listdir(here / "downloads")) == sorted(mnist)
    assert data_command("fetch", (src / "cifar-10-python.tar.gz").as_uri(), archive,
                        md5(src / "cifar-10-python.tar.gz")).returncode == 0
    assert data_command("mnist", here / "downloads", here / "mnist.pkl.gz").returncode == 0
    assert gzip.decompress((here / "mnist.pkl.gz").read_bytes()) == \
        gzip.decompress((built / "mnist.pkl.gz").read_bytes())   # (gzip's header holds the time it was written)
    built_cifar = data_command("cifar", archive, here / "cifar-10-739")
    assert built_cifar.returncode == 0 and built_cifar.stdout == \
        f"  built {here / 'cifar-10-739'}: train_X 45, val_X 5, public_test_X 5, private_test_X 5\n"
    names = sorted(os.listdir(built / "cifar-10-739"))
    assert sorted(os.listdir(here / "cifar-10-739")) == names and len(names) == 8   # SHA256SUMS and 7 arrays
    for name in names:
        assert (here / "cifar-10-739" / name).read_bytes() == (built / "cifar-10-739" / name).read_bytes(), name
    assert data_command("nothing").returncode == 2


def test_course_staff_get_the_private_labels_of_the_students_images(tiny_originals, tmp_path):
    env, _, _, labels = tiny_originals
    run_script(env)
    archive = os.path.join(env["HW2_DATA_OUT"], "downloads", "cifar-10-python.tar.gz")
    cifar = os.path.join(env["HW2_DATA_OUT"], "cifar-10-739")
    out = tmp_path / "staff" / "private_test_y.npy"
    result = labels_command(archive, str(out), "--check", cifar)
    assert result.returncode == 0 and result.stdout == f"  wrote {out}: 5 private-test labels\n", result.stderr
    test_order = (lambda rng: (rng.permutation(50), rng.permutation(10))[1])(np.random.RandomState(739))
    np.testing.assert_array_equal(np.load(out), labels[50:][test_order[5:]])
    assert not os.path.exists(os.path.join(cifar, "private_test_y.npy"))


def test_private_labels_are_refused_inside_the_project_or_for_other_images(tiny_originals, tmp_path):
    env, *_ = tiny_originals
    run_script(env)
    archive = os.path.join(env["HW2_DATA_OUT"], "downloads", "cifar-10-python.tar.gz")
    inside = os.path.join(hw2_utils.ROOT, "data", "private_test_y.npy")
    refused = labels_command(archive, inside)
    assert refused.returncode == 1 and refused.stderr == (
        f"error: {inside} is inside the project ({os.path.realpath(hw2_utils.ROOT)}): write the private labels outside "
        "it (e.g. ~/hw2-staff/private_test_y.npy), where they can be neither distributed with the data nor "
        "committed\n") and not os.path.exists(inside)
    other = tmp_path / "other"
    other.mkdir()
    np.save(other / "private_test_X.npy", np.zeros((5, 32, 32, 3), np.uint8))
    mismatch = labels_command(archive, str(tmp_path / "y.npy"), "--check", str(other))
    assert mismatch.returncode == 1 and mismatch.stderr == (
        f"error: {archive}'s split does not give the private images in {other}: these labels would not belong "
        "to the students' private_test_X.npy\n")
    assert not (tmp_path / "y.npy").exists()


@pytest.mark.parametrize("link_to", ["data", ".", "tests"])
def test_private_labels_are_refused_through_a_link_into_the_project(tmp_path, link_to):
    """A path outside the project that leads into it by a symbolic link is inside it: refused before
    the archive is even read."""
    os.symlink(os.path.join(hw2_utils.ROOT, link_to), tmp_path / "link")
    out = tmp_path / "link" / "hw2-test-private_test_y.npy"
    with pytest.raises(hw2_data.DataBuildError, match="inside the project"):
        hw2_data.write_private_labels(str(tmp_path / "no-such-archive.tar.gz"), str(out))
    assert not out.exists()


def test_idx_files_are_read_exactly_and_a_bad_header_or_size_is_named(tmp_path):
    images = np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5)
    (tmp_path / "images.gz").write_bytes(_idx(images))
    read = hw2_data.read_idx(str(tmp_path / "images.gz"))
    assert read.dtype == np.uint8 and read.shape == (2, 3, 5) and np.array_equal(read, images)
    (tmp_path / "labels.gz").write_bytes(_idx(np.array([7, 1, 255])))
    assert hw2_data.read_idx(str(tmp_path / "labels.gz")).tolist() == [7, 1, 255]
    (tmp_path / "empty.gz").write_bytes(gzip.compress(bytes([0, 0, 8, 0])))   # a 0-d array: one byte, missing
    bad = {"short.gz": gzip.compress(b"\0\0\x08"),
           "magic.gz": gzip.compress(b"\0\x01\x08\x01" + (3).to_bytes(4, "big") + b"abc"),
           "floats.gz": gzip.compress(b"\0\0\x0d\x01" + (3).to_bytes(4, "big") + b"abc"),
           "cut.gz": gzip.compress(gzip.decompress(_idx(images))[:-1])}
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    for name in ("short.gz", "magic.gz", "floats.gz"):
        with pytest.raises(hw2_data.DataBuildError, match=f"^{tmp_path / name} is not an idx file of unsigned bytes$"):
            hw2_data.read_idx(str(tmp_path / name))
    with pytest.raises(hw2_data.DataBuildError, match=r"cut.gz is truncated: 29 bytes for shape \(2, 3, 5\)$"):
        hw2_data.read_idx(str(tmp_path / "cut.gz"))
    with pytest.raises(hw2_data.DataBuildError, match=r"empty.gz is truncated: 0 bytes for shape \(\)$"):
        hw2_data.read_idx(str(tmp_path / "empty.gz"))


def test_mnist_is_split_five_to_one_and_counts_that_differ_are_refused(tmp_path, capsys):
    rng = np.random.default_rng(4)
    raw = tmp_path / "raw"
    raw.mkdir()
    arrays = dict(zip(hw2_data.MNIST_FILES, (rng.integers(0, 256, (12, 28, 28)), rng.integers(0, 10, 12),
                                             rng.integers(0, 256, (4, 28, 28)), rng.integers(0, 10, 4))))
    for name, array in arrays.items():
        (raw / name).write_bytes(_idx(array))
    hw2_data.build_mnist(str(raw), str(tmp_path / "mnist.pkl.gz"))
    assert capsys.readouterr().out == f"  built {tmp_path / 'mnist.pkl.gz'}: 10 / 2 / 4\n"
    with gzip.open(tmp_path / "mnist.pkl.gz", "rb") as stream:
        (train_x, train_y), (valid_x, _), (test_x, test_y) = pickle.load(stream)
    assert train_x.shape == (10, 784) and train_x.dtype == np.float32 and train_y.dtype == np.int64
    assert np.array_equal(train_x[1], arrays["train-images-idx3-ubyte.gz"][1].reshape(784).astype(np.float32) / np.float32(255))
    assert valid_x.shape == (2, 784) and np.array_equal(test_y, arrays["t10k-labels-idx1-ubyte.gz"])
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(_idx(rng.integers(0, 10, 5)))
    with pytest.raises(hw2_data.DataBuildError, match=f"^MNIST images and labels in {raw} differ in count$"):
        hw2_data.build_mnist(str(raw), str(tmp_path / "other.pkl.gz"))
    assert not (tmp_path / "other.pkl.gz").exists()


def test_a_cifar_archive_that_is_not_one_or_lacks_a_batch_is_named(tiny_originals, tmp_path):
    """Only files named like CIFAR's batches count (a folder of that name does not); a missing batch
    or an archive that is not one is refused by name, and nothing is built."""
    src = tmp_path / "src"
    with tarfile.open(src / "cifar-10-python.tar.gz", "r:gz") as tar:
        members = [(member, tar.extractfile(member).read()) for member in tar.getmembers()]
    lacking = tmp_path / "lacking.tar.gz"
    with tarfile.open(lacking, "w:gz") as tar:
        for member, data in members:
            if member.name.endswith("test_batch"):
                folder = tarfile.TarInfo(member.name)   # a folder where the batch should be
                folder.type = tarfile.DIRTYPE
                tar.addfile(folder)
            else:
                tar.addfile(member, io.BytesIO(data))
    refused = data_command("cifar", lacking, tmp_path / "out")
    assert refused.returncode == 1 and refused.stderr == f"error: {lacking} lacks ['test_batch']\n"
    (tmp_path / "plain.tar.gz").write_bytes(b"not gzip at all")
    refused = data_command("cifar", tmp_path / "plain.tar.gz", tmp_path / "out")
    assert refused.returncode == 1 and refused.stderr.startswith(
        f"error: {tmp_path / 'plain.tar.gz'} is not a readable CIFAR-10 python archive: ")
    assert not (tmp_path / "out").exists()
    train_x, train_y, test_x, test_y = hw2_data.read_cifar_archive(str(src / "cifar-10-python.tar.gz"))
    assert train_x.shape == (50, 32, 32, 3) and train_x.dtype == np.uint8 and train_y.dtype == np.int64
    assert test_x.shape == (10, 32, 32, 3) and test_y.shape == (10,)
