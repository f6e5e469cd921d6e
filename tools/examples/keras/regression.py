"""A Keras regression: learn the distance from the origin, (x, y) -> sqrt(x^2 + y^2), with
Dense 4/10/5/1 (relu and tanh), plain SGD and mean squared error, holding out 20% of the
data for validation, then predict.

Ordinary Keras code: only the import line differs between Runnel and TensorFlow.

    PYTHONPATH=build/python python3 tools/examples/keras/regression.py
    python3 tools/examples/keras/regression.py --tensorflow   # on tf.keras
"""
import argparse

import numpy as np

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tensorflow", action="store_true", help="run on tf.keras instead")
parser.add_argument("--examples", type=int, default=10000)
parser.add_argument("--epochs", type=int, default=60)
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()

if args.tensorflow:
    from tensorflow import keras
else:
    from runnel import keras
keras.utils.set_random_seed(args.seed)  # weights, dropout and shuffling repeat

rng = np.random.default_rng(args.seed)
points = rng.uniform(-1.0, 1.0, size=(args.examples, 2)).astype(np.float32)
distance = np.sqrt((points ** 2).sum(axis=1))

model = keras.Sequential([
    keras.layers.Dense(4, activation="tanh", input_shape=(2,)),
    keras.layers.Dense(10, activation="relu"),
    keras.layers.Dense(5, activation="tanh"),
    keras.layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse",
              metrics=["mae"])
history = model.fit(points, distance, batch_size=32, epochs=args.epochs,
                    validation_split=0.2, verbose=2)

queries = np.array([[0.0, 0.0], [0.6, 0.8], [-0.3, 0.4], [1.0, -1.0], [0.1, -0.9]],
                   np.float32)
predicted = model.predict(queries)[:, 0]
for (x, y), p in zip(queries, predicted):
    print(f"({x:+.1f}, {y:+.1f}): predicted {p:.3f}, true {np.hypot(x, y):.3f}")
# The baseline a model must beat: always predicting the mean distance.
baseline = float(np.var(distance[int(0.8 * len(distance)):]))
print(f"validation mse {history.history['val_loss'][-1]:.5f} (predicting the mean: "
      f"{baseline:.5f})")
