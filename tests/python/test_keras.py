"""runnel.keras: layers, losses and metrics against numpy, training against closed-form
answers, callbacks, saving, and the errors bad input gets."""
import io
import json
import math

import numpy as np
import pytest

import runnel as tf
from runnel import keras
from runnel.keras import layers

K = keras.backend


pytestmark = pytest.mark.usefixtures("fresh_keras")


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_dense_stack_computes_what_its_weights_say():
    model = keras.Sequential([layers.Dense(5, activation="relu", input_dim=3),
                              layers.Dense(2, activation="softmax")])
    x = np.random.randn(4, 3).astype(np.float32)
    w1, b1, w2, b2 = model.get_weights()
    expected = softmax(np.maximum(x @ w1 + b1, 0) @ w2 + b2)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-6)
    assert [w.name for w in model.weights] == ["dense/kernel:0", "dense/bias:0",
                                               "dense_1/kernel:0", "dense_1/bias:0"]


def test_sequential_may_start_with_keras_input():
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2)])
    x = np.random.randn(4, 3).astype(np.float32)
    w, b = model.get_weights()
    np.testing.assert_allclose(model.predict(x), x @ w + b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="an input can only be a Sequential's first entry"):
        model.add(keras.Input(shape=(2,)))


def test_linear_regression_reaches_least_squares():
    x = np.random.randn(256, 3)
    y = x @ np.array([[1.5], [-2.0], [0.5]]) + 0.3 + 0.01 * np.random.randn(256, 1)
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(keras.optimizers.SGD(learning_rate=0.1), "mse")
    model.fit(x, y, batch_size=32, epochs=60, verbose=0)
    w, b = model.get_weights()
    solution, *_ = np.linalg.lstsq(np.hstack([x, np.ones((256, 1))]), y, rcond=None)
    np.testing.assert_allclose(np.vstack([w, b[None]]), solution, atol=2e-2)


@pytest.mark.parametrize("loss", ["categorical_crossentropy", "sparse_categorical_crossentropy",
                                  "binary_crossentropy", "mse", "mae"])
def test_losses_and_metrics_match_numpy(loss):
    classes = 4
    x = np.random.randn(50, 6).astype(np.float32)
    ids = np.random.randint(0, classes, 50)
    onehot = np.eye(classes)[ids]
    final = "sigmoid" if loss == "binary_crossentropy" else "softmax"
    model = keras.Sequential([layers.Dense(classes, activation=final, input_shape=(6,))])
    sparse = loss.startswith("sparse")
    model.compile("sgd", loss, metrics=["accuracy"] + ([] if sparse else ["mae"]))
    loss_value, accuracy, *mae = model.evaluate(x, ids if sparse else onehot, batch_size=16,
                                                verbose=0)
    p = model.predict(x).astype(np.float64)
    expected = {
        "categorical_crossentropy": -np.log((p * onehot).sum(1)).mean(),
        "sparse_categorical_crossentropy": -np.log(p[np.arange(50), ids]).mean(),
        "binary_crossentropy": -(onehot * np.log(p) + (1 - onehot) * np.log(1 - p)).mean(),
        "mse": ((p - onehot) ** 2).mean(), "mae": np.abs(p - onehot).mean(),
    }[loss]
    assert loss_value == pytest.approx(expected, rel=1e-4)
    if not sparse:
        assert mae[0] == pytest.approx(np.abs(p - onehot).mean(), rel=1e-4)
    if loss == "binary_crossentropy":
        assert accuracy == pytest.approx(((p > 0.5) == onehot).mean(), abs=1e-6)
    else:
        assert accuracy == pytest.approx((p.argmax(1) == ids).mean(), abs=1e-6)


def numpy_lstm(x, kernel, recurrent, bias):
    units = recurrent.shape[0]
    h = c = np.zeros((x.shape[0], units))
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent + bias
        i, f, g, o = (z[:, k * units:(k + 1) * units] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, 1)


def test_lstm_and_simple_rnn_follow_their_equations():
    x = np.random.randn(3, 5, 2).astype(np.float32)
    lstm = keras.Sequential([layers.LSTM(4, return_sequences=True, input_shape=(5, 2))])
    kernel, recurrent, bias = lstm.get_weights()
    np.testing.assert_array_equal(bias, [0] * 4 + [1] * 4 + [0] * 8)  # unit_forget_bias
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(4), atol=1e-5)  # orthogonal
    np.testing.assert_allclose(lstm.predict(x), numpy_lstm(x, kernel, recurrent, bias),
                               rtol=1e-4, atol=1e-5)
    rnn = keras.Sequential([layers.SimpleRNN(3, input_shape=(5, 2))])
    kernel, recurrent, bias = rnn.get_weights()
    h = np.zeros((3, 3))
    for t in range(5):
        h = np.tanh(x[:, t] @ kernel + h @ recurrent + bias)
    np.testing.assert_allclose(rnn.predict(x), h, rtol=1e-4, atol=1e-5)


def numpy_gru(x, kernel, recurrent, bias, reset_after):
    units = recurrent.shape[0]
    h, outputs = np.zeros((x.shape[0], units)), []
    input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, 0 * bias)
    for t in range(x.shape[1]):
        xz, xr, xh = np.split(x[:, t] @ kernel + input_bias, 3, axis=1)
        if reset_after:
            rz, rr, rh = np.split(h @ recurrent + recurrent_bias, 3, axis=1)
            z, r = sigmoid(xz + rz), sigmoid(xr + rr)
            candidate = np.tanh(xh + r * rh)
        else:
            rz, rr = np.split(h @ recurrent[:, :2 * units], 2, axis=1)
            z, r = sigmoid(xz + rz), sigmoid(xr + rr)
            candidate = np.tanh(xh + (r * h) @ recurrent[:, 2 * units:])
        h = z * h + (1 - z) * candidate
        outputs.append(h)
    return np.stack(outputs, 1)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_follows_its_equations(reset_after):
    x = np.random.randn(3, 5, 2).astype(np.float32)
    gru = keras.Sequential([layers.GRU(4, return_sequences=True, reset_after=reset_after,
                                       input_shape=(None, 2))])
    kernel, recurrent, bias = gru.get_weights()
    assert bias.shape == ((2, 12) if reset_after else (12,))
    bias = np.random.randn(*bias.shape).astype(np.float32)
    gru.set_weights([kernel, recurrent, bias])
    np.testing.assert_allclose(gru.predict(x), numpy_gru(x, kernel, recurrent, bias, reset_after),
                               rtol=1e-4, atol=1e-5)


def test_recurrent_layers_run_any_length_backwards_and_return_their_state():
    """The time steps are a while loop's: sequences of any length go through one model."""
    inputs = keras.Input((None, 2))
    output, h, c = layers.LSTM(4, return_state=True, go_backwards=True)(inputs)
    model = keras.Model(inputs, [output, h, c])
    kernel, recurrent, bias = model.get_weights()
    for steps in (1, 7):
        x = np.random.randn(3, steps, 2).astype(np.float32)
        got_output, got_h, got_c = model.predict(x)
        expected = numpy_lstm(x[:, ::-1], kernel, recurrent, bias)[:, -1]
        np.testing.assert_allclose(got_output, expected, rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(got_output, got_h)
        assert got_c.shape == (3, 4) and np.abs(got_c).max() > np.abs(got_h).max() * 0.5


def test_an_lstm_model_learns_to_add_up_a_sequence():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (512, 8, 1)).astype(np.float32)
    y = x.sum(axis=(1, 2))
    model = keras.Sequential([layers.LSTM(16, input_shape=(None, 1)), layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.05 * np.var(y)


def test_batch_normalization_trains_on_batch_moments_and_predicts_with_moving_ones():
    model = keras.Sequential([layers.BatchNormalization(momentum=0.5, input_shape=(3,))])
    model.compile("sgd", "mse")
    x = np.random.randn(8, 3).astype(np.float32) * 2 + 1
    gamma, beta, mean, var = model.get_weights()
    model.train_on_batch(x, np.zeros((8, 3)))
    _, _, new_mean, new_var = model.get_weights()
    np.testing.assert_allclose(new_mean, 0.5 * mean + 0.5 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(new_var, 0.5 * var + 0.5 * x.var(0), rtol=1e-4)
    gamma, beta = model.get_weights()[:2]
    expected = (x - new_mean) / np.sqrt(new_var + 1e-3) * gamma + beta
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-4, atol=1e-5)


def test_functional_model_with_skip_connections():
    a, b = keras.Input(shape=(2,), name="a"), keras.Input(shape=(3,), name="b")
    joined = layers.concatenate([a, b])
    hidden = layers.Dense(5, activation="tanh")(joined)
    out = layers.add([layers.Dense(5)(hidden), hidden])
    model = keras.Model([a, b], out)
    xa, xb = np.random.randn(4, 2), np.random.randn(4, 3)
    w1, b1, w2, b2 = model.get_weights()
    h = np.tanh(np.hstack([xa, xb]) @ w1 + b1)
    np.testing.assert_allclose(model.predict({"a": xa, "b": xb}), h @ w2 + b2 + h, rtol=1e-5,
                               atol=1e-6)
    model.compile("adam", "mse")
    before = model.evaluate([xa, xb], np.ones((4, 5)), verbose=0)
    model.fit([xa, xb], np.ones((4, 5)), epochs=20, verbose=0)
    assert model.evaluate([xa, xb], np.ones((4, 5)), verbose=0) < before


def test_frozen_layers_keep_their_weights():
    model = keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(1)])
    model.layers[0].trainable = False
    model.compile("sgd", "mse")
    frozen = model.layers[0].get_weights()
    trained = model.layers[1].get_weights()
    model.fit(np.random.randn(32, 3), np.random.randn(32, 1), epochs=2, verbose=0)
    for w, v in zip(frozen, model.layers[0].get_weights()):
        np.testing.assert_array_equal(w, v)
    assert not np.allclose(trained[0], model.layers[1].get_weights()[0])
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


def test_a_model_used_as_a_layer_shares_its_weights_freezes_and_saves(tmp_path):
    base = keras.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)),
                             layers.BatchNormalization(), layers.Dropout(0.5)], name="base")
    inputs = keras.Input(shape=(3,))
    head = layers.Dense(2, name="head")
    model = keras.Model(inputs, head(base(inputs, training=False)))
    x = np.random.randn(16, 3).astype(np.float32)
    y = np.random.randn(16, 2).astype(np.float32)
    w, b, gamma, beta, mean, variance = base.get_weights()
    w2, b2 = head.get_weights()
    features = (np.maximum(x @ w + b, 0) - mean) / np.sqrt(variance + 1e-3) * gamma + beta
    np.testing.assert_allclose(model.predict(x), features @ w2 + b2, rtol=1e-5, atol=1e-5)
    lines = []
    model.summary(print_fn=lines.append)
    assert any(line.startswith(" base (Sequential)") and " 32 " in line for line in lines)

    # Frozen base: only the head learns, and with training=False the base's batch norm
    # keeps its moving averages and its dropout stays off while the model trains.
    base.trainable = False
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.fit(x, y, epochs=3, verbose=0)
    for before, after in zip([w, b, gamma, beta, mean, variance], base.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert not np.array_equal(w2, head.get_weights()[0])
    expected = features @ head.get_weights()[0] + head.get_weights()[1]
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-5)

    path = tmp_path / "nested.keras"
    model.save(path)
    K.clear_session()
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x), expected, rtol=1e-5, atol=1e-5)
    assert not loaded.get_layer("base").trainable

    # In a Sequential, trained as a whole: the base's batch norm updates its moving mean.
    stacked = keras.Sequential([loaded.get_layer("base"), layers.Dense(1)])
    stacked.get_layer("base").trainable = True
    stacked.compile("sgd", "mse")
    stacked.fit(x, y[:, :1], epochs=1, batch_size=16, verbose=0)
    assert not np.allclose(stacked.get_layer("base").get_weights()[4], mean)


def test_l2_regularizer_adds_its_penalty_to_the_loss():
    model = keras.Sequential([layers.Dense(2, input_shape=(3,), use_bias=False,
                                           kernel_regularizer=keras.regularizers.l2(0.1))])
    model.compile("sgd", "mse")
    x, y = np.random.randn(5, 3), np.random.randn(5, 2)
    (w,) = model.get_weights()
    expected = ((x @ w - y) ** 2).mean() + 0.1 * (w ** 2).sum()
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_save_and_load_model_resume_training_exactly(tmp_path):
    def build():
        model = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                                  layers.Dropout(0.0), layers.Dense(3, activation="softmax")])
        model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model
    x, y = np.random.randn(64, 4), np.random.randint(0, 3, 64)
    model = build()
    model.fit(x, y, epochs=2, verbose=0, shuffle=False)
    path = tmp_path / "model.keras"
    model.save(path)
    model.fit(x, y, epochs=1, verbose=0, shuffle=False)
    expected = model.predict(x)
    loaded = keras.models.load_model(path)
    loaded.fit(x, y, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(loaded.predict(x), expected, rtol=1e-5, atol=1e-6)
    assert not list(tmp_path.glob("*.tmp*"))
    config = json.loads(model.to_json())
    rebuilt = keras.models.model_from_json(model.to_json())
    assert [type(layer).__name__ for layer in rebuilt.layers] == \
        [entry["class_name"] for entry in config["config"]["layers"]]
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt.predict(x), expected, rtol=1e-6)


def test_a_model_compiled_again_saves_the_state_its_optimizer_now_uses(tmp_path):
    model = keras.Sequential([layers.Dense(2, input_shape=(3,))])
    optimizer = keras.optimizers.Adam()
    x, y = np.random.randn(8, 3), np.random.randn(8, 2)
    for loss in ("mse", "mae"):
        model.compile(optimizer, loss)
        model.fit(x, y, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    for a, b in zip(K.batch_get_value(optimizer.weights),
                    K.batch_get_value(loaded.optimizer.weights)):
        np.testing.assert_array_equal(a, b)


def test_weights_file_round_trip_and_errors(tmp_path):
    model = keras.Sequential([layers.Dense(2, input_shape=(3,))])
    model.save_weights(tmp_path / "w.keras")
    other = keras.Sequential([layers.Dense(2, input_shape=(3,))])
    other.load_weights(tmp_path / "w.keras")
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="has shape"):
        keras.Sequential([layers.Dense(4, input_shape=(3,))]).load_weights(tmp_path / "w.keras")
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a model saved"):
        keras.models.load_model(tmp_path / "bad.keras")
    with pytest.raises(FileNotFoundError):
        keras.models.load_model(tmp_path / "missing.keras")


def test_csv_logger_and_terminate_on_nan(tmp_path):
    model = keras.Sequential([layers.Dense(1, input_shape=(1,))])
    model.compile(keras.optimizers.SGD(learning_rate=1e6), "mse")
    x = np.linspace(-100, 100, 64)[:, None]
    history = model.fit(x, 3 * x, batch_size=4, epochs=5, verbose=0, callbacks=[
        keras.callbacks.CSVLogger(tmp_path / "log.csv"), keras.callbacks.TerminateOnNaN()])
    assert len(history.history["loss"]) == 1 and not math.isfinite(history.history["loss"][0])
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0] == "epoch,loss" and rows[1].startswith("0,")


def test_progress_lines(capsys):
    model = keras.Sequential([layers.Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse", metrics=["mae"])
    x, y = np.random.randn(50, 2), np.random.randn(50, 1)
    model.fit(x, y, batch_size=10, epochs=2, validation_data=(x, y))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2"
    assert lines[1].startswith("5/5 [==============================] - ")
    assert " - loss: " in lines[1] and " - mae: " in lines[1] and " - val_mae: " in lines[1]
    model.fit(x, y, batch_size=10, epochs=1, verbose=2)
    assert capsys.readouterr().out.splitlines()[1].startswith("5/5 - ")
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_progbar_redraws_in_place_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True
    stream = Terminal()
    bar = keras.utils.Progbar(4, stream=stream, interval=0)
    for step in range(1, 5):
        bar.update(step, {"loss": 0.5})
    text = stream.getvalue()
    assert text.count("\r") == 4 and "ETA" in text and text.endswith("\n")
    assert "4/4 [==============================]" in text


def test_fit_on_a_sequence_and_a_generator():
    x, y = np.random.randn(40, 3), np.random.randn(40, 1)

    class Batches(keras.utils.Sequence):
        epochs_ended = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i * 10:(i + 1) * 10], y[i * 10:(i + 1) * 10]

        def on_epoch_end(self):
            Batches.epochs_ended += 1
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    history = model.fit(Batches(), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and Batches.epochs_ended == 2

    def forever():
        while True:
            yield x[:10], y[:10]
    model.fit(forever(), steps_per_epoch=3, epochs=1, verbose=0)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(
        ((model.predict(x) - y) ** 2).mean(), rel=1e-4)


def test_bad_input_says_what_was_expected():
    model = keras.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    with pytest.raises(ValueError, match=r"Unknown optimizer: 'adamm'.*adam, adagrad|adam"):
        model.compile("adamm", "mse")
    with pytest.raises(ValueError, match="Unknown loss function: 'mse2'. Valid names: .*mae"):
        model.compile("adam", "mse2")
    with pytest.raises(ValueError, match="Unknown activation function: 'rellu'.*relu"):
        layers.Dense(2, activation="rellu")
    with pytest.raises(ValueError, match="Unknown initializer: 'unifrom'.*uniform"):
        layers.Dense(2, kernel_initializer="unifrom")
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="x sizes: 10; y sizes: 9"):
        model.fit(np.zeros((10, 4)), np.zeros(9), verbose=0)
    with pytest.raises(ValueError, match=r"expected dense_input to have shape \(4,\).*\(10, 5\)"):
        model.fit(np.zeros((10, 5)), np.zeros(10), verbose=0)
    with pytest.raises(ValueError, match=r"class ids must be in \[0, 3\)"):
        model.fit(np.zeros((10, 4)), np.full(10, 3), verbose=0)
    model.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match="to_categorical"):
        model.fit(np.zeros((10, 4)), np.zeros(10), verbose=0)


def test_to_categorical_and_plot_history(tmp_path):
    np.testing.assert_array_equal(keras.utils.to_categorical([2, 0, 1]), np.eye(3)[[2, 0, 1]])
    assert keras.utils.to_categorical([[1], [0]], 4).shape == (2, 4)
    pytest.importorskip("matplotlib", reason="python3-matplotlib not installed")
    path = tmp_path / "curves.png"
    keras.utils.plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7],
                              "accuracy": [0.5, 0.8]}, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_a_trained_model_freezes_to_a_graph_that_gives_the_same_outputs():
    model = keras.Sequential([layers.Conv2D(2, 3, activation="relu", input_shape=(6, 6, 1)),
                              layers.BatchNormalization(), layers.Flatten(),
                              layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.rand(8, 6, 6, 1).astype(np.float32)
    model.fit(x, np.random.randint(0, 3, 8), epochs=2, verbose=0)
    expected = model.predict(x)
    session = K.get_session()
    output = model.outputs[0].op.name
    frozen = tf.graph_util.convert_variables_to_constants(
        session, session.graph.as_graph_def(), [output])
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(frozen, name="")
        with tf.Session(graph=graph) as sess:
            got = sess.run(f"{output}:0", {f"{model.inputs[0].op.name}:0": x})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_plot_model_draws_the_model_graph_without_its_training_ops(tmp_path):
    model = keras.Sequential([layers.Dense(3, activation="relu", input_shape=(2,)),
                              layers.Dense(1)])
    model.compile("adam", "mse")
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0)
    keras.utils.plot_model(model, tmp_path / "model.dot")
    dot = (tmp_path / "model.dot").read_text()
    assert '"dense/MatMul" -> "dense/BiasAdd"' in dot and '"dense_1/BiasAdd"' in dot
    assert "training" not in dot and "Adam" not in dot
    keras.utils.plot_model(model, tmp_path / "model.html")
    page = (tmp_path / "model.html").read_text()
    assert "dense_1/BiasAdd" in page and "<html" in page.lower()


def test_set_random_seed_repeats_a_run_and_another_seed_changes_it():
    x = np.random.randn(64, 5, 3).astype(np.float32)
    y = np.random.randint(0, 2, 64)

    def train(seed):
        K.clear_session()
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([layers.LSTM(4, input_shape=(5, 3)),  # orthogonal init
                                  layers.Dropout(0.5),
                                  layers.Dense(2, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)  # shuffled batches
        return model.get_weights()

    first, again, other = train(3), train(3), train(4)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_isolated_session_gives_the_callers_models_back_with_their_values():
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])
    model.set_weights([np.ones((3, 2), np.float32), np.zeros(2, np.float32)])
    with keras.backend.isolated_session():
        other = keras.Sequential([keras.layers.Dense(4, input_shape=(3,))])
        assert other.predict(np.zeros((1, 3))).shape == (1, 4)
    np.testing.assert_array_equal(model.predict(np.ones((1, 3))), [[3.0, 3.0]])


def test_bidirectional_runs_a_copy_of_the_layer_backwards_and_merges():
    x = np.random.randn(2, 6, 3).astype(np.float32)
    model = keras.Sequential([layers.Bidirectional(layers.LSTM(4, return_sequences=True),
                                                   input_shape=(None, 3))])
    fk, fr, fb, bk, br, bb = model.get_weights()
    forward = numpy_lstm(x, fk, fr, fb)
    backward = numpy_lstm(x[:, ::-1], bk, br, bb)[:, ::-1]
    np.testing.assert_allclose(model.predict(x), np.concatenate([forward, backward], -1),
                               rtol=1e-4, atol=1e-5)
    names = [w.name for w in model.weights]
    assert names[0].startswith("forward_lstm") and names[3].startswith("backward_lstm")


def test_conv1d_causal_and_time_distributed_match_numpy():
    x = np.random.randn(2, 7, 3).astype(np.float32)
    model = keras.Sequential([layers.Conv1D(2, 3, padding="causal", dilation_rate=2,
                                            input_shape=(7, 3)),
                              layers.TimeDistributed(layers.Dense(4, activation="relu"))])
    kernel, bias, dense_kernel, dense_bias = model.get_weights()
    padded = np.concatenate([np.zeros((2, 4, 3), np.float32), x], 1)
    conv = np.stack([sum(padded[:, t + 2 * k] @ kernel[k] for k in range(3)) + bias
                     for t in range(7)], 1)
    expected = np.maximum(conv @ dense_kernel + dense_bias, 0)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-4, atol=1e-5)


def test_sequence_models_save_and_load(tmp_path):
    model = keras.Sequential([layers.Conv1D(4, 3, input_shape=(None, 2)),
                              layers.MaxPooling1D(),
                              layers.Bidirectional(layers.GRU(3, return_sequences=True),
                                                   merge_mode="ave"),
                              layers.TimeDistributed(layers.Dense(2)),
                              layers.GlobalMaxPooling1D()])
    model.compile("adam", "mse")
    x = np.random.randn(4, 9, 2).astype(np.float32)
    model.fit(x, np.random.randn(4, 2), epochs=2, verbose=0)
    path = str(tmp_path / "model.h5")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)


def test_sample_and_class_weights_weigh_each_samples_loss():
    """The weighted loss is mean(loss_i * w_i), as Keras 2's; class_weight gives each
    sample its class's weight; zero-weighted samples do not move the weights."""
    x = np.random.randn(6, 3).astype(np.float32)
    y = np.array([0, 1, 2, 1, 0, 2])
    model = keras.Sequential([layers.Dense(3, activation="softmax", input_shape=(3,))])
    model.compile("sgd", "sparse_categorical_crossentropy")
    probs = model.predict(x)
    per_sample = -np.log(probs[np.arange(6), y])
    weights = np.array([1, 0, 2, 0.5, 0, 3], np.float32)
    np.testing.assert_allclose(model.evaluate(x, y, sample_weight=weights, verbose=0),
                               np.mean(per_sample * weights), rtol=1e-5)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), per_sample.mean(), rtol=1e-5)
    history = model.fit(x, y, class_weight={0: 2.0, 1: 0.0, 2: 1.0}, sample_weight=weights,
                        batch_size=6, shuffle=False, epochs=1, verbose=0)
    by_class = np.array([2.0, 0.0, 1.0])[y]
    np.testing.assert_allclose(history.history["loss"][0],
                               np.mean(per_sample * weights * by_class), rtol=1e-5)
    with pytest.raises(ValueError, match="no weight for classes"):
        model.fit(x, y, class_weight={0: 1.0}, verbose=0)
    with pytest.raises(ValueError, match="one weight per sample"):
        model.fit(x, y, sample_weight=np.ones(4), verbose=0)
    # Only zero-weighted samples: the gradient is zero and the weights stay.
    before = model.get_weights()
    model.fit(x, y, sample_weight=np.zeros(6), epochs=2, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


class TwoTowers(keras.Model):
    """A subclassed model: its layers are attributes, its call any Python code."""

    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(16, activation="relu")
        self.towers = [layers.Dense(1), layers.Dense(1, activation="tanh")]

    def call(self, inputs, training=None):
        h = self.hidden(inputs)
        return self.towers[0](h) + 0.5 * self.towers[1](h)


def test_a_subclassed_model_builds_on_its_data_trains_and_keeps_its_weights(tmp_path):
    x = np.random.default_rng(0).normal(size=(256, 4)).astype(np.float32)
    y = x[:, :1] * 2 - x[:, 1:2]
    model = TwoTowers()
    model.compile(keras.optimizers.Adam(0.01), "mse")
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.05 * history.history["loss"][0]
    assert len(model.layers) == 3 and len(model.trainable_weights) == 6
    hidden_kernel, hidden_bias, k0, b0, k1, b1 = model.get_weights()
    h = np.maximum(x[:8] @ hidden_kernel + hidden_bias, 0)
    np.testing.assert_allclose(model.predict(x[:8]), h @ k0 + b0 + 0.5 * np.tanh(h @ k1 + b1),
                               rtol=1e-4, atol=1e-5)
    path = str(tmp_path / "towers.weights")
    model.save_weights(path)
    again = TwoTowers()
    again.build((None, 4))
    again.load_weights(path)
    np.testing.assert_array_equal(again.predict(x[:8]), model.predict(x[:8]))
    with pytest.raises(NotImplementedError, match="subclassed"):
        model.get_config()


def test_masked_steps_leave_the_recurrent_state_as_it_was():
    """Post-padded sequences give the unpadded sequences' final outputs; a masked step of
    a returned sequence repeats the last live output."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 6, 3)).astype(np.float32)
    x[0, 4:] = 0.0  # the first sequence has 4 steps, then padding
    inputs = keras.Input((None, 3))
    lstm = layers.LSTM(5, return_sequences=True)
    sequence = lstm(layers.Masking()(inputs))
    model = keras.Model(inputs, sequence)
    kernel, recurrent, bias = model.get_weights()
    got = model.predict(x)
    np.testing.assert_allclose(got[0, :4], numpy_lstm(x[:1, :4], kernel, recurrent, bias)[0],
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got[0, 4:], np.repeat(got[0, 3:4], 2, axis=0), rtol=1e-6)
    np.testing.assert_allclose(got[1], numpy_lstm(x[1:], kernel, recurrent, bias)[0],
                               rtol=1e-4, atol=1e-5)
    # Embedding(mask_zero=True): id 0 is padding; the final output is the last live step's.
    ids = np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 2]])
    embedded = keras.Sequential([layers.Embedding(10, 4, mask_zero=True, input_shape=(None,)),
                                 layers.GRU(3)])
    short = keras.Sequential([layers.Embedding(10, 4, input_shape=(None,)), layers.GRU(3)])
    short.set_weights(embedded.get_weights())
    np.testing.assert_allclose(embedded.predict(ids)[0], short.predict(ids[:1, :3])[0],
                               rtol=1e-5, atol=1e-6)


def test_recurrent_dropout_masks_only_while_training():
    """dropout and recurrent_dropout change training outputs (one mask per sequence) and
    leave predictions as without them."""
    x = np.random.default_rng(3).normal(size=(4, 6, 3)).astype(np.float32)
    for layer in (layers.LSTM, layers.GRU, layers.SimpleRNN):
        plain = keras.Sequential([layer(5, input_shape=(None, 3))])
        dropped = keras.Sequential([layer(5, dropout=0.5, recurrent_dropout=0.5,
                                          input_shape=(None, 3))])
        dropped.set_weights(plain.get_weights())
        np.testing.assert_allclose(dropped.predict(x), plain.predict(x), rtol=1e-5, atol=1e-6)
        session = keras.backend.get_session()
        training = session.run(dropped.outputs[0], {dropped.inputs[0]: x,
                                                    keras.backend.learning_phase(): True})
        assert np.abs(training - plain.predict(x)).max() > 1e-3
        assert dropped.get_config()["layers"][0]["config"]["recurrent_dropout"] == 0.5
    dropped.compile("adam", "mse")
    dropped.fit(x, np.zeros((4, 5)), epochs=2, verbose=0)
