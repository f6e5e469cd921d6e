"""IDX reading and the dataset loaders (Keras shapes, uint8, clear errors)."""
import gzip
import os

import numpy as np
import pytest

import runnel as tf
from conftest import SHARED_DATA
from runnel.datasets import idx


def write_idx(path, array, compress):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    with (gzip.open(path + ".gz", "wb") if compress else open(path, "wb")) as f:
        f.write(data)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip_and_mnist_loader(tmp_path, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28))
    labels = rng.integers(0, 10, 5)
    for prefix in ("train", "t10k"):
        write_idx(str(tmp_path / f"{prefix}-images-idx3-ubyte"), images, compress)
        write_idx(str(tmp_path / f"{prefix}-labels-idx1-ubyte"), labels, compress)
    (x, y), (xt, yt) = tf.datasets.mnist.load_data(str(tmp_path))
    assert x.dtype == np.uint8 and x.shape == (5, 28, 28)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(yt, labels)


def test_corrupt_idx_is_a_clear_error(tmp_path):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(b"\x00\x00\x08\x03" + (10).to_bytes(4, "big") * 3 + b"\x00" * 7)
    with pytest.raises(ValueError, match="truncated or corrupt"):
        idx.read_idx(str(path))
    path.write_bytes(b"garbage!")
    with pytest.raises(ValueError, match="not an IDX file"):
        idx.read_idx(str(path))


def test_missing_fashion_mnist_names_the_debian_package(tmp_path):
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        tf.datasets.fashion_mnist.load_data(str(tmp_path / "nowhere"))


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_debian():
    (x, y), (xt, yt) = tf.datasets.fashion_mnist.load_data()
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [6000] * 10


@pytest.mark.skipif(not (SHARED_DATA / "mnist").is_dir(), reason=f"no MNIST at {SHARED_DATA}")
def test_mnist_test_split_from_shared_data():
    (x, y), (xt, yt) = tf.datasets.mnist.load_data(str(SHARED_DATA / "mnist"))
    assert x is None and xt.shape == (10000, 28, 28) and yt[:3].tolist() == [7, 2, 1]
