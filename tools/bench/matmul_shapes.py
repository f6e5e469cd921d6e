"""Single MatMuls at the MLP's shapes (forward and both gradients), GFLOP/s in Runnel and
in TensorFlow's executor (optimizations off so the MatMul is what runs), same threads.

    tools/bench/run.sh matmul_shapes.py
"""
import json
import os
import sys
import time

import numpy as np

import harness

# (a shape, b shape, transpose_a, transpose_b): the 784-512 layer at batch 128.
SHAPES = [((128, 784), (784, 512), False, False), ((128, 512), (784, 512), False, True),
          ((128, 784), (128, 512), True, False), ((128, 512), (512, 512), False, False),
          ((1024, 1024), (1024, 1024), False, False)]


def side(name):
    if name == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow.compat.v1 as tf
        tf.disable_v2_behavior()
    else:
        import runnel as tf
    rates = []
    for sa, sb, ta, tb in SHAPES:
        g = tf.Graph()
        with g.as_default():
            a = tf.placeholder(tf.float32, sa)
            b = tf.constant(np.random.rand(*sb).astype(np.float32))
            c = tf.matmul(a, b, transpose_a=ta, transpose_b=tb)
        config = tf.ConfigProto(inter_op_parallelism_threads=os.cpu_count(),
                                intra_op_parallelism_threads=os.cpu_count())
        if name == "tensorflow":
            config.graph_options.rewrite_options.disable_meta_optimizer = True
            config.graph_options.optimizer_options.opt_level = tf.OptimizerOptions.L0
        feed = {a: np.random.rand(*sa).astype(np.float32)}
        with tf.Session(graph=g, config=config) as sess:
            for _ in range(5):
                sess.run(c.op, feed)
            n = 50 if sa[0] >= 1024 else 200
            start = time.perf_counter()
            for _ in range(n):
                sess.run(c.op, feed)
            seconds = (time.perf_counter() - start) / n
        m, k = (sa[1], sa[0]) if ta else sa
        cols = sb[0] if tb else sb[1]
        rates.append(2 * m * k * cols / seconds / 1e9)
    return rates


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--side":
        print(json.dumps(side(sys.argv[2])))
        return
    results = {s: harness.run_side(__file__, ["--side", s]) for s in ("runnel", "tensorflow")}
    print(f"{'a x b (transposes)':<38}{'runnel GFLOP/s':>16}{'tensorflow':>12}")
    for i, (sa, sb, ta, tb) in enumerate(SHAPES):
        label = f"{sa}{'^T' if ta else ''} x {sb}{'^T' if tb else ''}"
        print(f"{label:<38}{results['runnel'][i]:>16.1f}{results['tensorflow'][i]:>12.1f}")


if __name__ == "__main__":
    main()
