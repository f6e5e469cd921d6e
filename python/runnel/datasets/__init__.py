"""Datasets in the Keras shape: `(x_train, y_train), (x_test, y_test)`, uint8 arrays."""
from runnel.datasets import fashion_mnist
from runnel.datasets import mnist
