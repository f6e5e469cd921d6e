"""runnel.keras's callbacks count epochs as Keras does. A scripted callback placed first
writes the monitored value into each epoch's logs (user callbacks see the logs in order), so
each case's expected schedule is worked out by hand from Keras's documented rules."""
import numpy as np
import pytest

from runnel import keras
from runnel.keras import layers

K = keras.backend


pytestmark = pytest.mark.usefixtures("fresh_keras")


class Script(keras.callbacks.Callback):
    """Sets logs[key] to values[epoch] at each epoch's end and keeps the model's weights."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values, self.weights = key, values, []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append(self.model.get_weights())


def fit(callbacks, epochs, learning_rate=0.1):
    """A small model trained with SGD (its weights change every epoch); the History."""
    model = keras.Sequential([layers.Dense(1, input_shape=(2,))])
    model.compile(keras.optimizers.SGD(learning_rate=learning_rate), "mse")
    x, y = np.random.randn(16, 2), np.random.randn(16, 1)
    return model, model.fit(x, y, epochs=epochs, verbose=0, validation_data=(x, y),
                            callbacks=callbacks)


def assert_weights_equal(a, b):
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("losses, patience, min_delta, epochs_run", [
    # Stops once `patience` epochs in a row did not improve on the best.
    ([5, 4, 4.5, 4.2, 3.9, 4, 4, 4], 2, 0, 4),
    ([5, 4, 4, 4, 4], 1, 0, 3),
    # patience 0 stops at the first epoch without improvement, never at the first epoch.
    ([5, 5, 5], 0, 0, 2),
    # An improvement smaller than min_delta is none: 4.6 is not below 5 - 0.5.
    ([5, 4.6, 4.0, 3.0, 2.0], 1, 0.5, 2),
    ([5, 4.4, 3.8, 3.2, 3.0, 2.9], 1, 0.5, 5),
])
def test_early_stopping_counts_epochs_without_improvement(losses, patience, min_delta,
                                                          epochs_run):
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                         min_delta=min_delta)
    _, history = fit([Script("val_loss", losses), stop], epochs=len(losses))
    assert history.history["val_loss"] == losses[:epochs_run]
    assert stop.stopped_epoch == (epochs_run - 1 if epochs_run < len(losses) else 0)


def test_early_stopping_with_a_baseline_counts_epochs_that_miss_it():
    # Improving on the best but not on the baseline does not restart the count, and an
    # improving epoch never stops training: 5 epochs, stopped by the first without progress.
    script = Script("val_loss", [5, 4, 3.5, 3.2, 3.3, 3.1])
    stop = keras.callbacks.EarlyStopping(patience=2, baseline=3.0, restore_best_weights=True)
    model, history = fit([script, stop], epochs=6)
    assert len(history.history["val_loss"]) == 5
    assert_weights_equal(model.get_weights(), script.weights[3])  # the best epoch, 3.2


def test_early_stopping_restores_the_best_weights_also_without_stopping():
    script = Script("val_loss", [3, 2, 1, 5])
    stop = keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)
    model, history = fit([script, stop], epochs=4)
    assert len(history.history["val_loss"]) == 4 and stop.stopped_epoch == 0
    assert_weights_equal(model.get_weights(), script.weights[2])


def test_early_stopping_in_max_mode_and_from_an_epoch():
    script = Script("val_accuracy", [0.5, 0.4, 0.4, 0.6, 0.6, 0.6])
    stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=1,
                                         start_from_epoch=2)
    _, history = fit([script, stop], epochs=6)
    assert history.history["val_accuracy"] == [0.5, 0.4, 0.4, 0.6, 0.6]  # counted from epoch 3


@pytest.mark.parametrize("cooldown, min_lr, logged_lr, final_lr", [
    # patience 2: the second epoch in a row without improvement halves the rate; the lr
    # logged at an epoch's end is the one that epoch trained with.
    (0, 0, [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025], 0.0125),
    # cooldown 2: the two epochs after a reduction reset the count, and the first of them
    # does not count either.
    (2, 0, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025], 0.025),
    # never below min_lr.
    (0, 0.03, [0.1, 0.1, 0.1, 0.05, 0.05, 0.03, 0.03], 0.03),
])
def test_reduce_lr_on_plateau_schedule(cooldown, min_lr, logged_lr, final_lr):
    reduce = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2,
                                               cooldown=cooldown, min_lr=min_lr)
    # The loss improves at epoch 0 only.
    model, history = fit([Script("val_loss", [1.0] * 7), reduce], epochs=7, learning_rate=0.1)
    np.testing.assert_allclose(history.history["lr"], logged_lr, rtol=1e-6)
    np.testing.assert_allclose(K.get_value(model.optimizer.lr), final_lr, rtol=1e-6)


def test_reduce_lr_on_plateau_improvement_restarts_the_count():
    reduce = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2,
                                               min_delta=0.1)
    # 0.95 is within min_delta of 1.0 and 0.45 of 0.5 (no improvement); 0.5 improves on 1.0.
    _, history = fit([Script("val_loss", [1.0, 0.95, 0.5, 0.5, 0.45, 0.5]), reduce], epochs=6)
    np.testing.assert_allclose(history.history["lr"], [0.1, 0.1, 0.1, 0.1, 0.1, 0.05],
                               rtol=1e-6)


def test_learning_rate_scheduler_sets_each_epochs_rate():
    _, history = fit([keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr / 2)],
                     epochs=3)
    np.testing.assert_allclose(history.history["lr"], [0.05, 0.025, 0.0125], rtol=1e-6)


def test_model_checkpoint_saves_only_improvements(tmp_path):
    path = str(tmp_path / "model.{epoch:02d}-{val_loss:.1f}.keras")
    script = Script("val_loss", [3.0, 2.0, 2.5, 1.0, 1.0])
    check = keras.callbacks.ModelCheckpoint(path, save_best_only=True)
    fit([script, check], epochs=5)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "model.01-3.0.keras", "model.02-2.0.keras", "model.04-1.0.keras"]
    restored = keras.models.load_model(tmp_path / "model.04-1.0.keras")
    assert_weights_equal(restored.get_weights(), script.weights[3])


def test_model_checkpoint_in_max_mode_and_weights_only(tmp_path):
    path = tmp_path / "best.weights"
    script = Script("val_acc", [0.5, 0.7, 0.6])
    check = keras.callbacks.ModelCheckpoint(str(path), monitor="val_acc", save_best_only=True,
                                            save_weights_only=True)
    model, _ = fit([script, check], epochs=3)
    model.load_weights(path)
    assert_weights_equal(model.get_weights(), script.weights[1])
