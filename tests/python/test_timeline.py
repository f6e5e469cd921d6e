"""runnel.client.timeline.Timeline: a step's RunMetadata.step_stats as Chrome's trace event
format (checked by parsing it: a process per device, an event per node that ran, named by
its op, no two events overlapping on one row)."""
import json

import numpy as np

import runnel as tf
from runnel.client import timeline


def test_a_traced_step_becomes_a_chrome_trace_with_a_process_per_device():
    config = tf.ConfigProto(device_count={"CPU": 2})
    x = tf.placeholder(tf.float32, [4, 3], name="x")
    with tf.device("/cpu:0"):
        a = tf.matmul(x, tf.ones([3, 5]), name="a")
    with tf.device("/cpu:1"):
        b = tf.nn.relu(a, name="b")
        c = tf.tanh(a, name="c")
    total = tf.add(b, c, name="total")
    metadata = tf.RunMetadata()
    with tf.Session(config=config) as sess:
        sess.run(total, {x: np.ones((4, 3), np.float32)},
                 options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                 run_metadata=metadata)
    trace = json.loads(timeline.Timeline(metadata.step_stats).generate_chrome_trace_format())
    events = trace["traceEvents"]
    processes = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M"}
    assert sorted(name[-1] for name in processes.values()) == ["0", "1"]
    ops = [e for e in events if e["ph"] == "X"]
    by_node = {e["args"]["name"]: e for e in ops}
    assert by_node["a"]["name"] == "MatMul" and by_node["b"]["name"] == "Relu"
    assert processes[by_node["a"]["pid"]].endswith("CPU:0")
    assert processes[by_node["c"]["pid"]].endswith("CPU:1")
    assert by_node["b"]["ts"] >= by_node["a"]["ts"] + by_node["a"]["dur"] - 1e-3
    rows = {}
    for e in sorted(ops, key=lambda e: e["ts"]):
        key = (e["pid"], e["tid"])
        assert e["ts"] >= rows.get(key, 0.0) - 1e-6, f"events overlap on row {key}"
        rows[key] = e["ts"] + e["dur"]
