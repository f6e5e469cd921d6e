"""Moving a tensor between two processes: Runnel's ZeroMQ runtime, raw ZeroMQ (pyzmq, the
floor), and TensorFlow's gRPC runtime (tf.compat.v1.train.Server), 4 KB to 256 MB.

Runnel and TensorFlow: a float32 variable of the size lives on a ps task in another
process; each run reads it on the worker task (this process) and fetches one element, so
a run is the step's messages plus one transfer. Raw ZeroMQ: a REQ/REP round trip whose
reply carries the bytes (sent and received without copies). The smallest size gives the
small-tensor round trip. --mlp also times the asynchronous Fashion-MNIST MLP
(tools/examples/distributed_mlp.py) with 1 and 2 workers against one process.

    tools/bench/run.sh distributed_transfer.py [--rounds 3] [--sizes 4096,1048576] [--mlp]
"""
import argparse
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import time

import harness

ROOT = pathlib.Path(__file__).resolve().parents[2]
SIZES = [4 << 10, 64 << 10, 1 << 20, 16 << 20, 256 << 20]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def repeats(size):
    return max(3, min(2000, (512 << 20) // size))


def wait_for_port(port, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def graph_side(tf, ps_process, cluster, server, sizes):
    """Times runs that read a ps variable on this worker; returns {size: seconds}."""
    out = {}
    for size in sizes:
        graph = tf.Graph()
        with graph.as_default():
            with tf.device("/job:ps/task:0"):
                v = tf.Variable(tf.zeros([size // 4]), name=f"v{size}")
            with tf.device("/job:worker/task:0"):
                first = tf.identity(v)[:1]
        config = tf.ConfigProto()
        if hasattr(config, "runnel_options"):
            config.runnel_options["graph_optimization_level"] = "0"
        else:
            config.graph_options.rewrite_options.disable_meta_optimizer = True
        with tf.Session(server.target, graph=graph, config=config) as sess:
            sess.run(v.initializer)
            sess.run(first)  # set-up
            n = repeats(size)
            start = time.perf_counter()
            for _ in range(n):
                sess.run(first)
            out[size] = (time.perf_counter() - start) / n
    return out


def side_runnel(sizes):
    import runnel as tf
    cluster = {"ps": [f"localhost:{free_port()}"], "worker": [f"localhost:{free_port()}"]}
    spec = ";".join(f"{j}={','.join(a)}" for j, a in cluster.items())
    ps = subprocess.Popen([str(ROOT / "build" / "bin" / "runnel-server"), "--cluster", spec,
                           "--job", "ps", "--task", "0"], stderr=subprocess.DEVNULL)
    try:
        server = tf.train.Server(cluster, "worker", 0)
        return graph_side(tf, ps, cluster, server, sizes)
    finally:
        ps.terminate()
        ps.wait()


def side_tensorflow(sizes):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()
    ps_port = free_port()
    cluster = {"ps": [f"localhost:{ps_port}"], "worker": [f"localhost:{free_port()}"]}
    ps = subprocess.Popen([sys.executable, __file__, "--tf-ps", json.dumps(cluster)],
                          stderr=subprocess.DEVNULL)
    try:
        wait_for_port(ps_port)
        server = tf.train.Server(tf.train.ClusterSpec(cluster), "worker", 0)
        return graph_side(tf, ps, cluster, server, sizes)
    finally:
        ps.kill()
        ps.wait()


def side_zmq(sizes):
    import zmq
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--zmq-server", str(port)])
    context = zmq.Context()
    socket_ = context.socket(zmq.REQ)
    socket_.connect(f"tcp://127.0.0.1:{port}")
    out = {}
    try:
        for size in sizes:
            request = str(size).encode()
            socket_.send(request)
            socket_.recv(copy=False)
            n = repeats(size)
            start = time.perf_counter()
            for _ in range(n):
                socket_.send(request)
                socket_.recv(copy=False)
            out[size] = (time.perf_counter() - start) / n
    finally:
        socket_.send(b"stop")
        socket_.recv()
        server.wait()
        socket_.close()
        context.term()
    return out


def zmq_server(port):
    import zmq
    context = zmq.Context()
    socket_ = context.socket(zmq.REP)
    socket_.bind(f"tcp://127.0.0.1:{port}")
    buffers = {}
    while True:
        request = socket_.recv()
        if request == b"stop":
            socket_.send(b"")
            return
        size = int(request)
        if size not in buffers:
            buffers[size] = bytearray(size)
        socket_.send(buffers[size], copy=False)


def tf_ps(cluster):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow.compat.v1 as tf
    tf.train.Server(tf.train.ClusterSpec(json.loads(cluster)), "ps", 0).join()


def mlp(rounds):
    """examples/s of the async MLP: one process, then 1 and 2 worker processes."""
    example = ROOT / "tools" / "examples" / "distributed_mlp.py"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "build" / "python"))
    rates = {"one process": [], "1 worker": [], "2 workers": []}

    def run(*args):
        return subprocess.Popen([sys.executable, str(example), "--epochs", "2", *args],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
    for _ in range(rounds):
        out = run("--local").communicate()[0]
        rates["one process"].append(float(re.search(r"([0-9]+) examples/s", out).group(1)))
        for workers in (1, 2):
            ports = [free_port() for _ in range(workers + 1)]
            spec = f"ps=localhost:{ports[0]};worker=" + ",".join(
                f"localhost:{p}" for p in ports[1:])
            ps = subprocess.Popen([str(ROOT / "build" / "bin" / "runnel-server"), "--cluster",
                                   spec, "--job", "ps", "--task", "0"],
                                  stderr=subprocess.DEVNULL)
            start = time.perf_counter()
            procs = [run("--cluster", spec, "--job", "worker", "--task", str(i))
                     for i in range(workers)]
            for p in procs:
                p.communicate()
            elapsed = time.perf_counter() - start
            ps.terminate()
            ps.wait()
            rates[f"{workers} worker{'s' if workers > 1 else ''}"].append(2 * 60000 / elapsed)
    print("\nasync Fashion-MNIST MLP (2 epochs, batch 100), examples/s, median of rounds "
          "(workers: wall time of the whole job, start-up included):")
    import statistics
    base = statistics.median(rates["one process"])
    for name, values in rates.items():
        m = statistics.median(values)
        print(f"  {name:12s} {m:9.0f}  ({m / base:.2f}x one process)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sides", default="runnel,zmq,tensorflow")
    parser.add_argument("--mlp", action="store_true")
    parser.add_argument("--zmq-server")
    parser.add_argument("--tf-ps")
    args = parser.parse_args()
    if args.zmq_server:
        return zmq_server(int(args.zmq_server))
    if args.tf_ps:
        return tf_ps(args.tf_ps)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.side:
        seconds = {"runnel": side_runnel, "zmq": side_zmq,
                   "tensorflow": side_tensorflow}[args.side](sizes)
        result = {str(k): v for k, v in seconds.items()}
        result["peak_mb"] = harness.peak_rss_mb()
        print(json.dumps(result))
        return
    sides = args.sides.split(",")
    results = harness.interleaved(__file__, sides, args.rounds,
                                  lambda s: ["--side", s, "--sizes", args.sizes])
    med = harness.medians(results)
    print(f"{'size':>10s} " + " ".join(f"{s + ' ms':>14s}" for s in sides) +
          "   runnel/zmq throughput   runnel/tensorflow throughput")
    for size in sizes:
        key = str(size)
        row = [med[s][key] * 1e3 if s in med else float("nan") for s in sides]
        ratios = []
        for peer in ("zmq", "tensorflow"):
            if "runnel" in results and peer in results and results[peer]:
                per_round = [results[peer][i][key] / results["runnel"][i][key]
                             for i in range(min(len(results[peer]), len(results["runnel"])))]
                ratios.append(f"{sorted(per_round)[len(per_round) // 2]:.2f}x "
                              f"({min(per_round):.2f}-{max(per_round):.2f})")
            else:
                ratios.append("-")
        label = f"{size >> 20} MB" if size >= 1 << 20 else f"{size >> 10} KB"
        print(f"{label:>10s} " + " ".join(f"{x:14.3f}" for x in row) +
              f"   {ratios[0]:>22s}   {ratios[1]:>22s}")
    print("peak MB: " + ", ".join(f"{s} {med[s]['peak_mb']:.0f}" for s in med))
    if args.mlp:
        mlp(args.rounds)


if __name__ == "__main__":
    main()
