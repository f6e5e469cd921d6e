"""LSTM training throughput: one LSTM layer over [batch, steps, 32] sequences, a dense head
on the last output, mean squared error, Adam, in Runnel (tf.nn.dynamic_rnn over an
LSTMCell: a while loop, its gradient a backward loop), in TensorFlow (the same graph
through tf.compat.v1) and in PyTorch (its fused nn.LSTM), with the same thread count;
training steps/s and peak memory.

    tools/bench/run.sh lstm_training.py [--rounds 3] [--steps 30]
"""
import argparse
import json
import os
import time

import numpy as np

import harness

FEATURES = 32
CASES = [  # (steps, batch, hidden)
    (50, 32, 64),
    (100, 64, 256),
]


def data(steps, batch, seq):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((steps, batch, seq, FEATURES)).astype(np.float32)
    y = rng.standard_normal((steps, batch)).astype(np.float32)
    return x, y


def graph_side(tf, case, steps, threads):
    seq, batch, hidden = case
    x_all, y_all = data(steps, batch, seq)
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, None, FEATURES])
        y = tf.placeholder(tf.float32, [None])
        outputs, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.LSTMCell(hidden), x, dtype=tf.float32)
        prediction = tf.squeeze(tf.layers.dense(outputs[:, -1], 1), 1)
        loss = tf.reduce_mean(tf.square(prediction - y))
        train = tf.train.AdamOptimizer(1e-3).minimize(loss)
        init = tf.global_variables_initializer()
    config = tf.ConfigProto(inter_op_parallelism_threads=threads,
                            intra_op_parallelism_threads=threads)
    with tf.Session(graph=g, config=config) as sess:
        sess.run(init)
        for _ in range(3):  # warm-up
            sess.run(train, {x: x_all[0], y: y_all[0]})
        start = time.perf_counter()
        for i in range(steps):
            sess.run(train, {x: x_all[i], y: y_all[i]})
        return steps / (time.perf_counter() - start)


def side_runnel(case, steps, threads):
    import runnel as tf
    return graph_side(tf, case, steps, threads)


def side_tensorflow(case, steps, threads):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf.nn.rnn_cell
    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()
    return graph_side(tf, case, steps, threads)


def side_torch(case, steps, threads):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    seq, batch, hidden = case
    gen = torch.Generator().manual_seed(0)
    x_all = torch.randn(steps, batch, seq, FEATURES, generator=gen)
    y_all = torch.randn(steps, batch, generator=gen)
    lstm = torch.nn.LSTM(FEATURES, hidden, batch_first=True)
    head = torch.nn.Linear(hidden, 1)
    opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=1e-3)

    def step(i):
        opt.zero_grad()
        outputs, _ = lstm(x_all[i])
        loss = ((head(outputs[:, -1]).squeeze(1) - y_all[i]) ** 2).mean()
        loss.backward()
        opt.step()
    for _ in range(3):
        step(0)
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    return steps / (time.perf_counter() - start)


SIDES = {"runnel": side_runnel, "tensorflow": side_tensorflow, "torch": side_torch}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--sides", default="runnel,tensorflow,torch")
    p.add_argument("--cases", default=",".join(str(i) for i in range(len(CASES))),
                   help="which of the cases to run (indices)")
    p.add_argument("--side", help=argparse.SUPPRESS)
    p.add_argument("--case", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.side:
        rate = SIDES[args.side](CASES[args.case], args.steps, args.threads)
        print(json.dumps({"rate": rate, "peak_rss_mb": harness.peak_rss_mb()}))
        return
    sides = args.sides.split(",")
    print(f"LSTM training ({FEATURES} features, dense head, MSE, Adam), {args.threads} "
          f"threads, median of {args.rounds} interleaved rounds x {args.steps} steps")
    print(f"{'':<12}{'steps x batch x hidden':>24}{'steps/s':>10}{'peak MB':>9}")
    for index in map(int, args.cases.split(",")):
        case = CASES[index]
        results = harness.interleaved(
            __file__, sides, args.rounds,
            lambda s: ["--side", s, "--case", index, "--steps", args.steps,
                       "--threads", args.threads])
        label = "x".join(map(str, case))
        for s, m in harness.medians(results).items():
            print(f"{s:<12}{label:>24}{m['rate']:>10.2f}{m['peak_rss_mb']:>9.0f}")
        harness.print_ratio(results, label)


if __name__ == "__main__":
    main()
