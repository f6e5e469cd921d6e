"""Fashion-MNIST: 60,000 training and 10,000 test images of clothing, 28x28 uint8, ten
classes. Read from Debian's package `dataset-fashion-mnist`."""
import os

from runnel.datasets import idx

DEFAULT_PATH = "/usr/share/datasets/fashion-mnist"
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


def load_data(path=None):
    """`(x_train, y_train), (x_test, y_test)` from the IDX files in `path`."""
    path = path or os.environ.get("RUNNEL_FASHION_MNIST", DEFAULT_PATH)
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"Fashion-MNIST not found at {path}: install Debian's package dataset-fashion-mnist "
            "(sudo apt-get install dataset-fashion-mnist) or pass path=")
    return idx.load_data(path, "Fashion-MNIST")
