"""A Keras MLP classifier in the style of the Otto Group product-classification scripts:
93 count features, 9 classes, Dense 200/50/9 with the 'uniform' initializer, rmsprop,
sparse categorical cross-entropy, early stopping with patience 4.

Ordinary Keras code: only the import line differs between Runnel and TensorFlow.

    PYTHONPATH=build/python python3 tools/examples/keras/mlp_classifier.py
    python3 tools/examples/keras/mlp_classifier.py --tensorflow   # on tf.keras
    ... --csv train.csv   # Kaggle's Otto file (id, feat_1..feat_93, target Class_1..9)

Without --csv it trains on synthetic Otto-like data: per class, Poisson counts around a
class profile over 93 features, classes unevenly frequent.
"""
import argparse

import numpy as np

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tensorflow", action="store_true", help="run on tf.keras instead")
parser.add_argument("--csv", help="Otto's train.csv instead of synthetic data")
parser.add_argument("--examples", type=int, default=20000, help="synthetic examples")
parser.add_argument("--epochs", type=int, default=100)
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()

if args.tensorflow:
    from tensorflow import keras
else:
    from runnel import keras
keras.utils.set_random_seed(args.seed)  # weights, dropout and shuffling repeat


def synthetic(n, rng):
    """Counts of 93 features for n products of 9 classes."""
    priors = np.array([3, 26, 13, 4, 4, 23, 5, 14, 8], np.float64)
    classes = rng.choice(9, size=n, p=priors / priors.sum())
    base = rng.lognormal(-1.0, 1.0, size=93)  # how common each feature is
    profiles = base * rng.lognormal(0.0, 0.5, size=(9, 93))  # each class leans its own way
    noise = rng.lognormal(0.0, 0.8, size=(n, 93))  # and products of one class differ
    counts = rng.poisson(profiles[classes] * noise)
    return counts.astype(np.float32), classes


def otto(path):
    rows = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=str)
    counts = rows[:, 1:94].astype(np.float32)
    classes = np.array([int(t.split("_")[1]) - 1 for t in rows[:, 94]])
    return counts, classes


rng = np.random.default_rng(args.seed)
x, y = otto(args.csv) if args.csv else synthetic(args.examples, rng)
order = rng.permutation(len(x))
x, y = np.log1p(x[order]), y[order]
x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-6)
test = len(x) // 5
x_test, y_test, x_train, y_train = x[:test], y[:test], x[test:], y[test:]

model = keras.models.Sequential()
model.add(keras.layers.Dense(200, input_dim=93, kernel_initializer="uniform",
                             activation="relu"))
model.add(keras.layers.Dropout(0.2))
model.add(keras.layers.Dense(50, kernel_initializer="uniform", activation="relu"))
model.add(keras.layers.Dense(9, kernel_initializer="uniform", activation="softmax"))
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.summary()

stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=4,
                                     restore_best_weights=True)
history = model.fit(x_train, y_train, batch_size=64, epochs=args.epochs,
                    validation_split=0.2, callbacks=[stop], verbose=2)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"stopped after {len(history.history['loss'])} epochs; "
      f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
