"""Several devices in one session: placement, partitions joined by _Send/_Recv, run
metadata (step stats, partition graphs), the device list, and session configuration."""
import numpy as np
import pytest

import runnel as tf


def three_cpus():
    return tf.ConfigProto(device_count={"CPU": 3}, allow_soft_placement=False)


def pinned_graph():
    """y = relu(x @ w) + b on three devices, as a user pins it."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        with tf.device("/cpu:1"):
            w = tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3) / 10, name="w")
            h = tf.nn.relu(tf.matmul(x, w), name="h")
        with tf.device("/cpu:2"):
            b = tf.constant([1.0, -2.0, 3.0], name="b")
            s = tf.add(h, b, name="s")
        with tf.device("/device:CPU:0"):
            y = tf.reduce_sum(s * s, axis=1, name="y")
    return g, x, y


def test_three_devices_compute_what_one_does_and_say_how():
    g, x, y = pinned_graph()
    feed = {x: np.random.default_rng(0).uniform(-1, 1, (5, 4)).astype(np.float32)}
    with tf.Session(graph=g, config=tf.ConfigProto(device_count={"CPU": 1},
                                                   allow_soft_placement=True)) as one:
        expected = one.run(y, feed)
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE, output_partition_graphs=True)
    metadata = tf.RunMetadata()
    with tf.Session(graph=g, config=three_cpus()) as sess:
        got = sess.run(y, feed, options=options, run_metadata=metadata)
        devices = sess.list_devices()
    w = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    s = np.maximum(feed[x] @ w, 0) + [1.0, -2.0, 3.0]
    np.testing.assert_allclose(got, (s * s).sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(got, expected, rtol=1e-6)

    assert [d.name for d in devices] == [
        f"/job:localhost/replica:0/task:0/device:CPU:{i}" for i in range(3)]
    assert all(d.device_type == "CPU" and d.memory_limit_bytes > 0 for d in devices)
    assert len({d.incarnation for d in devices}) == 3

    assert len(metadata.partition_graphs) == 3
    ops_by_device = {}
    for graph_def in metadata.partition_graphs:
        devices_there = {n.device for n in graph_def.node}
        assert len(devices_there) == 1, devices_there
        ops_by_device[devices_there.pop()] = [n.op for n in graph_def.node]
    on = {name[-1]: ops for name, ops in ops_by_device.items()}
    assert "MatMul" in on["1"] or "_FusedMatMul" in on["1"]
    assert "_Send" in on["1"] and "_Recv" in on["2"] and "_Recv" in on["0"]
    assert "Sum" in on["0"]

    stats = {d.device[-1]: d for d in metadata.step_stats.dev_stats}
    assert set(stats) == {"0", "1", "2"}
    names = {n.node_name for d in stats.values() for n in d.node_stats}
    assert "y" in names and any(n.startswith("_recv_") for n in names)
    node_y = next(n for n in stats["0"].node_stats if n.node_name == "y")
    assert node_y.timeline_label == "y = Sum"
    assert node_y.all_start_micros > 0 and node_y.op_end_rel_nanos >= 0
    assert [d.size for d in node_y.output[0].tensor_description.shape.dim] == [5]


def test_run_metadata_is_empty_unless_asked():
    g, x, y = pinned_graph()
    metadata = tf.RunMetadata()
    with tf.Session(graph=g, config=three_cpus()) as sess:
        sess.run(y, {x: np.ones((2, 4), np.float32)}, run_metadata=metadata)
    assert not metadata.partition_graphs and not metadata.step_stats.dev_stats


def test_session_config_is_checked():
    with pytest.raises(TypeError, match="tf.ConfigProto"):
        tf.Session(config={"device_count": {"CPU": 2}})
    with pytest.raises(tf.errors.InvalidArgumentError, match="graph_optimization_level"):
        tf.Session(config=tf.ConfigProto(runnel_options={"graph_optimization_level": "7"}))
    config = tf.ConfigProto(gpu_options=tf.GPUOptions(allow_growth=True,
                                                      per_process_gpu_memory_fraction=0.5))
    tf.Session(config=config).close()  # accepted (no GPU device here to use them)
    level0 = tf.ConfigProto(graph_options=tf.GraphOptions(
        optimizer_options=tf.OptimizerOptions(opt_level=tf.OptimizerOptions.L0)))
    g = tf.Graph()
    with g.as_default():
        a = tf.add(tf.constant(1.0), tf.constant(2.0), name="a")
    metadata = tf.RunMetadata()
    with tf.Session(graph=g, config=level0) as sess:  # nothing folded: Add still runs
        sess.run(a, options=tf.RunOptions(output_partition_graphs=True), run_metadata=metadata)
    assert "AddV2" in [n.op for n in metadata.partition_graphs[0].node]
