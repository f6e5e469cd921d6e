"""Fashion-MNIST from Debian's package dataset-fashion-mnist (or $RUNNEL_FASHION_MNIST)."""
from runnel.datasets import fashion_mnist


def load_data(path=None):
    return fashion_mnist.load_data(path)
