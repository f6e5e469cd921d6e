"""The example scripts run end to end (on a slice of the data, one epoch: the full runs and
their accuracies are in the notes and tools/bench/README.md)."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")

pytestmark = pytest.mark.skipif(not (FASHION / "t10k-images-idx3-ubyte.gz").exists(),
                                reason="Fashion-MNIST not installed (Debian's "
                                       "dataset-fashion-mnist)")


def test_cnn_example_learns():
    out = subprocess.run([sys.executable, str(ROOT / "tools/examples/fashion_mnist_cnn.py"),
                          "--epochs", "1", "--train-examples", "3000"],
                         capture_output=True, text=True, check=True).stdout
    accuracy = float(re.search(r"epoch 1: .*test accuracy ([0-9.]+)", out).group(1))
    assert accuracy > 0.6, out  # ten classes: chance is 0.1
