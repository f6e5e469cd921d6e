"""MNIST: 28x28 uint8 handwritten digits, from a directory of IDX files (gzipped or not):
train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
t10k-labels-idx1-ubyte. A split whose files are missing is returned as None."""
import os

from runnel.datasets import idx


def load_data(path):
    if not os.path.isdir(path):
        raise FileNotFoundError(f"MNIST not found: {path} is not a directory of IDX files")

    def split(prefix):
        try:
            return idx.load_split(path, prefix)
        except FileNotFoundError:
            return None, None
    train, test = split("train"), split("t10k")
    if train[0] is None and test[0] is None:
        raise FileNotFoundError(f"no MNIST IDX files in {path}")
    return train, test
