"""tf.graph_util: a trained graph frozen with convert_variables_to_constants gives the same
outputs without its variables, in a fresh graph and session; extract_sub_graph and
remove_training_nodes trim what they should."""
import subprocess
import sys

import numpy as np
import pytest

import runnel as tf

RNG = np.random.default_rng(0)


def trained_model():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        y = tf.placeholder(tf.float32, [None, 2], name="y")
        h = tf.layers.dense(x, 8, activation=tf.nn.relu)
        out = tf.identity(tf.layers.dense(h, 2), name="out")
        loss = tf.reduce_mean(tf.square(out - y))
        train = tf.train.AdamOptimizer(0.05).minimize(loss)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=g)
    sess.run(init)
    xs, ys = RNG.random((32, 4), np.float32), RNG.random((32, 2), np.float32)
    for _ in range(20):
        sess.run(train, {x: xs, y: ys})
    return g, sess, xs


def test_frozen_graph_runs_without_variables_and_matches():
    g, sess, xs = trained_model()
    expected = sess.run("out:0", {"x:0": xs})
    frozen = tf.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["out"])
    ops = {node.op for node in frozen.node}
    assert "VariableV2" not in ops and "Assign" not in ops and "ApplyAdam" not in ops
    assert {node.name for node in frozen.node if node.op == "Const"} >= {
        "dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"}
    data = frozen.SerializeToString()
    restored = tf.GraphDef()
    restored.ParseFromString(data)
    with tf.Graph().as_default() as fresh:
        tf.import_graph_def(restored, name="")
    with tf.Session(graph=fresh) as new_sess:
        np.testing.assert_array_equal(new_sess.run("out:0", {"x:0": xs}), expected)


def test_whitelist_and_blacklist_choose_the_variables():
    g, sess, _ = trained_model()
    graph_def = g.as_graph_def()
    only = tf.graph_util.convert_variables_to_constants(
        sess, graph_def, ["out"], variable_names_whitelist=["dense/kernel"])
    assert {n.name for n in only.node if n.op == "Const"} & {
        "dense/kernel", "dense/bias"} == {"dense/kernel"}
    but = tf.graph_util.convert_variables_to_constants(
        sess, graph_def, ["out"], variable_names_blacklist=["dense/kernel"])
    assert [n.op for n in but.node if n.name == "dense/kernel"] == ["VariableV2"]


def test_extract_sub_graph_keeps_what_the_outputs_need():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(1.0, name="a")
        b = tf.constant(2.0, name="b")
        with tf.control_dependencies([b]):
            tf.identity(a, name="c")
        tf.add(a, 3.0, name="unused")
    sub = tf.graph_util.extract_sub_graph(g.as_graph_def(), ["c"])
    assert [n.name for n in sub.node] == ["a", "b", "c"]
    with pytest.raises(AssertionError, match="nope is not in graph"):
        tf.graph_util.extract_sub_graph(g.as_graph_def(), ["nope"])
    with pytest.raises(TypeError):
        tf.graph_util.extract_sub_graph(g.as_graph_def(), "c")


def test_remove_training_nodes_rewires_around_identities():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        i1 = tf.identity(x, name="i1")
        i2 = tf.identity(i1, name="i2")
        tf.multiply(i2, 2.0, name="y")
        tf.identity(x, name="kept")
    trimmed = tf.graph_util.remove_training_nodes(g.as_graph_def(), protected_nodes=["kept"])
    names = {n.name: n for n in trimmed.node}
    assert "i1" not in names and "i2" not in names and "kept" in names
    assert list(names["y"].input)[0] == "x"
    with tf.Graph().as_default() as fresh:
        tf.import_graph_def(trimmed, name="")
    with tf.Session(graph=fresh) as sess:
        np.testing.assert_array_equal(sess.run("y:0", {"x:0": [1.0, 2.0]}), [2.0, 4.0])


def test_tensor_shape_from_node_def_name():
    g = tf.Graph()
    with g.as_default():
        tf.placeholder(tf.float32, [None, 3], name="x")
    assert tf.graph_util.tensor_shape_from_node_def_name(g, "x").as_list() == [None, 3]
    assert tf.graph_util.tensor_shape_from_node_def_name(g, "x:0").as_list() == [None, 3]


def freeze_cli(*args):
    return subprocess.run([sys.executable, "-m", "runnel.tools.freeze_graph", *map(str, args)],
                          capture_output=True, text=True)


@pytest.mark.parametrize("binary", [False, True])
def test_freeze_graph_tool_from_graph_and_checkpoint(tmp_path, binary):
    g, sess, xs = trained_model()
    expected = sess.run("out:0", {"x:0": xs})
    with g.as_default():
        prefix = tf.train.Saver().save(sess, str(tmp_path / "ckpt" / "model"))
    graph_file = tf.io.write_graph(g.as_graph_def(), str(tmp_path),
                                   "graph.pb" if binary else "graph.pbtxt", as_text=not binary)
    out = tmp_path / "frozen.pb"
    args = ["--input_graph", graph_file, "--input_checkpoint", prefix,
            "--output_node_names", "out", "--output_graph", out]
    result = freeze_cli(*args, *(["--input_binary"] if binary else []))
    assert result.returncode == 0, result.stderr
    frozen = tf.GraphDef()
    frozen.ParseFromString(out.read_bytes())
    assert not {"VariableV2", "Assign"} & {n.op for n in frozen.node}
    with tf.Graph().as_default() as fresh:
        tf.import_graph_def(frozen, name="")
    with tf.Session(graph=fresh) as new_sess:
        np.testing.assert_array_equal(new_sess.run("out:0", {"x:0": xs}), expected)


def test_freeze_graph_tool_errors(tmp_path):
    g, sess, _ = trained_model()
    with g.as_default():
        prefix = tf.train.Saver(var_list=tf.global_variables()[:1]).save(
            sess, str(tmp_path / "model"))
    graph_file = tf.io.write_graph(g.as_graph_def(), str(tmp_path), "graph.pbtxt")
    out = tmp_path / "frozen.pb"
    common = ["--input_checkpoint", prefix, "--output_graph", out]
    missing_var = freeze_cli("--input_graph", graph_file, "--output_node_names", "out", *common)
    assert missing_var.returncode == 1 and "is not in checkpoint" in missing_var.stderr
    bad_node = freeze_cli("--input_graph", graph_file, "--output_node_names", "nope", *common)
    assert bad_node.returncode == 1 and "nope is not in graph" in bad_node.stderr
    binary_as_text = freeze_cli("--input_graph", graph_file, "--input_binary",
                                "--output_node_names", "out", *common)
    assert binary_as_text.returncode == 1 and "not a binary GraphDef" in binary_as_text.stderr
    assert not out.exists()  # nothing written on failure
