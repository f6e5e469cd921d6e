"""Several devices in one session: placement, partitions joined by _Send/_Recv, run
metadata (step stats, partition graphs), the device list, and session configuration."""
import os

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


FASHION = "/usr/share/datasets/fashion-mnist"


def mlp_loss_curve(config, variables_on, compute_on, steps=15):
    """Losses of a 784-64-10 MLP trained with momentum on 256 Fashion-MNIST images."""
    (x_train, y_train), _ = tf.datasets.fashion_mnist.load_data()
    images = x_train[:256].reshape(256, 784).astype(np.float32) / 255.0
    labels = y_train[:256].astype(np.int64)
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(7)
        x = tf.placeholder(tf.float32, [None, 784])
        y = tf.placeholder(tf.int64, [None])
        with tf.device(variables_on):
            w1 = tf.Variable(tf.random_normal([784, 64], stddev=0.05, seed=1))
            b1 = tf.Variable(tf.zeros([64]))
            w2 = tf.Variable(tf.random_normal([64, 10], stddev=0.05, seed=2))
            b2 = tf.Variable(tf.zeros([10]))
        with tf.device(compute_on):
            h = tf.nn.relu(tf.matmul(x, w1) + b1)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=y, logits=tf.matmul(h, w2) + b2))
            optimizer = tf.train.MomentumOptimizer(0.1, 0.9)
            train = optimizer.minimize(loss)
        init = tf.global_variables_initializer()
    metadata = tf.RunMetadata()
    with tf.Session(graph=g, config=config) as sess:
        sess.run(init)
        losses = [sess.run([loss, train], {x: images, y: labels})[0] for _ in range(steps)]
        sess.run(train, {x: images, y: labels},
                 options=tf.RunOptions(output_partition_graphs=True), run_metadata=metadata)
    placed = {n.name: n.device for p in metadata.partition_graphs for n in p.node}
    return np.array(losses), placed, optimizer.get_slot(w1, "momentum").op.name


@pytest.mark.skipif(not os.path.isdir(FASHION), reason="Debian's dataset-fashion-mnist is not "
                    "installed (tools/install_deps.sh installs it)")
def test_mlp_with_variables_on_another_device_trains_the_same():
    one, _, _ = mlp_loss_curve(tf.ConfigProto(device_count={"CPU": 1},
                                              allow_soft_placement=True), "", "")
    two, placed, slot = mlp_loss_curve(tf.ConfigProto(device_count={"CPU": 2}),
                                       "/cpu:1", "/cpu:0")
    assert one[-1] < 0.7 * one[0]  # it learns
    np.testing.assert_allclose(two, one, rtol=1e-5)
    assert placed["Variable"].endswith("CPU:1")
    assert placed[slot].endswith("CPU:1")  # the optimizer's slot sits with its variable
    assert any(name.endswith("ApplyMomentum") and device.endswith("CPU:1")
               for name, device in placed.items())
    assert placed["SparseSoftmaxCrossEntropyWithLogits"].endswith("CPU:0")


def test_soft_placement_moves_a_gpu_graph_to_the_cpu_and_says_so(capfd):
    g = tf.Graph()
    with g.as_default(), tf.device("/gpu:0"):
        v = tf.Variable([1.0, 2.0], name="v")
        doubled = tf.multiply(v, 2.0, name="doubled")
    with tf.Session(graph=g, config=tf.ConfigProto(allow_soft_placement=True)) as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(doubled), [2.0, 4.0])
    err = capfd.readouterr().err
    assert "soft placement" in err and "GPU:0" in err and "CPU:0" in err
    with tf.Session(graph=g, config=tf.ConfigProto(allow_soft_placement=False)) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"requested '/device:GPU:0', which matches no device "
                                 r"\(devices: .*CPU:0\).*\[\[node "):
            sess.run(v.initializer)


def test_a_reference_reader_asking_for_another_device_follows_its_variable():
    """As in TensorFlow, an op that takes a variable's reference runs where the variable is,
    whatever its own device scope asked (replica_device_setter relies on it)."""
    g = tf.Graph()
    with g.as_default():
        with tf.device("/cpu:1"):
            v = tf.Variable(1.0, name="v")
        with tf.device("/cpu:0"):
            bump = tf.assign_add(v, 1.0, name="bump")  # takes v's reference: v's group
    with tf.Session(graph=g, config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        sess.run(v.initializer)
        metadata = tf.RunMetadata()
        assert sess.run(bump, options=tf.RunOptions(output_partition_graphs=True),
                        run_metadata=metadata) == 2.0
        devices = {n.name: n.device for p in metadata.partition_graphs for n in p.node}
        assert devices["bump"].endswith("/device:CPU:1")


def test_colocated_nodes_asking_for_different_devices_is_an_error():
    g = tf.Graph()
    with g.as_default():
        with tf.device("/cpu:1"):
            tf.constant(1.0, name="a")
        graph_def = g.as_graph_def()
    b = graph_def.node.add(name="b", op="Identity", input=["a"], device="/cpu:0")
    b.attr["T"].type = graph_def.node[0].attr["dtype"].type
    b.attr["_class"].list.s.append(b"loc:@a")
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(graph_def, name="")
    with tf.Session(graph=g, config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="cannot colocate '(b|a)'.*with '(a|b)'.*different devices"):
            sess.run("b:0")


def test_a_variable_keeps_its_device_across_signatures():
    """Placed once, a variable stays: an update op added later, asking for another device,
    runs where the variable already lives (and sees its value) instead of moving it."""
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(1.0, name="v")
    options = tf.RunOptions(output_partition_graphs=True)
    first, second = tf.RunMetadata(), tf.RunMetadata()
    with tf.Session(graph=g, config=tf.ConfigProto(device_count={"CPU": 2},
                                                   allow_soft_placement=True)) as sess:
        sess.run(v.initializer, options=options, run_metadata=first)
        with g.as_default(), tf.device("/cpu:1"):
            bump = tf.assign_add(v, 1.0, name="bump")
        assert sess.run(bump, options=options, run_metadata=second) == 2.0

    def device_of(metadata, name):
        return next(n.device for p in metadata.partition_graphs for n in p.node if n.name == name)
    assert device_of(first, "v") == device_of(second, "v") == device_of(second, "bump")
    assert device_of(first, "v").endswith("CPU:0")
