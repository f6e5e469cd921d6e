"""Writes the GPU benchmark's models for a machine without Runnel's Python (the GPU
machine): the MLP of mlp_training.py (784-512-512-10, SGD, batch 128) and the deep-MNIST CNN
of cnn.py (Adam, batch 64) as training graphs with their train op, each with a spec that
tools/bench/gpu_train.cc reads (it also times their inference: the logits, dropout off), and
the MLP frozen for runnel-run (the CNN's frozen graph, 13 MB, would not fit what travels to
the GPU machine).

    PYTHONPATH=build/python /usr/bin/python3 tools/bench/gpu_export.py OUT_DIR
"""
import os
import sys

import numpy as np

import runnel as tf


def mlp(batch=128, sizes=(784, 512, 512, 10)):
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    h = x
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = tf.Variable(tf.truncated_normal([a, b], stddev=np.sqrt(2.0 / a)))
        h = tf.matmul(h, w) + tf.Variable(tf.zeros([b]))
        if i < len(sizes) - 2:
            h = tf.nn.relu(h)
    logits = tf.identity(h, name="logits")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss, name="train")
    return train, loss, [("x", "float", [batch, 784]), ("y", "int64", [batch])]


def cnn(batch=64):
    x = tf.placeholder(tf.float32, [None, 28, 28, 1], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    keep = tf.placeholder_with_default(1.0, [], name="keep")
    h = x
    for c_in, c_out in ((1, 32), (32, 64)):
        w = tf.Variable(tf.truncated_normal([5, 5, c_in, c_out], stddev=0.1))
        b = tf.Variable(tf.constant(0.1, shape=[c_out]))
        h = tf.nn.relu(tf.nn.conv2d(h, w, [1, 1, 1, 1], "SAME") + b)
        h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    w = tf.Variable(tf.truncated_normal([3136, 1024], stddev=0.1))
    h = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 3136]), w) + tf.Variable(tf.constant(0.1, shape=[1024])))
    w = tf.Variable(tf.truncated_normal([1024, 10], stddev=0.1))
    logits = tf.identity(tf.matmul(tf.nn.dropout(h, keep_prob=keep), w) +
                         tf.Variable(tf.constant(0.1, shape=[10])), name="logits")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train = tf.train.AdamOptimizer(1e-4).minimize(loss, name="train")
    return train, loss, [("x", "float", [batch, 28, 28, 1]), ("y", "int64", [batch]),
                         ("keep", "float", [], 0.5)]


def export(name, build, out, frozen_too):
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        train, loss, feeds = build()
        init = tf.global_variables_initializer()
        if frozen_too:
            with tf.Session() as sess:
                sess.run(init)
                frozen = tf.graph_util.convert_variables_to_constants(sess, g.as_graph_def(),
                                                                      ["logits"])
            tf.io.write_graph(frozen, out, f"{name}_infer.pb", as_text=False)
    tf.io.write_graph(g.as_graph_def(), out, f"{name}_train.pb", as_text=False)
    with open(os.path.join(out, f"{name}_train.spec"), "w") as f:
        f.write(f"init {init.name}\ntrain {train.name}\nfetch {loss.name}\n")
        f.write("logits logits:0\n")
        for feed, dtype, shape, *value in feeds:  # training feeds: random, or the value given
            dims = ",".join(map(str, shape)) or "-"
            f.write(f"feed {feed} {dtype} {dims}{''.join(f' {v}' for v in value)}\n")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    export("mlp", mlp, out, frozen_too=True)
    export("cnn", cnn, out, frozen_too=False)
    print(f"wrote mlp and cnn graphs to {out}")


if __name__ == "__main__":
    main()
