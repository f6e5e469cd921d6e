"""Google's MobileNet v1 0.25/128 frozen graph (../shared/data/tf-frozen/): batch-1 latency
and batch-32 throughput in Runnel, in TensorFlow (the same frozen graph, tf.compat.v1, its
default graph optimizations on) and in ONNX Runtime (the graph converted by tf2onnx, all
graph optimizations on), with the same thread count; peak memory for every side.

The graph pins its input to batch 1, so every side runs a copy whose input placeholder has
an open batch dim (written to build/bench/); batch 1 fetches the probabilities
(`MobilenetV1/Predictions/Reshape_1`), batch 32 the logits (`MobilenetV1/Logits/
SpatialSqueeze`), since the graph's last Reshape is fixed to batch 1 too.

    tools/bench/run.sh mobilenet.py [--rounds 5]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np

import harness

ROOT = pathlib.Path(__file__).resolve().parents[2]
GRAPH = ROOT.parent / "shared" / "data" / "tf-frozen" / "mobilenet_v1_0.25_128.pb"
ANY_BATCH = ROOT / "build" / "bench" / "mobilenet_v1_0.25_128_any_batch.pb"
ONNX = ROOT / "build" / "bench" / "mobilenet_v1_0.25_128.onnx"
OUTPUTS = {1: "MobilenetV1/Predictions/Reshape_1:0", 32: "MobilenetV1/Logits/SpatialSqueeze:0"}


def inputs(batch):
    return np.random.default_rng(0).uniform(-1, 1, (batch, 128, 128, 3)).astype(np.float32)


def timed(run, steps, warmup=5):
    for _ in range(warmup):
        run()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def graph_side(tf, batch, steps, threads):
    graph_def = tf.GraphDef()
    graph_def.ParseFromString(ANY_BATCH.read_bytes())
    with tf.Graph().as_default() as g:
        tf.import_graph_def(graph_def, name="")
    del graph_def  # the graph holds what it needs (ONNX Runtime reads its file itself)
    config = tf.ConfigProto(inter_op_parallelism_threads=threads,
                            intra_op_parallelism_threads=threads)
    x = inputs(batch)
    with tf.Session(graph=g, config=config) as sess:
        return timed(lambda: sess.run(OUTPUTS[batch], {"input:0": x}), steps)


def side_runnel(batch, steps, threads):
    import runnel as tf
    return graph_side(tf, batch, steps, threads)


def side_tensorflow(batch, steps, threads):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()
    return graph_side(tf, batch, steps, threads)


def side_onnxruntime(batch, steps, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(ONNX), options, providers=["CPUExecutionProvider"])
    x = inputs(batch)
    return timed(lambda: session.run([OUTPUTS[batch]], {"input:0": x}), steps)


SIDES = {"runnel": side_runnel, "tensorflow": side_tensorflow, "onnxruntime": side_onnxruntime}


def open_batch_dim():
    """Writes the graph with its input's batch dim unknown."""
    import runnel
    graph_def = runnel.GraphDef()
    graph_def.ParseFromString(GRAPH.read_bytes())
    node = next(n for n in graph_def.node if n.name == "input")
    node.attr["shape"].shape.dim[0].size = -1
    ANY_BATCH.parent.mkdir(parents=True, exist_ok=True)
    ANY_BATCH.write_bytes(graph_def.SerializeToString())


def convert_to_onnx():
    if ONNX.exists():
        return
    subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--graphdef", str(ANY_BATCH),
                    "--inputs", "input:0", "--outputs", ",".join(OUTPUTS.values()),
                    "--opset", "13", "--output", str(ONNX)], check=True, capture_output=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--sides", default=",".join(SIDES))
    p.add_argument("--side", help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.side:
        seconds = SIDES[args.side](args.batch, args.steps, args.threads)
        print(json.dumps({"rate": args.batch / seconds, "ms": seconds * 1e3,
                          "peak_rss_mb": harness.peak_rss_mb()}))
        return
    if not GRAPH.exists():
        sys.exit(f"{GRAPH} not found: this benchmark needs ../shared beside the project")
    sides = args.sides.split(",")
    open_batch_dim()
    if "onnxruntime" in sides:
        convert_to_onnx()
    print(f"MobileNet v1 0.25/128 frozen graph, {args.threads} threads, median of {args.steps} "
          f"runs, median of {args.rounds} interleaved rounds")
    print(f"{'':<13}{'batch':>6}{'ms/run':>9}{'images/s':>10}{'peak MB':>9}")
    for batch in OUTPUTS:
        steps = args.steps if batch == 1 else max(5, args.steps // 5)
        results = harness.interleaved(__file__, sides, args.rounds,
                                      lambda s: ["--side", s, "--batch", batch, "--steps", steps,
                                                 "--threads", args.threads])
        med = harness.medians(results)
        for s, m in med.items():
            print(f"{s:<13}{batch:>6}{m['ms']:>9.2f}{m['rate']:>10.0f}{m['peak_rss_mb']:>9.0f}")
        harness.print_ratio(results, f"at batch {batch}")


if __name__ == "__main__":
    main()
