"""A Keras CNN on Fashion-MNIST: two 3x3 convolution blocks with max pooling, dropout,
a dense layer and a softmax over the 10 classes; Adam, sparse categorical cross-entropy.
Reaches about 91% test accuracy in 8 epochs.

Ordinary Keras code: only the import line differs between Runnel and TensorFlow.

    PYTHONPATH=build/python python3 tools/examples/keras/fashion_mnist_cnn.py
    python3 tools/examples/keras/fashion_mnist_cnn.py --tensorflow   # on tf.keras

Runnel's keras.datasets.fashion_mnist reads Debian's dataset-fashion-mnist package;
tf.keras downloads the same files.
"""
import argparse

import numpy as np

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tensorflow", action="store_true", help="run on tf.keras instead")
parser.add_argument("--epochs", type=int, default=8)
parser.add_argument("--train-examples", type=int, default=60000,
                    help="train on the first N examples only (for quick checks)")
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--curves", help="write the learning curves to this PNG")
args = parser.parse_args()

if args.tensorflow:
    from tensorflow import keras
else:
    from runnel import keras
keras.utils.set_random_seed(args.seed)  # weights, dropout and shuffling repeat

(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
x_train = x_train[:args.train_examples, ..., None].astype(np.float32) / 255
y_train = y_train[:args.train_examples]
x_test = x_test[..., None].astype(np.float32) / 255

model = keras.Sequential([
    keras.layers.Conv2D(32, (3, 3), activation="relu", padding="same",
                        input_shape=(28, 28, 1)),
    keras.layers.MaxPooling2D((2, 2)),
    keras.layers.Conv2D(64, (3, 3), activation="relu", padding="same"),
    keras.layers.MaxPooling2D((2, 2)),
    keras.layers.Dropout(0.25),
    keras.layers.Flatten(),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dropout(0.4),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()

# Halve the step size whenever the held-out tenth stops improving.
slower = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)
history = model.fit(x_train, y_train, batch_size=64, epochs=args.epochs,
                    validation_split=0.1, callbacks=[slower], verbose=2)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
if args.curves and not args.tensorflow:
    keras.utils.plot_history(history, args.curves)
    print(f"learning curves written to {args.curves}")
