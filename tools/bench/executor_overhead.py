"""Executor overhead: a chain and a fan-out of 10,000 cheap ops (scalar adds), µs/node,
and session set-up time for the 10,000-node graph, in Runnel, TensorFlow's graph runtime
(tf.compat.v1.Session) and PyTorch (eager and TorchScript), with the same thread count.

Each side runs in its own process (so peak memory is its own); the sides take turns over
several rounds and the medians are compared. Run from the repository root:

    tools/bench/run.sh executor_overhead.py [--nodes 10000] [--rounds 5] [--threads 2]
"""
import argparse
import json
import os
import statistics
import time

import harness


def measure(run, reps):
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def graph_runtime(tf1, config, n, reps):
    """µs/node for the chain and the fan-out, and set-up ms, with TF1's graph API."""
    out = {}
    for shape in ("chain", "fanout"):
        g = tf1.Graph()
        with g.as_default():
            x = tf1.placeholder(tf1.float32, [], name="x")
            one = tf1.constant(1.0)
            if shape == "chain":
                target = x
                for _ in range(n):
                    target = tf1.add(target, one)
            else:
                target = tf1.group(*[tf1.add(x, one) for _ in range(n)])
        with tf1.Session(graph=g, config=config) as sess:
            start = time.perf_counter()
            sess.run(target, {x: 0.0})
            first = time.perf_counter() - start
            steady = measure(lambda: sess.run(target, {x: 0.0}), reps)
        out[shape] = steady / n * 1e6
        out[f"{shape}_setup_ms"] = (first - steady) * 1e3
    return out


def side_runnel(n, threads, reps):
    import runnel as tf
    # Passes off, as Grappler is off on TensorFlow's side: common-subexpression elimination
    # would merge the fan-out's identical adds and leave no executor work to measure.
    config = tf.ConfigProto(inter_op_parallelism_threads=threads,
                            intra_op_parallelism_threads=threads,
                            runnel_options={"graph_optimization_level": "0"})
    return graph_runtime(tf, config, n, reps)


def side_tensorflow(n, threads, reps):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    config = tf1.ConfigProto(inter_op_parallelism_threads=threads,
                             intra_op_parallelism_threads=threads)
    # Grappler would fold the chain and merge the 10,000 identical adds: measure the
    # executor, not the optimizer (Runnel has no graph passes yet either).
    config.graph_options.rewrite_options.disable_meta_optimizer = True
    config.graph_options.optimizer_options.opt_level = tf1.OptimizerOptions.L0
    config.graph_options.optimizer_options.do_common_subexpression_elimination = False
    config.graph_options.optimizer_options.do_constant_folding = False
    return graph_runtime(tf1, config, n, reps)


def side_torch(n, threads, reps):
    import torch
    torch.set_num_threads(threads)
    x = torch.zeros(())

    def chain():
        y = x
        for _ in range(n):
            y = y + 1.0
        return y

    def fanout():
        return [x + 1.0 for _ in range(n)]

    @torch.jit.script
    def scripted_chain(x: torch.Tensor, n: int) -> torch.Tensor:
        for _ in range(n):
            x = x + 1.0
        return x

    scripted_chain(x, n)
    with torch.no_grad():
        return {"chain": measure(chain, reps) / n * 1e6,
                "fanout": measure(fanout, reps) / n * 1e6,
                "torchscript_chain": measure(lambda: scripted_chain(x, n), reps) / n * 1e6,
                "threads": torch.get_num_threads()}


SIDES = {"runnel": side_runnel, "tensorflow": side_tensorflow, "torch": side_torch}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=10000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--sides", default="runnel,tensorflow,torch")
    p.add_argument("--side", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.side:
        result = SIDES[args.side](args.nodes, args.threads, args.reps)
        result["peak_rss_mb"] = harness.peak_rss_mb()
        print(json.dumps(result))
        return

    sides = args.sides.split(",")
    med = harness.medians(harness.interleaved(
        __file__, sides, args.rounds,
        lambda s: ["--side", s, "--nodes", args.nodes, "--threads", args.threads,
                   "--reps", args.reps]))
    print(f"executor overhead, {args.nodes} scalar adds, {args.threads} threads, "
          f"median of {args.rounds} interleaved rounds x {args.reps} runs")
    print(f"{'':<26}{'chain us/node':>14}{'fan-out us/node':>17}{'set-up ms':>11}{'peak MB':>9}")
    for s, m in med.items():
        setup = m.get("chain_setup_ms")
        print(f"{s:<26}{m['chain']:>14.3f}{m['fanout']:>17.3f}"
              f"{(f'{setup:.1f}' if setup is not None else '-'):>11}{m['peak_rss_mb']:>9.0f}")
        if "torchscript_chain" in m:
            print(f"{'torch (TorchScript)':<26}{m['torchscript_chain']:>14.3f}")
    if "runnel" in med:
        base = med["runnel"]
        for s, m in med.items():
            if s == "runnel":
                continue
            print(f"runnel speed-up vs {s}: chain {m['chain'] / base['chain']:.2f}x, "
                  f"fan-out {m['fanout'] / base['fanout']:.2f}x")
            if "torchscript_chain" in m:
                print(f"runnel speed-up vs TorchScript: chain "
                      f"{m['torchscript_chain'] / base['chain']:.2f}x")
            if "chain_setup_ms" in m:
                print(f"runnel set-up vs {s}: {m['chain_setup_ms'] / base['chain_setup_ms']:.2f}x "
                      "faster")


if __name__ == "__main__":
    main()
