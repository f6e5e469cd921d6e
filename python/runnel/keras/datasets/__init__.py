"""keras.datasets: fashion_mnist and mnist, as Keras returns them:
(x_train, y_train), (x_test, y_test), images uint8 [N, 28, 28], labels uint8 [N]."""
from runnel.keras.datasets import fashion_mnist, mnist  # noqa: F401
