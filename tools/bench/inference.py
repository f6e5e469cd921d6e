"""Frozen-graph inference: batch-1 latency and batch-32 throughput of Runnel through its
C++ API (runnel-run --benchmark), of TensorFlow running the same frozen graph
(tf.compat.v1, its default graph optimizations on) and of ONNX Runtime (the graph
converted by tf2onnx, all graph optimizations on), same thread count; the peak resident
memory of each process, and Runnel's against the model's weights plus its largest
activations.

Models: Google's MobileNet v1 0.25/128 (../shared/data/tf-frozen/; skipped without it) and
the deep-MNIST CNN (two 5x5 conv + max-pool layers, dense 1024, dense 10; random weights,
built and frozen by Runnel). Frozen graphs whose input pins batch 1 are rewritten with an
open batch dim (build/bench/); batch 32 fetches MobileNet's logits since its last Reshape is
fixed to batch 1 too.

    tools/bench/run.sh inference.py [--rounds 5] [--models mobilenet,cnn]
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import time

import numpy as np

import harness

ROOT = pathlib.Path(__file__).resolve().parents[2]
BENCH = ROOT / "build" / "bench"
RUNNEL_RUN = ROOT / "build" / "bin" / "runnel-run"
MOBILENET = ROOT.parent / "shared" / "data" / "tf-frozen" / "mobilenet_v1_0.25_128.pb"

MODELS = {
    "mobilenet": {"pb": BENCH / "mobilenet_any_batch.pb", "input": "input",
                  "shape": (128, 128, 3),
                  "outputs": {1: "MobilenetV1/Predictions/Reshape_1:0",
                              32: "MobilenetV1/Logits/SpatialSqueeze:0"}},
    "cnn": {"pb": BENCH / "deep_mnist_cnn.pb", "input": "x", "shape": (28, 28, 1),
            "outputs": {1: "logits:0", 32: "logits:0"}},
}


def inputs(model, batch):
    shape = (batch,) + MODELS[model]["shape"]
    return np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)


def timed(run, steps, warmup=5):
    for _ in range(warmup):
        run()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def runnel_memory(out):
    """runnel-run's own memory figures: resident after the runs, peak, and private."""
    found = re.search(r"resident memory: ([0-9.]+) MB \(peak ([0-9.]+) MB\), ([0-9.]+) MB of it "
                      r"private", out)
    return {"peak_rss_mb": float(found.group(2)), "resident_mb": float(found.group(1)),
            "private_mb": float(found.group(3))}


def side_runnel(model, batch, steps, threads):
    """The C++ API through runnel-run: its p50 latency and its memory (runnel-run's own
    figures: a child's peak from getrusage would include the Python it was forked from)."""
    m = MODELS[model]
    x = BENCH / f"{model}_input_{batch}.npy"
    np.save(x, inputs(model, batch))
    out = subprocess.run([str(RUNNEL_RUN), str(m["pb"]), "--input", f"{m['input']}={x}",
                          "--output", m["outputs"][batch], "--benchmark", "--runs", str(steps),
                          "--threads", str(threads)],
                         capture_output=True, text=True, check=True).stdout
    p50 = float(re.search(r"p50 ([0-9.]+) ms", out).group(1))
    return p50 / 1e3, runnel_memory(out)


def side_tensorflow(model, batch, steps, threads):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()
    m = MODELS[model]
    graph_def = tf.GraphDef()
    graph_def.ParseFromString(m["pb"].read_bytes())
    with tf.Graph().as_default() as g:
        tf.import_graph_def(graph_def, name="")
    del graph_def
    config = tf.ConfigProto(inter_op_parallelism_threads=threads,
                            intra_op_parallelism_threads=threads)
    x = inputs(model, batch)
    with tf.Session(graph=g, config=config) as sess:
        seconds = timed(lambda: sess.run(m["outputs"][batch], {m["input"] + ":0": x}), steps)
    return seconds, harness.peak_rss_mb()


def side_onnxruntime(model, batch, steps, threads):
    import onnxruntime as ort
    m = MODELS[model]
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(m["pb"].with_suffix(".onnx")), options,
                                   providers=["CPUExecutionProvider"])
    x = inputs(model, batch)
    seconds = timed(lambda: session.run([m["outputs"][batch]], {m["input"] + ":0": x}), steps)
    return seconds, harness.peak_rss_mb()


SIDES = {"runnel": side_runnel, "tensorflow": side_tensorflow, "onnxruntime": side_onnxruntime}


def prepare_mobilenet():
    import runnel
    graph_def = runnel.GraphDef()
    graph_def.ParseFromString(MOBILENET.read_bytes())
    node = next(n for n in graph_def.node if n.name == "input")
    node.attr["shape"].shape.dim[0].size = -1
    MODELS["mobilenet"]["pb"].write_bytes(graph_def.SerializeToString())


def prepare_cnn():
    """The deep-MNIST CNN with He-initialized random weights, frozen by Runnel."""
    import runnel as tf
    with tf.Graph().as_default() as g:
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [None, 28, 28, 1], name="x")
        h = tf.layers.conv2d(x, 32, 5, padding="same", activation=tf.nn.relu)
        h = tf.layers.max_pooling2d(h, 2, 2)
        h = tf.layers.conv2d(h, 64, 5, padding="same", activation=tf.nn.relu)
        h = tf.layers.max_pooling2d(h, 2, 2)
        h = tf.layers.dense(tf.layers.flatten(h), 1024, activation=tf.nn.relu)
        tf.identity(tf.layers.dense(h, 10), name="logits")
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        frozen = tf.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["logits"])
    MODELS["cnn"]["pb"].write_bytes(frozen.SerializeToString())


def convert_to_onnx(model):
    m = MODELS[model]
    onnx = m["pb"].with_suffix(".onnx")
    if onnx.exists() and onnx.stat().st_mtime > m["pb"].stat().st_mtime:
        return
    subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--graphdef", str(m["pb"]),
                    "--inputs", m["input"] + ":0",
                    "--outputs", ",".join(sorted(set(m["outputs"].values()))),
                    "--opset", "13", "--output", str(onnx)], check=True, capture_output=True)


def model_memory_mb(model, batch):
    """The weights' bytes and the largest activation: the largest output (runnel-inspect's
    shapes at `batch`) of the nodes that depend on the input."""
    out = subprocess.run([str(ROOT / "build" / "bin" / "runnel-inspect"), str(MODELS[model]["pb"]),
                          "--json", "--batch", str(batch)], capture_output=True, text=True,
                         check=True).stdout
    summary = json.loads(out)
    fed = {t["name"] for t in summary["inputs"]}
    grown = True
    while grown:  # the nodes downstream of the inputs, whatever the graph's node order
        before = len(fed)
        fed |= {n["name"] for n in summary["nodes"]
                if any(i.lstrip("^").split(":")[0] in fed for i in n["inputs"])}
        grown = len(fed) > before
    largest = 0
    for n in summary["nodes"]:
        for shape in n["shapes"] if n["name"] in fed else []:
            if shape:
                dims = [batch if d is None else d for d in shape]
                largest = max(largest, int(np.prod(dims)) * 4)
    return summary["parameters"]["bytes"] / 1e6, largest / 1e6


def baseline_memory():
    """runnel-run's own memory (libraries, thread pools) on a one-node graph."""
    import runnel as tf
    with tf.Graph().as_default() as g:
        tf.identity(tf.placeholder(tf.float32, [None, 1], name="x"), name="y")
    path = BENCH / "baseline.pb"
    path.write_bytes(g.as_graph_def().SerializeToString())
    out = subprocess.run([str(RUNNEL_RUN), str(path), "--benchmark", "--runs", "10"],
                         capture_output=True, text=True, check=True).stdout
    return runnel_memory(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--sides", default=",".join(SIDES))
    p.add_argument("--models", default="mobilenet,cnn")
    p.add_argument("--side", help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.side:
        seconds, memory = SIDES[args.side](args.model, args.batch, args.steps, args.threads)
        if not isinstance(memory, dict):
            memory = {"peak_rss_mb": memory}
        print(json.dumps({"rate": args.batch / seconds, "ms": seconds * 1e3, **memory}))
        return
    BENCH.mkdir(parents=True, exist_ok=True)
    sides = args.sides.split(",")
    models = args.models.split(",")
    if "mobilenet" in models and not MOBILENET.exists():
        print(f"{MOBILENET} not found: MobileNet skipped (it needs ../shared)")
        models.remove("mobilenet")
    baseline = baseline_memory()
    print(f"frozen-graph inference, {args.threads} threads, median of {args.steps} runs, "
          f"median of {args.rounds} interleaved rounds; runnel = the C++ API (runnel-run); "
          f"runnel-run's own memory on a one-node graph: {baseline['resident_mb']:.1f} MB "
          f"resident, {baseline['private_mb']:.1f} MB of it private")
    for model in models:
        {"mobilenet": prepare_mobilenet, "cnn": prepare_cnn}[model]()
        if "onnxruntime" in sides:
            convert_to_onnx(model)
        print(f"\n{model}\n{'':<13}{'batch':>6}{'ms/run':>9}{'images/s':>10}{'peak MB':>9}")
        for batch in (1, 32):
            steps = args.steps if batch == 1 else max(5, args.steps // 5)
            results = harness.interleaved(
                __file__, sides, args.rounds,
                lambda s: ["--side", s, "--model", model, "--batch", batch, "--steps", steps,
                           "--threads", args.threads])
            med = harness.medians(results)
            for s, m in med.items():
                print(f"{s:<13}{batch:>6}{m['ms']:>9.2f}{m['rate']:>10.0f}"
                      f"{m['peak_rss_mb']:>9.0f}")
            harness.print_ratio(results, f"at batch {batch}")
            if "onnxruntime" in med and "runnel" in med:
                print(f"runnel / onnxruntime at batch {batch}: "
                      f"{med['runnel']['rate'] / med['onnxruntime']['rate']:.2f}x")
            if "runnel" in med:
                weights, activation = model_memory_mb(model, batch)
                r = med["runnel"]
                print(f"runnel memory above its baseline: resident "
                      f"{r['resident_mb'] - baseline['resident_mb']:.1f} MB (private "
                      f"{r['private_mb'] - baseline['private_mb']:.1f} MB), peak while loading "
                      f"{r['peak_rss_mb'] - baseline['resident_mb']:.1f} MB; weights "
                      f"{weights:.1f} MB + largest activation {activation:.1f} MB")


if __name__ == "__main__":
    main()
