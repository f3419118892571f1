"""The loaders and get_dataset.sh, offline: tiny mirrors and archives built here."""
import gzip
import hashlib
import io
import os
import pickle
import subprocess
import tarfile

import numpy as np
import pytest

import hw2_utils

SCRIPT = os.path.join(hw2_utils.ROOT, "get_dataset.sh")


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


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
