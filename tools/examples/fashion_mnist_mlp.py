"""Trains a 784-512-512-10 MLP on Fashion-MNIST in plain TensorFlow 1.x style: placeholders,
tf.Variable(tf.truncated_normal(...)), relu layers, dropout, L2 regularisation,
softmax_cross_entropy_with_logits, AdamOptimizer().minimize, mini-batches via feed_dict.

    PYTHONPATH=build/python python3 tools/examples/fashion_mnist_mlp.py
    python3 tools/examples/fashion_mnist_mlp.py --tensorflow   # the same script on TensorFlow
"""
import argparse
import gzip
import os
import subprocess
import sys
import time

import numpy as np

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tensorflow", action="store_true", help="run on TensorFlow instead")
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--batch", type=int, default=100)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
parser.add_argument("--out", default="fashion_mnist_mlp", help="where the checkpoint goes")
parser.add_argument("--restore", metavar="PREFIX",
                    help="evaluate the checkpoint PREFIX instead of training")
parser.add_argument("--frozen", metavar="PB",
                    help="evaluate the frozen graph PB (from freeze_graph) instead of training")
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


x_train = load("train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255.0
y_train = load("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
x_test = load("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255.0
y_test = load("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)

if args.frozen:  # the frozen graph alone: no variables, no checkpoint
    graph_def = tf.GraphDef()
    with open(args.frozen, "rb") as f:
        graph_def.ParseFromString(f.read())
    tf.import_graph_def(graph_def, name="")
    with tf.Session() as sess:
        logits = sess.run("logits:0", {"images:0": x_test})
        first = sess.run("logits:0", {"images:0": x_test[:100]})
    print(f"frozen graph test accuracy {np.mean(np.argmax(logits, 1) == y_test):.4f}")
    # The first 100 test images and their logits, for the C++ side of the main job.
    out_dir = os.path.dirname(os.path.abspath(args.frozen))
    np.save(os.path.join(out_dir, "test_images.npy"), x_test[:100])
    x_test[:100].tofile(os.path.join(out_dir, "test_images.f32"))  # raw, for the C++ example
    np.save(os.path.join(out_dir, "python_logits.npy"), first)
    sys.exit(0)

tf.set_random_seed(args.seed)
x = tf.placeholder(tf.float32, [None, 784], name="images")
y = tf.placeholder(tf.int64, [None], name="labels")
keep_prob = tf.placeholder_with_default(1.0, [], name="keep_prob")


def dense(inputs, fan_in, fan_out, name):
    w = tf.Variable(tf.truncated_normal([fan_in, fan_out], stddev=np.sqrt(2.0 / fan_in)),
                    name=name + "_w")
    b = tf.Variable(tf.zeros([fan_out]), name=name + "_b")
    return tf.matmul(inputs, w) + b, w


h1, w1 = dense(x, 784, 512, "hidden1")
h1 = tf.nn.dropout(tf.nn.relu(h1), keep_prob)
h2, w2 = dense(h1, 512, 512, "hidden2")
h2 = tf.nn.dropout(tf.nn.relu(h2), keep_prob)
logits, w3 = dense(h2, 512, 10, "output")
logits = tf.identity(logits, name="logits")

cross_entropy = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(
    labels=tf.one_hot(y, 10), logits=logits))
l2 = 1e-5 * (tf.nn.l2_loss(w1) + tf.nn.l2_loss(w2) + tf.nn.l2_loss(w3))
loss = cross_entropy + l2
# The step size shrinks by 0.7 each epoch, so the last epochs settle instead of bouncing.
global_step = tf.train.get_or_create_global_step()
steps_per_epoch = -(-60000 // args.batch)
learning_rate = tf.train.exponential_decay(1e-3, global_step, steps_per_epoch, 0.7,
                                           staircase=True)
train_op = tf.train.AdamOptimizer(learning_rate).minimize(loss, global_step=global_step)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))

config = tf.ConfigProto(inter_op_parallelism_threads=os.cpu_count(),
                        intra_op_parallelism_threads=os.cpu_count())
saver = tf.train.Saver()
if args.restore:
    with tf.Session(config=config) as sess:
        saver.restore(sess, args.restore)
        print(f"restored test accuracy {sess.run(accuracy, {x: x_test, y: y_test}):.4f}")
    sys.exit(0)

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
                                                        keep_prob: 0.9})
            losses.append(batch_loss)
        test_acc = sess.run(accuracy, {x: x_test, y: y_test})
        elapsed = time.perf_counter() - start
        print(f"epoch {epoch}: loss {np.mean(losses):.4f}, test accuracy {test_acc:.4f} "
              f"({elapsed:.1f} s, {epoch * len(x_train) / elapsed:.0f} examples/s)", flush=True)
    path = saver.save(sess, os.path.join(args.out, "model"))
    tf.io.write_graph(sess.graph, args.out, "graph.pbtxt")  # for freeze_graph
print(f"saved {path}; evaluating it in a new process:", flush=True)
command = [sys.executable, __file__, "--restore", path, "--data", args.data]
subprocess.run(command + (["--tensorflow"] if args.tensorflow else []), check=True)
