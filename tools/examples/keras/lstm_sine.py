"""A Keras LSTM forecasting a noisy sine wave: from the last 20 readings, predict the next
one. Compared with the naive forecast (the next reading equals the last one), the LSTM
must reach a lower mean squared error on held-out data: the wave moves between readings
and the noise of the last reading is carried over, while the LSTM can average the noise
over the window and follow the wave.

Ordinary Keras code: only the import line differs between Runnel and TensorFlow.

    PYTHONPATH=build/python python3 tools/examples/keras/lstm_sine.py
    python3 tools/examples/keras/lstm_sine.py --tensorflow   # on tf.keras
"""
import argparse

import numpy as np

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tensorflow", action="store_true", help="run on tf.keras instead")
parser.add_argument("--readings", type=int, default=6000)
parser.add_argument("--window", type=int, default=20)
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--noise", type=float, default=0.1)
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()

if args.tensorflow:
    from tensorflow import keras
else:
    from runnel import keras
keras.utils.set_random_seed(args.seed)  # weights, dropout and shuffling repeat

rng = np.random.default_rng(args.seed)
t = np.arange(args.readings + args.window)
wave = np.sin(2 * np.pi * t / 50) + args.noise * rng.standard_normal(len(t))
windows = np.stack([wave[i:i + args.window] for i in range(args.readings)])
x = windows[..., None].astype(np.float32)  # [readings, window, 1 feature]
y = wave[args.window:args.window + args.readings].astype(np.float32)
cut = int(0.8 * len(x))  # the later fifth is held out: forecasting, not interpolation
x_train, y_train, x_val, y_val = x[:cut], y[:cut], x[cut:], y[cut:]

model = keras.Sequential([
    keras.layers.LSTM(32, input_shape=(args.window, 1)),
    keras.layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.005), loss="mse")
model.fit(x_train, y_train, batch_size=32, epochs=args.epochs,
          validation_data=(x_val, y_val), verbose=2)

lstm_mse = float(np.mean((model.predict(x_val)[:, 0] - y_val) ** 2))
naive_mse = float(np.mean((x_val[:, -1, 0] - y_val) ** 2))
print(f"validation mse: LSTM {lstm_mse:.5f}, last-value forecast {naive_mse:.5f} "
      f"(noise alone: {args.noise ** 2:.5f})")
