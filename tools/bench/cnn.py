"""The classic "deep MNIST" CNN (conv5x5x32-relu-maxpool2, conv5x5x64-relu-maxpool2, dense
1024-relu, dropout, dense 10) on 28x28x1 inputs: training throughput at batch 64 (Adam),
inference latency at batch 1 and throughput at batch 256, in Runnel, in TensorFlow (the
same TF1 graph through tf.compat.v1) and in PyTorch (the same model), with the same thread
count; peak memory for every side.

    tools/bench/run.sh cnn.py [--rounds 5] [--steps 30]
"""
import argparse
import json
import os
import time

import numpy as np

import harness

MODES = {"train": 64, "infer1": 1, "infer256": 256}  # mode: batch size


def data(batch, count):
    rng = np.random.default_rng(0)
    return (rng.random((count, batch, 28, 28, 1), np.float32),
            rng.integers(0, 10, (count, batch)).astype(np.int64))


def timed(step, steps, warmup=3):
    for i in range(warmup):
        step(i)
    times = []
    for i in range(steps):
        start = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def graph_side(tf, mode, steps, threads):
    batch = MODES[mode]
    xs, ys = data(batch, 8)
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, 28, 28, 1])
        y = tf.placeholder(tf.int64, [None])
        keep = tf.placeholder_with_default(1.0, [])

        def weight(shape):
            return tf.Variable(tf.truncated_normal(shape, stddev=0.1))

        def bias(n):
            return tf.Variable(tf.constant(0.1, shape=[n]))

        h = x
        for c_in, c_out in ((1, 32), (32, 64)):
            h = tf.nn.relu(tf.nn.conv2d(h, weight([5, 5, c_in, c_out]), [1, 1, 1, 1], "SAME") +
                           bias(c_out))
            h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        h = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 7 * 7 * 64]), weight([3136, 1024])) +
                       bias(1024))
        logits = tf.matmul(tf.nn.dropout(h, keep_prob=keep), weight([1024, 10])) + bias(10)
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train = tf.train.AdamOptimizer(1e-4).minimize(loss)
        init = tf.global_variables_initializer()
    config = tf.ConfigProto(inter_op_parallelism_threads=threads,
                            intra_op_parallelism_threads=threads)
    with tf.Session(graph=g, config=config) as sess:
        sess.run(init)
        if mode == "train":
            step = lambda i: sess.run(train, {x: xs[i % 8], y: ys[i % 8], keep: 0.5})  # noqa: E731
        else:
            step = lambda i: sess.run(logits, {x: xs[i % 8]})  # noqa: E731
        return timed(step, steps)


def side_runnel(mode, steps, threads):
    import runnel as tf
    return graph_side(tf, mode, steps, threads)


def side_tensorflow(mode, steps, threads):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()
    return graph_side(tf, mode, steps, threads)


def side_torch(mode, steps, threads):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    batch = MODES[mode]
    gen = torch.Generator().manual_seed(0)
    xs = torch.rand(8, batch, 1, 28, 28, generator=gen)
    ys = torch.randint(0, 10, (8, batch), generator=gen)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(3136, 1024), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(1024, 10))
    if mode == "train":
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        loss_fn = nn.CrossEntropyLoss()

        def step(i):
            opt.zero_grad()
            loss_fn(model(xs[i % 8]), ys[i % 8]).backward()
            opt.step()
        return timed(step, steps)
    model.eval()
    with torch.no_grad():
        return timed(lambda i: model(xs[i % 8]), steps)


SIDES = {"runnel": side_runnel, "tensorflow": side_tensorflow, "torch": side_torch}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--sides", default="runnel,tensorflow,torch")
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--side", help=argparse.SUPPRESS)
    p.add_argument("--mode", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.side:
        seconds = SIDES[args.side](args.mode, args.steps, args.threads)
        print(json.dumps({"rate": MODES[args.mode] / seconds, "ms": seconds * 1e3,
                          "peak_rss_mb": harness.peak_rss_mb()}))
        return
    sides = args.sides.split(",")
    print(f"deep-MNIST CNN, {args.threads} threads, median step of {args.steps} steps, median "
          f"of {args.rounds} interleaved rounds")
    print(f"{'':<12}{'mode':>10}{'ms/step':>10}{'examples/s':>12}{'peak MB':>9}")
    for mode in args.modes.split(","):
        steps = args.steps * (10 if mode == "infer1" else 1)
        results = harness.interleaved(__file__, sides, args.rounds,
                                      lambda s: ["--side", s, "--mode", mode, "--steps", steps,
                                                 "--threads", args.threads])
        med = harness.medians(results)
        for s, m in med.items():
            print(f"{s:<12}{mode:>10}{m['ms']:>10.2f}{m['rate']:>12.0f}{m['peak_rss_mb']:>9.0f}")
        harness.print_ratio(results, f"at {mode}")


if __name__ == "__main__":
    main()
