"""Forecasts the next value of a noisy periodic series in plain TensorFlow 1.x style:
windows of the series fed through tf.nn.dynamic_rnn over an LSTMCell, a dense head on the
last output, mean squared error, AdamOptimizer, mini-batches via feed_dict. Prints the
test error beside the last-value forecast's (predict x[t] = x[t-1]).

    PYTHONPATH=build/python python3 tools/examples/lstm_forecaster.py
    python3 tools/examples/lstm_forecaster.py --tensorflow   # the same script on TensorFlow
"""
import argparse
import os

import numpy as np


def noisy_series(length, rng):
    t = np.arange(length)
    return (np.sin(2 * np.pi * t / 24) + 0.5 * np.sin(2 * np.pi * t / 7) +
            0.1 * rng.standard_normal(length)).astype(np.float32)


def windows(series, steps):
    """[n, steps, 1] windows and the value after each."""
    starts = np.arange(len(series) - steps)
    x = np.stack([series[s:s + steps] for s in starts])[:, :, None]
    return x, series[starts + steps]


def forecast(tf, steps=50, hidden=32, train_steps=400, batch=32, seed=0, log=None):
    """Trains the forecaster with `tf` (runnel, or tensorflow.compat.v1); returns the test
    mean squared error, the last-value forecast's, and the training losses."""
    rng = np.random.default_rng(seed)
    series = noisy_series(2400, rng)
    x_train, y_train = windows(series[:2000], steps)
    x_test, y_test = windows(series[2000:], steps)
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.float32, [None, None, 1], name="x")
        y = tf.placeholder(tf.float32, [None], name="y")
        cell = tf.nn.rnn_cell.LSTMCell(hidden)
        outputs, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        prediction = tf.squeeze(tf.layers.dense(outputs[:, -1], 1), 1, name="prediction")
        loss = tf.reduce_mean(tf.square(prediction - y))
        train = tf.train.AdamOptimizer(0.01).minimize(loss)
        init = tf.global_variables_initializer()
    losses = []
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        for step in range(train_steps):
            rows = rng.integers(0, len(x_train), batch)
            losses.append(sess.run([loss, train], {x: x_train[rows], y: y_train[rows]})[0])
            if log and step % 100 == 0:
                log(f"step {step}: loss {losses[-1]:.4f}")
        test_mse = sess.run(loss, {x: x_test, y: y_test})
    last_value_mse = float(np.mean((x_test[:, -1, 0] - y_test) ** 2))
    return float(test_mse), last_value_mse, losses


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tensorflow", action="store_true", help="run on TensorFlow instead")
    parser.add_argument("--steps", type=int, default=400, help="training steps")
    args = parser.parse_args()
    if args.tensorflow:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf.nn.rnn_cell
        import tensorflow
        tf = tensorflow.compat.v1
        tf.disable_v2_behavior()
    else:
        import runnel as tf
    test_mse, last_value_mse, _ = forecast(tf, train_steps=args.steps, log=print)
    print(f"test mean squared error {test_mse:.4f}; last-value forecast {last_value_mse:.4f}")


if __name__ == "__main__":
    main()
