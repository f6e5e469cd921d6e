"""Fashion-MNIST with a nearest-centroid classifier, written as a TensorFlow 1.x graph.

The graph computes each class's mean image from the training set (one_hot @ images),
then labels every test image with the nearest mean. Runnel builds the graph in Python and
runs it in C++; the graph is saved as a GraphDef that TensorFlow and Netron can open.

    PYTHONPATH=build/python python3 tools/examples/fashion_mnist_centroids.py
"""
import argparse
import gzip
import os
import time

import numpy as np

import runnel as tf

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot"]


def load_idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load_fashion_mnist(data_dir):
    def images(name):
        return load_idx(os.path.join(data_dir, name), 16).reshape(-1, 784).astype(np.float32) / 255

    def labels(name):
        return load_idx(os.path.join(data_dir, name), 8).astype(np.int32)
    return (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


def build_graph():
    images = tf.placeholder(tf.float32, [None, 784], name="images")
    labels = tf.placeholder(tf.int32, [None], name="labels")
    with tf.name_scope("centroids"):
        onehot = tf.one_hot(labels, 10)                                     # [n, 10]
        sums = tf.matmul(onehot, images, transpose_a=True)                  # [10, 784]
        counts = tf.reduce_sum(onehot, axis=0)                              # [10]
        centroids = tf.identity(sums / tf.expand_dims(counts, 1), name="means")
    means = tf.placeholder_with_default(centroids, [10, 784], name="class_means")
    with tf.name_scope("classify"):
        # |x - m|^2 = |x|^2 - 2 x.m + |m|^2; |x|^2 is the same for every class.
        scores = 2.0 * tf.matmul(images, means, transpose_b=True) - \
            tf.reduce_sum(tf.square(means), axis=1)
        predictions = tf.argmax(scores, axis=1, output_type=tf.int32, name="predictions")
    accuracy = tf.reduce_mean(tf.cast(tf.equal(predictions, labels), tf.float32),
                              name="accuracy")
    return images, labels, centroids, means, predictions, accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--out", default="example_output")
    args = parser.parse_args()
    train_x, train_y, test_x, test_y = load_fashion_mnist(args.data)
    print(f"Fashion-MNIST: {len(train_x)} training and {len(test_x)} test images")

    images, labels, centroids, means, predictions, accuracy = build_graph()
    graph = tf.get_default_graph()
    print(f"graph: {len(graph.get_operations())} ops, "
          f"{sorted({op.type for op in graph.get_operations()})}")
    with tf.Session() as sess:
        start = time.perf_counter()
        class_means = sess.run(centroids, {images: train_x, labels: train_y})
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        acc, pred = sess.run([accuracy, predictions],
                             {images: test_x, labels: test_y, means: class_means})
        eval_s = time.perf_counter() - start
    print(f"class means from {len(train_x)} images in {fit_s * 1000:.0f} ms; "
          f"{len(test_x)} test images classified in {eval_s * 1000:.0f} ms")
    print(f"test accuracy: {acc:.4f}")
    for k in range(10):
        mask = test_y == k
        print(f"  {CLASSES[k]:<12} {np.mean(pred[mask] == k):.3f}")
    path = tf.io.write_graph(graph, args.out, "fashion_mnist_centroids.pb", as_text=False)
    print(f"graph written to {path}")


if __name__ == "__main__":
    main()
