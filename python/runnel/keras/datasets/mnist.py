"""MNIST from a directory of its IDX files: `path`, else $RUNNEL_MNIST, else
~/.keras/datasets/mnist. Runnel downloads nothing: place the four files there."""
import os

from runnel.datasets import mnist


def load_data(path=None):
    path = path or os.environ.get("RUNNEL_MNIST") or \
        os.path.expanduser("~/.keras/datasets/mnist")
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"MNIST not found at {path}: put train-images-idx3-ubyte.gz, "
            "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
            "t10k-labels-idx1-ubyte.gz there, or set RUNNEL_MNIST to their directory")
    return mnist.load_data(path)
