"""Trains TensorFlow's classic "deep MNIST" CNN on Fashion-MNIST in plain TensorFlow 1.x
style: conv 5x5x32 - relu - max pool 2, conv 5x5x64 - relu - max pool 2, dense 1024 - relu,
dropout, dense 10; Adam, mini-batches via feed_dict.

    PYTHONPATH=build/python python3 tools/examples/fashion_mnist_cnn.py
    python3 tools/examples/fashion_mnist_cnn.py --tensorflow   # the same script on TensorFlow
"""
import argparse
import gzip
import os
import time

import numpy as np

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tensorflow", action="store_true", help="run on TensorFlow instead")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--keep-prob", type=float, default=0.75)
parser.add_argument("--train-examples", type=int, default=60000,
                    help="train on the first N examples only (for quick checks)")
parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
args = parser.parse_args()

if args.tensorflow:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()
else:
    import runnel as tf


def load(name, offset):
    with gzip.open(os.path.join(args.data, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def images(name):
    return load(name, 16).reshape(-1, 28, 28, 1).astype(np.float32) / 255.0


x_train = images("train-images-idx3-ubyte.gz")[:args.train_examples]
y_train = load("train-labels-idx1-ubyte.gz", 8).astype(np.int64)[:args.train_examples]
x_test = images("t10k-images-idx3-ubyte.gz")
y_test = load("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)

tf.set_random_seed(args.seed)
x = tf.placeholder(tf.float32, [None, 28, 28, 1], name="images")
y = tf.placeholder(tf.int64, [None], name="labels")
keep_prob = tf.placeholder_with_default(1.0, [], name="keep_prob")


def weight(shape, name):
    fan_in = int(np.prod(shape[:-1]))  # He initialization: keeps relu activations' scale
    return tf.Variable(tf.truncated_normal(shape, stddev=np.sqrt(2.0 / fan_in)), name=name)


def bias(size, name):
    return tf.Variable(tf.constant(0.1, shape=[size]), name=name)


def conv_pool(inputs, channels_in, channels_out, name):
    w = weight([5, 5, channels_in, channels_out], name + "_w")
    h = tf.nn.relu(tf.nn.conv2d(inputs, w, strides=[1, 1, 1, 1], padding="SAME") +
                   bias(channels_out, name + "_b"))
    return tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


h = conv_pool(x, 1, 32, "conv1")
h = conv_pool(h, 32, 64, "conv2")
h = tf.reshape(h, [-1, 7 * 7 * 64])
h = tf.nn.relu(tf.matmul(h, weight([7 * 7 * 64, 1024], "fc1_w")) + bias(1024, "fc1_b"))
h = tf.nn.dropout(h, keep_prob)
logits = tf.identity(tf.matmul(h, weight([1024, 10], "fc2_w")) + bias(10, "fc2_b"),
                     name="logits")

loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
# The step size halves each epoch, so the last epochs settle instead of bouncing.
global_step = tf.train.get_or_create_global_step()
steps_per_epoch = -(-len(x_train) // args.batch)
learning_rate = tf.train.exponential_decay(1e-3, global_step, steps_per_epoch, 0.5,
                                           staircase=True)
train_op = tf.train.AdamOptimizer(learning_rate).minimize(loss, global_step=global_step)
correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))


def test_accuracy(sess):
    hits = sum(sess.run(correct, {x: x_test[i:i + 500], y: y_test[i:i + 500]})
               for i in range(0, len(x_test), 500))
    return hits / len(x_test)


config = tf.ConfigProto(inter_op_parallelism_threads=os.cpu_count(),
                        intra_op_parallelism_threads=os.cpu_count())
rng = np.random.default_rng(args.seed)
with tf.Session(config=config) as sess:
    sess.run(tf.global_variables_initializer())
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(x_train))
        losses = []
        for i in range(0, len(order), args.batch):
            batch = order[i:i + args.batch]
            _, batch_loss = sess.run([train_op, loss], {x: x_train[batch], y: y_train[batch],
                                                        keep_prob: args.keep_prob})
            losses.append(batch_loss)
        elapsed = time.perf_counter() - start
        print(f"epoch {epoch}: loss {np.mean(losses):.4f}, test accuracy "
              f"{test_accuracy(sess):.4f} ({elapsed:.1f} s, "
              f"{epoch * len(x_train) / elapsed:.0f} examples/s)", flush=True)
