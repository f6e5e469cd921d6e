"""Keras's fit loop against numpy: for a linear model trained with SGD on the mean squared
error, numpy works out what every batch of every epoch must do (the rows, in order, the last
partial batch, the validation split's rows, the batch-size-weighted epoch loss Keras logs,
which is each batch's loss before its update), and fit, evaluate and predict must agree."""
import numpy as np
import pytest

from runnel import keras
from runnel.keras import layers

pytestmark = pytest.mark.usefixtures("fresh_keras")
LEARNING_RATE = 0.05


def data(n=13, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x @ [[1.0, -2.0], [0.5, 0.0], [-1.0, 3.0]] + rng.normal(size=(n, 2))).astype(np.float32)
    return x, y


def linear_model():
    model = keras.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile(keras.optimizers.SGD(learning_rate=LEARNING_RATE), "mse")
    w = np.arange(6, dtype=np.float32).reshape(3, 2) / 10 - 0.2
    b = np.array([0.1, -0.3], np.float32)
    model.set_weights([w, b])
    return model, w.astype(np.float64), b.astype(np.float64)


def mse(x, y, w, b):
    return float(np.mean((x @ w + b - y) ** 2))


def numpy_epoch(x, y, w, b, order, batch_size):
    """One epoch of SGD on the batches of `order`; the epoch's logged loss."""
    losses, sizes = [], []
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        xb, yb = x[rows].astype(np.float64), y[rows].astype(np.float64)
        error = xb @ w + b - yb
        losses.append(np.mean(error ** 2))
        sizes.append(len(rows))
        grad = 2 * error / error.size  # d mean(error^2) / d prediction
        w -= LEARNING_RATE * xb.T @ grad
        b -= LEARNING_RATE * grad.sum(0)
    return float(np.average(losses, weights=sizes))


def expect_history(history, expected):
    assert history.history.keys() == expected.keys()
    for key in expected:
        np.testing.assert_allclose(history.history[key], expected[key], rtol=2e-5)


def test_unshuffled_epochs_with_a_partial_batch_and_a_validation_split():
    x, y = data(13)
    model, w, b = linear_model()
    history = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, validation_split=0.2,
                        verbose=0)
    # Keras holds out the last rows, floor(13 * 0.8) = 10 for training: batches 4, 4, 2.
    train, val = np.arange(10), np.arange(10, 13)
    expected = {"loss": [], "val_loss": []}
    for _ in range(3):
        expected["loss"].append(numpy_epoch(x, y, w, b, train, 4))
        expected["val_loss"].append(mse(x[val], y[val], w, b))
    expect_history(history, expected)
    got_w, got_b = model.get_weights()
    np.testing.assert_allclose(got_w, w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_b, b, rtol=1e-5, atol=1e-6)


def test_shuffled_epochs_follow_numpys_seeded_permutations():
    """fit shuffles each epoch with np.random.permutation (seeded by
    keras.utils.set_random_seed or np.random.seed), all inputs and targets alike."""
    x, y = data(11)
    model, w, b = linear_model()
    np.random.seed(5)
    orders = [np.random.permutation(11) for _ in range(3)]
    assert not all(np.array_equal(orders[0], o) for o in orders[1:])
    np.random.seed(5)
    history = model.fit(x, y, batch_size=3, epochs=3, verbose=0)
    expected = {"loss": [numpy_epoch(x, y, w, b, order, 3) for order in orders]}
    expect_history(history, expected)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-5, atol=1e-6)


def test_initial_epoch_runs_the_remaining_epochs():
    x, y = data(8)
    model, w, b = linear_model()
    epochs_seen = []
    seen = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epochs_seen.append(e))
    history = model.fit(x, y, batch_size=8, epochs=3, initial_epoch=1, shuffle=False,
                        callbacks=[seen], verbose=0)
    assert epochs_seen == [1, 2]
    expect_history(history, {"loss": [numpy_epoch(x, y, w, b, np.arange(8), 8)
                                      for _ in range(2)]})


def test_evaluate_and_predict_cover_every_row_with_a_partial_last_batch():
    x, y = data(10)
    model, w, b = linear_model()
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=4, verbose=0), mse(x, y, w, b),
                               rtol=1e-5)
    np.testing.assert_allclose(model.predict(x, batch_size=4), x @ w + b, rtol=1e-5, atol=1e-6)


def test_validation_split_that_leaves_no_training_rows_is_an_error():
    x, y = data(3)
    model, _, _ = linear_model()
    history = model.fit(x, y, validation_split=0.1, verbose=0)  # floor(3 * 0.9) = 2 rows
    assert len(history.history["val_loss"]) == 1
    with pytest.raises(ValueError, match="3 samples"):
        model.fit(x, y, validation_split=0.7, verbose=0)  # floor(3 * 0.3) = 0 rows
