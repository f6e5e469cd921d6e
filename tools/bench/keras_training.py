"""Keras training on Fashion-MNIST: the same model trained with runnel.keras, with tf.keras
(TensorFlow's Keras, `model.fit` as its users run it) and with PyTorch (the same layers,
initialization, optimizer and batch, in a plain training loop), the same thread count.
Prints each side's epoch time (examples/s), test accuracy after the last epoch and peak
memory, and Runnel over the faster peer.

    tools/bench/run.sh keras_training.py [--model cnn|mlp|all] [--epochs 3] [--rounds 3]

Models: `cnn` is tools/examples/keras/fashion_mnist_cnn.py's (conv 3x3x32 - max pool -
conv 3x3x64 - max pool - dropout - dense 128 - dropout - dense 10, batch 64); `mlp` is
dense 256 - 128 - 10 relu (batch 128). Both Adam at 1e-3, sparse categorical cross-entropy,
Glorot-uniform weights and zero biases (Keras's defaults, given to PyTorch too).

Each peer in its fastest set-up measured here: tf.keras compiles the MLP with XLA
(`jit_compile=True`: 2.9 against 3.7 s an epoch; its default on CPU is off) and not the CNN
(XLA made it 3.5x slower); PyTorch runs the CNN in channels-last memory format (oneDNN's
convolutions: 15-20% faster than the default).
"""
import argparse
import gzip
import json
import os
import statistics
import time

import harness

DATA = "/usr/share/datasets/fashion-mnist"
BATCH = {"cnn": 64, "mlp": 128}


def read(name, offset):
    with gzip.open(os.path.join(DATA, name)) as f:
        return f.read()[offset:]


def numpy_data():
    import numpy as np

    def images(name):
        return (np.frombuffer(read(name, 16), np.uint8).reshape(-1, 28, 28, 1)
                .astype(np.float32) / 255.0)

    def labels(name):
        return np.frombuffer(read(name, 8), np.uint8).astype(np.int64)

    return (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


def keras_model(keras, model):
    L = keras.layers
    if model == "cnn":
        body = [L.Conv2D(32, (3, 3), activation="relu", padding="same"),
                L.MaxPooling2D((2, 2)),
                L.Conv2D(64, (3, 3), activation="relu", padding="same"),
                L.MaxPooling2D((2, 2)),
                L.Dropout(0.25),
                L.Flatten(),
                L.Dense(128, activation="relu"),
                L.Dropout(0.4)]
    else:
        body = [L.Flatten(), L.Dense(256, activation="relu"), L.Dense(128, activation="relu")]
    return keras.Sequential([keras.Input(shape=(28, 28, 1))] + body +
                            [L.Dense(10, activation="softmax")])


def keras_side(keras, model_name, epochs, **compile_args):
    """Trains with model.fit, timing each epoch with a callback; (epoch seconds, test
    accuracy)."""
    x_train, y_train, x_test, y_test = numpy_data()
    keras.utils.set_random_seed(0)
    model = keras_model(keras, model_name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], **compile_args)
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(x_train, y_train, batch_size=BATCH[model_name], epochs=epochs, verbose=0,
              callbacks=[Timer()])
    _, accuracy = model.evaluate(x_test, y_test, batch_size=500, verbose=0)
    return times, accuracy


def side_runnel(model_name, epochs, threads):
    import runnel as tf
    from runnel import keras
    keras.backend.set_session(tf.Session(config=tf.ConfigProto(
        inter_op_parallelism_threads=threads, intra_op_parallelism_threads=threads)))
    return keras_side(keras, model_name, epochs)


def side_tensorflow(model_name, epochs, threads):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    return keras_side(tf.keras, model_name, epochs, jit_compile=model_name == "mlp")


def side_torch(model_name, epochs, threads):
    import torch
    from torch import nn
    torch.set_num_threads(threads)
    torch.manual_seed(0)

    # Read without numpy: Debian's torch may be built against another numpy than the one
    # in use.
    def images(name):
        raw = torch.frombuffer(bytearray(read(name, 16)), dtype=torch.uint8)
        return raw.reshape(-1, 1, 28, 28).float() / 255.0

    def labels(name):
        return torch.frombuffer(bytearray(read(name, 8)), dtype=torch.uint8).long()

    x_train, y_train = images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz")
    x_test, y_test = images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")
    if model_name == "cnn":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.4),
            nn.Linear(128, 10))
    else:
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
                              nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    for layer in model:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    layout = torch.channels_last if model_name == "cnn" else torch.contiguous_format
    model = model.to(memory_format=layout)
    # Keras's Adam: epsilon 1e-7; the softmax is inside CrossEntropyLoss.
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    batch = BATCH[model_name]
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(x_train))
        for i in range(0, len(order), batch):
            rows = order[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(x_train[rows].contiguous(memory_format=layout)),
                           y_train[rows])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    model.eval()
    with torch.no_grad():
        hits = sum(int((model(x_test[i:i + 500]).argmax(1) == y_test[i:i + 500]).sum())
                   for i in range(0, len(x_test), 500))
    return times, hits / len(x_test)


SIDES = {"runnel": side_runnel, "tensorflow": side_tensorflow, "torch": side_torch}


def compare(model, args):
    """Runs the sides on `model` in interleaved rounds and prints the table and ratio."""
    print(f"Keras {model} on Fashion-MNIST, batch {BATCH[model]}, {args.epochs} epochs, "
          f"{args.threads} threads, median of {args.rounds} interleaved rounds")
    results = harness.interleaved(
        __file__, args.sides.split(","), args.rounds,
        lambda s: ["--side", s, "--model", model, "--epochs", args.epochs,
                   "--threads", args.threads])
    print(f"{'':<12}{'epoch s':>9}{'examples/s':>12}{'1st epoch s':>13}{'accuracy':>10}"
          f"{'peak MB':>9}")
    for s, m in harness.medians(results).items():
        print(f"{s:<12}{m['epoch_s']:>9.2f}{m['rate']:>12.0f}{m['first_epoch_s']:>13.2f}"
              f"{m['accuracy']:>10.4f}{m['peak_rss_mb']:>9.0f}")
    for s, rs in results.items():
        print(f"{s} accuracy per round: " + ", ".join(f"{r['accuracy']:.4f}" for r in rs))
    harness.print_ratio(results, "epoch time")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=sorted(BATCH) + ["all"], default="all")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--sides", default="runnel,tensorflow,torch")
    p.add_argument("--side", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.side:
        times, accuracy = SIDES[args.side](args.model, args.epochs, args.threads)
        # The first epoch also builds (Runnel), traces (TensorFlow) or warms up; later ones
        # are the steady state when there are any.
        steady = statistics.median(times[1:] if len(times) > 1 else times)
        print(json.dumps({"rate": 60000 / steady, "epoch_s": steady, "first_epoch_s": times[0],
                          "accuracy": accuracy, "peak_rss_mb": harness.peak_rss_mb()}))
        return
    if not os.path.exists(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")):
        raise SystemExit(f"Fashion-MNIST not found at {DATA}: install Debian's "
                         "dataset-fashion-mnist")
    for model in sorted(BATCH) if args.model == "all" else [args.model]:
        compare(model, args)


if __name__ == "__main__":
    main()
