"""Bad input gets a clear, typed error naming what is wrong, never a crash."""
import numpy as np
import pytest

import runnel as tf
from runnel.proto import graph_pb2


def valid_graph_bytes():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        tf.nn.relu(tf.matmul(x, tf.constant(np.ones((4, 4), np.float32))), name="y")
    return g.as_graph_def().SerializeToString()


@pytest.mark.parametrize("data", [b"\xff\xff\xff\xff\x0fgarbage", b"\x0a\x05ab"])
def test_garbage_or_truncated_bytes(data):
    with pytest.raises(tf.errors.InvalidArgumentError, match="could not parse GraphDef"):
        tf.get_default_graph()._c_graph.extend(data)


def test_truncated_real_graph_is_rejected():
    data = valid_graph_bytes()
    graph_def = tf.GraphDef()
    with pytest.raises(Exception):
        graph_def.ParseFromString(data[: len(data) // 2])
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.get_default_graph()._c_graph.extend(data[: len(data) // 2])


def node(name, op, inputs=(), **attrs):
    n = graph_pb2.GraphDef().node.add()
    n.name, n.op = name, op
    n.input.extend(inputs)
    return n


def graph_of(*nodes):
    g = graph_pb2.GraphDef()
    for n in nodes:
        g.node.add().CopyFrom(n)
    return g


def test_unknown_op_suggests_nearest():
    with pytest.raises(tf.errors.NotFoundError, match=r"unknown op 'Reul'; did you mean 'Relu'\?"):
        tf.import_graph_def(graph_of(node("r", "Reul")))


def test_missing_input_names_node():
    with pytest.raises(ValueError, match="node 'r' has input 'nowhere'"):
        tf.import_graph_def(graph_of(node("r", "Relu", ["nowhere"])))
    c = tf.get_default_graph()._c_graph
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"names node 'nowhere'.*\[\[node r"):
        c.extend(graph_of(node("r", "Relu", ["nowhere"])).SerializeToString())


def test_cycle_is_reported():
    a = node("a", "Identity", ["b"])
    a.attr["T"].type = 1
    b = node("b", "Identity", ["a"])
    b.attr["T"].type = 1
    with pytest.raises(tf.errors.InvalidArgumentError, match="cycle"):
        tf.import_graph_def(graph_of(a, b))


def test_feed_of_wrong_dtype_names_placeholder():
    x = tf.placeholder(tf.int32, [2], name="ints")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="ints:0.*int32.*do not all fit"):
            sess.run(x + 1, {x: np.array([1.5, 2.5])})
        assert sess.run(x + 1, {x: np.array([1.0, 2.0])}).tolist() == [2, 3]
        with pytest.raises(tf.errors.InvalidArgumentError, match="dtype"):
            sess.run(x + 1, {x: ["a", "b"]})


def test_feed_of_incompatible_shape_names_placeholder():
    x = tf.placeholder(tf.float32, [None, 784], name="images")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"has shape \[3,5\], but 'images' has shape \[\?,784\]"):
            sess.run(x * 2, {x: np.zeros((3, 5))})


def test_fetch_of_missing_tensor():
    # TensorFlow raises ValueError for fetches it cannot interpret.
    with tf.Session() as sess:
        with pytest.raises(ValueError, match="'nope:0' cannot be interpreted.*no operation named"):
            sess.run("nope:0")
    tf.constant(1.0, name="c")
    with tf.Session() as sess:
        with pytest.raises(ValueError, match="only 1 outputs"):
            sess.run("c:3")


def test_matmul_mismatch_at_run_time_names_node_and_shapes():
    a = tf.placeholder(tf.float32, name="a")
    b = tf.placeholder(tf.float32, name="b")
    with tf.name_scope("dense_1"):
        y = tf.matmul(a, b)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"a is \[32,784\], b is \[512,10\].*\[\[node dense_1/MatMul"):
            sess.run(y, {a: np.zeros((32, 784)), b: np.zeros((512, 10))})


def test_attr_of_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="attr 'transpose_a'"):
        tf.raw_ops.mat_mul(tf.constant([[1.0]]), tf.constant([[1.0]]), transpose_a="yes please")


def test_error_classes_carry_codes():
    assert issubclass(tf.errors.NotFoundError, tf.errors.OpError)
    assert tf.errors.InvalidArgumentError("msg").error_code == tf.errors.INVALID_ARGUMENT
    assert str(tf.errors.InternalError(None, None, "boom")) == "boom"


def test_shapes_claiming_more_elements_than_an_int64_counts_are_errors_not_overflows():
    """Found by tools/fuzz/model_fuzzer (signed overflows in shape functions under UBSan):
    a placeholder may declare any dims; what multiplies them must not overflow."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2**62, 3], name="x")
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="dimension 0 of size 4611686018427387904 tiled 4 times has "
                                 "more elements than an int64 counts"):
            tf.tile(x, [4, 1])
        # Reshape of such a shape: its element count is unknown, so -1 stays unknown.
        assert tf.reshape(x, [-1]).shape.as_list() == [None]
