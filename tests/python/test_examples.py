"""The example scripts run end to end (on a slice of the data, few epochs: the full runs and
their accuracies are in the notes and tools/bench/README.md)."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "tools/examples"
FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")

needs_fashion_mnist = pytest.mark.skipif(
    not (FASHION / "t10k-images-idx3-ubyte.gz").exists(),
    reason="Fashion-MNIST not installed (Debian's dataset-fashion-mnist)")


def run(script, *args):
    return subprocess.run([sys.executable, str(EXAMPLES / script)] + list(args),
                          capture_output=True, text=True, check=True).stdout


def number(pattern, out):
    match = re.search(pattern, out)
    assert match, f"{pattern!r} not in the output:\n{out}"
    return [float(g) for g in match.groups()]


@needs_fashion_mnist
def test_cnn_example_learns():
    out = run("fashion_mnist_cnn.py", "--epochs", "1", "--train-examples", "3000")
    accuracy, = number(r"epoch 1: .*test accuracy ([0-9.]+)", out)
    assert accuracy > 0.6, out  # ten classes: chance is 0.1


@needs_fashion_mnist
def test_keras_cnn_example_learns():
    out = run("keras/fashion_mnist_cnn.py", "--epochs", "1", "--train-examples", "3000")
    assert re.search(r"Epoch 1/1\n\d+/\d+ - \d+s - .*val_accuracy", out), out
    accuracy, = number(r"test accuracy ([0-9.]+)", out)
    assert accuracy > 0.6, out


def test_keras_mlp_example_stops_early_and_beats_the_largest_class():
    out = run("keras/mlp_classifier.py", "--examples", "3000", "--epochs", "80")
    epochs, accuracy = number(r"stopped after (\d+) epochs; .*test accuracy ([0-9.]+)", out)
    # Three thousand examples overfit long before 80 epochs: validation loss stops falling,
    # and EarlyStopping (patience 4) ends the run.
    assert epochs < 80, out
    assert accuracy > 0.6, out  # the largest class is 26% of the data


def test_keras_regression_example_fits_the_distance():
    out = run("keras/regression.py", "--epochs", "5")
    mse, baseline = number(r"validation mse ([0-9.]+) \(predicting the mean: ([0-9.]+)\)", out)
    assert mse < baseline / 10, out
    for predicted, true in re.findall(r"predicted ([0-9.-]+), true ([0-9.]+)", out):
        assert abs(float(predicted) - float(true)) < 0.25, out


def test_keras_lstm_example_beats_the_last_value_forecast():
    out = run("keras/lstm_sine.py", "--epochs", "3", "--readings", "2000")
    lstm, naive, _ = number(r"LSTM ([0-9.]+), last-value forecast ([0-9.]+) \(noise alone: "
                            r"([0-9.]+)\)", out)
    assert lstm < naive, out
