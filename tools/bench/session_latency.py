"""What a Python user feels: graph-building cost per op, and the latency of one
`session.run` of a small MLP (784-64-64-64, batch 1), in Runnel and in TensorFlow's
tf.compat.v1 (default optimizations on), each in its own process, interleaved.

    tools/bench/run.sh session_latency.py [--rounds 5]
"""
import argparse
import json
import os
import statistics
import time

import numpy as np

import harness


def side(name):
    if name == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow
        tf = tensorflow.compat.v1
        tf.disable_eager_execution()
    else:
        import runnel as tf
    rng = np.random.default_rng(0)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 784])
        h = x
        for i in range(3):
            w = tf.constant(rng.random((784 if i == 0 else 64, 64), np.float32) * 0.01)
            h = tf.nn.relu(tf.matmul(h, w) + tf.constant(np.zeros(64, np.float32)))
        start = time.perf_counter()
        y = x
        for _ in range(1000):
            y = tf.add(y, tf.constant(1.0))
        build_us = (time.perf_counter() - start) / 2000 * 1e6
    config = tf.ConfigProto(inter_op_parallelism_threads=os.cpu_count(),
                            intra_op_parallelism_threads=os.cpu_count())
    with tf.Session(graph=g, config=config) as sess:
        batch = rng.random((1, 784), np.float32)
        sess.run(h, {x: batch})
        times = []
        for _ in range(2000):
            start = time.perf_counter()
            sess.run(h, {x: batch})
            times.append(time.perf_counter() - start)
    return {"build_us_per_op": build_us, "run_us": statistics.median(times) * 1e6,
            "peak_rss_mb": harness.peak_rss_mb()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--side", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.side:
        print(json.dumps(side(args.side)))
        return
    med = harness.medians(harness.interleaved(__file__, ["runnel", "tensorflow"], args.rounds,
                                              lambda s: ["--side", s]))
    print(f"median of {args.rounds} interleaved rounds")
    print(f"{'':<12}{'build us/op':>12}{'run us (MLP, batch 1)':>24}{'peak MB':>9}")
    for s, m in med.items():
        print(f"{s:<12}{m['build_us_per_op']:>12.1f}{m['run_us']:>24.1f}{m['peak_rss_mb']:>9.0f}")
    r, t = med["runnel"], med["tensorflow"]
    print(f"runnel vs tensorflow: builds {t['build_us_per_op'] / r['build_us_per_op']:.1f}x faster, "
          f"runs {t['run_us'] / r['run_us']:.1f}x faster")


if __name__ == "__main__":
    main()
