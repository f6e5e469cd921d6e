"""MLP training throughput: a 784-512-512-10 relu MLP with softmax cross-entropy, batch
128, SGD and Adam, in Runnel, in TensorFlow (the same graph through tf.compat.v1) and in
PyTorch (the same model), with the same thread count; examples/s and peak memory.

    tools/bench/run.sh mlp_training.py [--rounds 3] [--steps 200]
"""
import argparse
import json
import os
import time

import numpy as np

import harness

SIZES = [784, 512, 512, 10]
BATCH = 128


def data(steps):
    rng = np.random.default_rng(0)
    x = rng.random((steps * BATCH, 784), np.float32)
    y = rng.integers(0, 10, steps * BATCH).astype(np.int64)
    return x, y


def graph_side(tf, optimizer, steps, threads, config_fn=None):
    x_all, y_all = data(steps)
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, 784])
        y = tf.placeholder(tf.int64, [None])
        h = x
        for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
            w = tf.Variable(tf.truncated_normal([a, b], stddev=np.sqrt(2.0 / a)))
            h = tf.matmul(h, w) + tf.Variable(tf.zeros([b]))
            if i < len(SIZES) - 2:
                h = tf.nn.relu(h)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
        opt = tf.train.GradientDescentOptimizer(0.01) if optimizer == "sgd" else \
            tf.train.AdamOptimizer(1e-3)
        train = opt.minimize(loss)
        init = tf.global_variables_initializer()
    config = tf.ConfigProto(inter_op_parallelism_threads=threads,
                            intra_op_parallelism_threads=threads)
    with tf.Session(graph=g, config=config) as sess:
        sess.run(init)
        for i in range(10):  # warm-up
            sess.run(train, {x: x_all[:BATCH], y: y_all[:BATCH]})
        start = time.perf_counter()
        for i in range(steps):
            sess.run(train, {x: x_all[i * BATCH:(i + 1) * BATCH], y: y_all[i * BATCH:(i + 1) * BATCH]})
        return steps * BATCH / (time.perf_counter() - start)


def side_runnel(optimizer, steps, threads):
    import runnel as tf
    return graph_side(tf, optimizer, steps, threads)


def side_tensorflow(optimizer, steps, threads):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()
    return graph_side(tf, optimizer, steps, threads)


def side_torch(optimizer, steps, threads):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    # The same distributions as data(); made by torch itself, whose numpy bridge may be built
    # against another numpy than the one in use.
    gen = torch.Generator().manual_seed(0)
    x_all = torch.rand(steps * BATCH, 784, generator=gen)
    y_all = torch.randint(0, 10, (steps * BATCH,), generator=gen)
    layers = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=0.01) if optimizer == "sgd" else \
        torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(i):
        opt.zero_grad()
        loss = loss_fn(model(x_all[i * BATCH:(i + 1) * BATCH]), y_all[i * BATCH:(i + 1) * BATCH])
        loss.backward()
        opt.step()
    for i in range(10):
        step(0)
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    return steps * BATCH / (time.perf_counter() - start)


SIDES = {"runnel": side_runnel, "tensorflow": side_tensorflow, "torch": side_torch}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--sides", default="runnel,tensorflow,torch")
    p.add_argument("--side", help=argparse.SUPPRESS)
    p.add_argument("--optimizer", default="sgd", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.side:
        rate = SIDES[args.side](args.optimizer, args.steps, args.threads)
        print(json.dumps({"rate": rate, "peak_rss_mb": harness.peak_rss_mb()}))
        return
    sides = args.sides.split(",")
    print(f"MLP {'-'.join(map(str, SIZES))} training, batch {BATCH}, {args.threads} threads, "
          f"median of {args.rounds} interleaved rounds x {args.steps} steps")
    print(f"{'':<12}{'optimizer':>10}{'examples/s':>12}{'peak MB':>9}")
    for optimizer in ("sgd", "adam"):
        results = harness.interleaved(
            __file__, sides, args.rounds,
            lambda s: ["--side", s, "--optimizer", optimizer, "--steps", args.steps,
                       "--threads", args.threads])
        med = harness.medians(results)
        for s, m in med.items():
            print(f"{s:<12}{optimizer:>10}{m['rate']:>12.0f}{m['peak_rss_mb']:>9.0f}")
        harness.print_ratio(results, f"with {optimizer}")


if __name__ == "__main__":
    main()
