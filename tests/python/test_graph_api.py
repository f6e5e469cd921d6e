"""The TensorFlow 1.x graph API: names, scopes, shapes, dtypes, operators, sessions."""
import collections
import os

import numpy as np
import pytest

import runnel as tf


def test_names_are_unique_and_scoped():
    a = tf.constant(1.0, name="c")
    b = tf.constant(2.0, name="c")
    with tf.name_scope("layer"):
        c = tf.add(a, b)
        with tf.name_scope("inner"):
            d = tf.multiply(c, 2.0, name="double")
    with tf.name_scope("layer"):
        e = tf.identity(d)
    assert (a.name, b.name) == ("c:0", "c_1:0")
    assert c.name == "layer/AddV2:0"
    assert d.name == "layer/inner/double:0"
    assert e.name == "layer_1/Identity:0"
    assert a.op.type == "Const" and c.op.inputs[0] is a


def test_static_shapes_come_from_cpp_inference():
    x = tf.placeholder(tf.float32, [None, 784])
    w = tf.constant(np.zeros((784, 10), np.float32))
    y = tf.matmul(x, w)
    assert y.shape.as_list() == [None, 10]
    assert y.get_shape()[1].value == 10
    r = tf.reshape(x, [-1, 28, 28, 1])
    assert r.shape.as_list() == [None, 28, 28, 1]
    assert tf.reduce_mean(y).shape.as_list() == []
    assert tf.placeholder(tf.float32).shape.ndims is None
    with pytest.raises(tf.errors.InvalidArgumentError, match="inner dimensions differ"):
        tf.matmul(x, tf.constant(np.zeros((3, 4), np.float32)))


@pytest.mark.parametrize("size", [2, 40000])  # the kernel's own copy; the graph's bytes
def test_a_fetched_constant_is_the_callers_to_change(size):
    values = np.arange(size, dtype=np.float32)
    c = tf.constant(values)
    with tf.Session() as sess:
        first = sess.run(c)
        first[0] = 100
        np.testing.assert_array_equal(sess.run(c), values)


def test_dtypes():
    assert tf.float32.name == "float32"
    assert tf.as_dtype(np.int64) == tf.int64
    assert tf.as_dtype("float") == tf.float32
    assert tf.constant(1).dtype == tf.int32
    assert tf.constant(1.5).dtype == tf.float32
    assert tf.constant(np.float64(1.5)).dtype == tf.float64
    assert tf.constant([True]).dtype == tf.bool
    assert tf.float32.is_floating and tf.int32.is_integer


def test_operators_match_numpy():
    a_val = np.array([[1.0, -2.0], [3.0, 4.5]], np.float32)
    a = tf.constant(a_val)
    b = tf.placeholder(tf.float32, [2, 2])
    b_val = np.array([[2.0, 2.0], [-1.0, 0.5]], np.float32)
    exprs = {"add": (a + b, a_val + b_val), "radd": (1 + a, 1 + a_val),
             "sub": (a - b, a_val - b_val), "rsub": (1 - a, 1 - a_val),
             "mul": (a * b, a_val * b_val), "div": (a / b, a_val / b_val),
             "rdiv": (1 / b, 1 / b_val), "floordiv": (a // b, a_val // b_val),
             "mod": (a % b, np.mod(a_val, b_val)), "pow": (abs(a) ** 2, np.abs(a_val) ** 2),
             "matmul": (a @ b, a_val @ b_val), "neg": (-a, -a_val),
             "lt": (a < b, a_val < b_val), "ge": (a >= b, a_val >= b_val),
             "np_left": (a_val + b, a_val + b_val)}
    with tf.Session() as sess:
        got = sess.run({k: v[0] for k, v in exprs.items()}, {b: b_val})
    for k, (_, want) in exprs.items():
        np.testing.assert_allclose(got[k], want, rtol=1e-6, err_msg=k)


def test_integer_true_division_casts_to_float():
    with tf.Session() as sess:
        assert sess.run(tf.constant(7) / tf.constant(2)) == 3.5
        assert sess.run(tf.constant(7) // 2) == 3


def test_getitem_slicing():
    x_val = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    x = tf.constant(x_val)
    i = tf.placeholder(tf.int32, [])
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(x[1:, ..., ::-2]), x_val[1:, ..., ::-2])
        np.testing.assert_array_equal(sess.run(x[:, tf.newaxis, 2]), x_val[:, None, 2])
        np.testing.assert_array_equal(sess.run(x[i], {i: 2}), x_val[2])


def test_fetch_structures_and_feed_by_name():
    x = tf.placeholder(tf.float32, [None], name="x")
    y = x * 2
    z = y + 1
    Pair = collections.namedtuple("Pair", ["y", "z"])
    with tf.Session() as sess:
        out = sess.run({"pair": Pair(y, z), "list": [z, (y,)], "op": z.op},
                       feed_dict={"x:0": [1, 2]})
    np.testing.assert_array_equal(out["pair"].y, [2, 4])
    np.testing.assert_array_equal(out["list"][0], [3, 5])
    assert isinstance(out["list"][1], tuple)
    assert out["op"] is None
    with tf.Session() as sess:
        assert sess.run("x:0", {x: [5.0]}).tolist() == [5.0]


def test_scalar_fetch_is_a_numpy_scalar_and_eval_works():
    c = tf.constant(3.0) * 2
    with tf.Session():
        assert c.eval() == 6.0
        assert isinstance(c.eval(), np.floating)


def test_control_dependencies_order_and_feed():
    x = tf.placeholder(tf.float32, [])
    with tf.control_dependencies([x]):
        y = tf.constant(1.0)
    assert y.op.control_inputs == [x.op]
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="must feed a value"):
            sess.run(y)
        assert sess.run(y, {x: 0.0}) == 1.0


def test_device_scope_is_recorded():
    with tf.device("/cpu:0"):
        c = tf.constant(1.0)
    assert c.op.device == "/device:CPU:0"  # TensorFlow's canonical form
    with tf.Session() as sess:
        assert sess.run(c) == 1.0


def test_device_scopes_merge_take_functions_and_clear():
    """As in TensorFlow: inner parts win and outer ones fill in; a function of the op
    chooses (a device setter); None clears the enclosing scopes."""
    with tf.device("/job:worker/task:1"):
        with tf.device("/cpu:2"):
            a = tf.constant(1.0, name="a")
        with tf.device(lambda op: "/device:CPU:1" if op.type == "VariableV2" else "/cpu:0"):
            v = tf.Variable(0.0, name="v")
            b = tf.constant(2.0, name="b")
        with tf.device(None):
            c = tf.constant(3.0, name="c")
    assert a.op.device == "/job:worker/task:1/device:CPU:2"
    assert v.op.device == "/job:worker/task:1/device:CPU:1"
    assert b.op.device == "/job:worker/task:1/device:CPU:0"
    assert c.op.device == ""
    with pytest.raises(ValueError, match="bad device spec"):
        with tf.device("/cpu:x"):
            pass


def test_colocate_with_shares_the_device_and_records_the_group():
    with tf.device("/cpu:1"):
        v = tf.Variable(1.0, name="v")
    with tf.device("/cpu:0"), tf.colocate_with(v):
        near = tf.identity(v.value(), name="near")
    assert near.op.device == v.op.device
    assert list(near.op.node_def.attr["_class"].list.s) == [b"loc:@v"]
    with pytest.raises(TypeError, match="colocate_with"):
        with tf.colocate_with("v"):
            pass


def test_collections():
    c = tf.constant(1.0)
    tf.add_to_collection("things", c)
    assert tf.get_collection("things") == [c]
    assert tf.get_default_graph().get_collection("missing") == []


def test_graph_def_round_trip_and_import():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.nn.relu(tf.matmul(x, tf.constant([[1.0], [-1.0]])), name="y")
    graph_def = tf.get_default_graph().as_graph_def()
    data = graph_def.SerializeToString()
    parsed = tf.GraphDef()
    parsed.ParseFromString(data)
    operations = tf.get_default_graph().get_operations()
    assert [n.name for n in parsed.node] == [op.name for op in operations]
    with tf.Graph().as_default() as g:
        new_x = tf.placeholder(tf.float32, [None, 2], name="input")
        y2, = tf.import_graph_def(parsed, input_map={"x": new_x}, return_elements=["y:0"],
                                  name="imported")
        assert y2.name == "imported/y:0"
        with tf.Session(graph=g) as sess:
            np.testing.assert_array_equal(sess.run(y2, {new_x: [[3, 1], [1, 3]]}), [[2], [0]])
    with tf.Graph().as_default() as g:
        tf.import_graph_def(parsed)
        assert g.get_operation_by_name("import/y").type == "Relu"


def test_import_graph_def_rejects_bad_input_map():
    tf.constant(1.0, name="a")
    graph_def = tf.get_default_graph().as_graph_def()
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="not in the graph_def"):
            tf.import_graph_def(graph_def, input_map={"nope:0": tf.constant(2.0)})


def test_write_graph_text_and_binary(tmp_path):
    tf.constant(1.0, name="a")
    text_path = tf.io.write_graph(tf.get_default_graph(), str(tmp_path), "g.pbtxt")
    bin_path = tf.train.write_graph(tf.get_default_graph().as_graph_def(), str(tmp_path), "g.pb",
                                    as_text=False)
    assert 'name: "a"' in open(text_path).read()
    parsed = tf.GraphDef()
    parsed.ParseFromString(open(bin_path, "rb").read())
    assert parsed.node[0].name == "a"
    assert sorted(os.listdir(tmp_path)) == ["g.pb", "g.pbtxt"]  # no temporary files left


def test_operation_attrs_and_generated_functions():
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    m = tf.raw_ops.mat_mul(x, x, transpose_b=True)
    assert m.op.get_attr("transpose_b") is True
    assert m.op.get_attr("T") == tf.float32
    assert x.op.get_attr("shape").as_list() == [2, 3]
    assert "MatMul(a, b, transpose_a, transpose_b" in tf.raw_ops.mat_mul.__doc__
    with pytest.raises(TypeError, match="missing required argument"):
        tf.raw_ops.mat_mul(x)


def test_raw_ops_take_tensorflow_names_and_keywords_only():
    a = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    product = tf.raw_ops.MatMul(a=a, b=a, transpose_b=True)
    relu_grad = tf.raw_ops.ReluGrad(gradients=a, features=a - 2.5)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(product), [[5.0, 11.0], [11.0, 25.0]])
        np.testing.assert_allclose(sess.run(relu_grad), [[0.0, 0.0], [3.0, 4.0]])
    with pytest.raises(TypeError, match="only keyword arguments"):
        tf.raw_ops.MatMul(a, a)


def test_no_op_runs_its_control_inputs():
    v = tf.Variable(1.0)
    with tf.control_dependencies([v.assign_add(2.0)]):
        step = tf.no_op(name="step")
    assert step.type == "NoOp" and step.name == "step"
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(step)
        assert sess.run(v) == 3.0


def test_session_config_threads():
    c = tf.reduce_sum(tf.constant(np.ones((100, 100), np.float32)))
    config = tf.ConfigProto(inter_op_parallelism_threads=1, intra_op_parallelism_threads=1)
    with tf.Session(config=config) as sess:
        assert sess.run(c) == 10000
    with pytest.raises(tf.errors.InvalidArgumentError, match="unknown session option"):
        tf.Session(config=tf.ConfigProto(runnel_options={"bogus_key": "1"}))


def test_compat_v1_is_runnel():
    assert tf.compat.v1.placeholder is tf.placeholder


def test_group_and_tuple_order_execution():
    x = tf.placeholder(tf.float32, [], name="x")
    a, b = x + 1, x * 2
    g = tf.group(a, b.op)
    assert g.type == "NoOp" and {op.name for op in g.control_inputs} == {a.op.name, b.op.name}
    ta, tb = tf.tuple([a, b])
    with tf.Session() as sess:
        assert sess.run(g, {x: 1.0}) is None
        assert sess.run([ta, tb], {x: 3.0}) == [4.0, 6.0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="must feed"):
        with tf.Session() as sess:
            sess.run(g)


def test_aligned_feeds_are_not_copied_and_misaligned_ones_are():
    x = tf.placeholder(tf.float32, [None])
    # Aligned for float32 (numpy's arrays, and a view 4 bytes in): the feed's own memory.
    whole = np.arange(16, dtype=np.float32)
    shifted = whole[1:]
    # Misaligned for float32 (1 byte in): copied into an aligned buffer.
    raw = np.zeros(4 * 16 + 1, np.uint8)
    misaligned = raw[1:].view(np.float32)
    misaligned[:] = np.arange(16)
    assert misaligned.ctypes.data % 4 != 0
    with tf.Session() as sess:
        for feed in (whole, shifted):  # fetching the feed returns its own memory
            out = sess.run(x, {x: feed})
            assert out.ctypes.data == feed.ctypes.data
            np.testing.assert_array_equal(out, feed)
        out = sess.run(x, {x: misaligned})
        assert out.ctypes.data != misaligned.ctypes.data and out.ctypes.data % 64 == 0
        np.testing.assert_array_equal(out, misaligned)


def test_generated_function_names_follow_tensorflow():
    from runnel.framework.op_def_library import camel_to_snake
    names = {"MatMul": "mat_mul", "Conv2D": "conv2d", "L2Loss": "l2_loss",
             "BatchMatMulV2": "batch_mat_mul_v2", "ApplyRMSProp": "apply_rms_prop",
             "DepthwiseConv2dNative": "depthwise_conv2d_native", "Relu6": "relu6"}
    assert {k: camel_to_snake(k) for k in names} == names


def test_interactive_session_is_the_default_until_closed():
    c = tf.constant(2.0) * 3
    sess = tf.InteractiveSession()
    assert tf.get_default_session() is sess and c.eval() == 6.0
    sess.close()
    assert tf.get_default_session() is None


PUBLIC_MODULES = [
    "config.threading", "image", "initializers", "io", "layers", "losses", "math", "nn",
    "nn.rnn_cell", "test", "train"]


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_public_modules_hold_exactly_the_declared_names(module):
    """A public module fills itself from the names that functions and ops declare
    (`@tf_export`, C++ `.Endpoints`): nothing listed by hand, no helper or import leaking in,
    and every declared name there."""
    from runnel.ops import exports
    declared = {endpoint.rpartition(".")[2] for endpoint in exports.endpoints()
                if endpoint.rpartition(".")[0] == module}
    namespace = tf
    for part in module.split("."):
        namespace = getattr(namespace, part)
    public = {name for name, value in vars(namespace).items()
              if not name.startswith("_") and not isinstance(value, type(os))}
    assert public == declared


def test_top_level_holds_the_declared_names_values_and_modules():
    from runnel.ops import exports
    declared = {endpoint for endpoint in exports.endpoints() if "." not in endpoint}
    public = {name for name, value in vars(tf).items()
              if not name.startswith("_") and not isinstance(value, type(os))}
    values = {"AUTO_REUSE", "GraphDef", "NodeDef", "newaxis"} | {
        name for name, value in vars(tf).items() if isinstance(value, tf.DType)}
    assert public - values == declared
    assert {"Session", "constant", "read_file", "no_op", "matmul"} <= declared
