"""Control flow: tf.cond / tf.case run only the taken branch (Switch/Merge with dead
tensors), differentiate through the branch taken, nest, carry deadness across devices, and
survive export and import; tf.where with one argument matches numpy.argwhere."""
import collections

import numpy as np
import pytest

import runnel as tf
from conftest import run


def counting_branch(counter, amount, value):
    """A branch that bumps `counter` by `amount` (so a test can tell whether it ran)."""
    def fn():
        with tf.control_dependencies([tf.assign_add(counter, amount)]):
            return tf.identity(value)
    return fn


def test_only_the_taken_branch_runs():
    x = tf.placeholder(tf.float32, [2])
    p = tf.placeholder(tf.bool, [])
    counter = tf.Variable(0)
    y = tf.cond(p, counting_branch(counter, 1, x * 2.0), counting_branch(counter, 100, x - 1.0))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(y, {x: [1, 2], p: True}), [2, 4])
        assert sess.run(counter) == 1
        np.testing.assert_allclose(sess.run(y, {x: [1, 2], p: False}), [0, 1])
        assert sess.run(counter) == 101


@pytest.mark.parametrize("taken", [True, False])
def test_gradient_flows_through_the_taken_branch_only(taken):
    x = tf.placeholder(tf.float32, [3])
    p = tf.placeholder(tf.bool, [])
    w = tf.Variable([0.5, -1.0, 2.0])
    y = tf.reduce_sum(tf.cond(p, lambda: x * w + tf.exp(x), lambda: tf.square(x) * 3.0))
    gx, gw = tf.gradients(y, [x, w])
    xv = np.array([0.3, -0.7, 1.1], np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_x, got_w = sess.run([gx, gw], {x: xv, p: taken})
    if taken:
        np.testing.assert_allclose(got_x, [0.5, -1.0, 2.0] + np.exp(xv), rtol=1e-6)
        np.testing.assert_allclose(got_w, xv, rtol=1e-6)
    else:
        np.testing.assert_allclose(got_x, 6.0 * xv, rtol=1e-6)
        np.testing.assert_allclose(got_w, [0, 0, 0])


def test_gradient_matches_finite_differences_through_nested_conds():
    x = tf.placeholder(tf.float64, [2])
    inner = lambda: tf.cond(x[0] > 0, lambda: tf.exp(x) * x[1], lambda: tf.tanh(x))  # noqa: E731
    y = tf.reduce_sum(tf.cond(tf.reduce_sum(x) > -5, inner, lambda: x * 0.0))
    (gx,) = tf.gradients(y, [x])
    with tf.Session() as sess:
        for xv in ([0.4, 1.3], [-0.4, 1.3]):
            xv = np.array(xv)
            eps = 1e-6
            numeric = [(sess.run(y, {x: xv + eps * e}) - sess.run(y, {x: xv - eps * e})) / (2 * eps)
                       for e in np.eye(2)]
            np.testing.assert_allclose(sess.run(gx, {x: xv}), numeric, rtol=1e-6, atol=1e-9)


def test_nested_cond_and_outer_tensors_in_the_inner_branch():
    x = tf.placeholder(tf.float32, [3])
    p = tf.placeholder(tf.bool, [])
    offset = tf.constant(100.0)
    y = tf.cond(p, lambda: tf.cond(x[0] > 0, lambda: x + offset, lambda: x - offset), lambda: x)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {x: [1, 2, 3], p: True}), [101, 102, 103])
        np.testing.assert_allclose(sess.run(y, {x: [-1, 2, 3], p: True}), [-101, -98, -97])
        np.testing.assert_allclose(sess.run(y, {x: [-1, 2, 3], p: False}), [-1, 2, 3])


def test_branches_returning_structures_constants_and_ops():
    p = tf.placeholder(tf.bool, [])
    Pair = collections.namedtuple("Pair", "a b")
    pair = tf.cond(p, lambda: Pair(tf.constant(1), tf.constant([1.0, 2.0])),
                   lambda: Pair(tf.constant(2), tf.constant([3.0, 4.0])))
    d = tf.cond(p, lambda: {"k": 1.5}, lambda: {"k": 2.5})
    single = tf.cond(p, lambda: [tf.constant(7)], lambda: [tf.constant(8)])
    counter = tf.Variable(0)
    op = tf.cond(p, lambda: tf.assign_add(counter, 1).op, lambda: tf.group(tf.assign_add(counter, 10)))
    assert isinstance(pair, Pair) and isinstance(op, tf.Operation)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b, k, s = sess.run([pair.a, pair.b, d["k"], single], {p: False})
        assert a == 2 and list(b) == [3, 4] and k == 2.5 and s == 8
        assert sess.run(pair.a, {p: True}) == 1
        sess.run(op, {p: True})
        sess.run(op, {p: False})
        assert sess.run(counter) == 11


def test_python_bool_predicate_builds_only_one_branch():
    assert run(tf.cond(True, lambda: tf.constant(1), lambda: tf.constant(2))) == 1
    assert not [op for op in tf.get_default_graph().get_operations() if op.type == "Switch"]


def test_case_picks_the_first_true_predicate():
    x = tf.placeholder(tf.float32, [])
    z = tf.case([(x > 10, lambda: tf.constant(1)), (x > 5, lambda: tf.constant(2))],
                default=lambda: tf.constant(3))
    no_default = tf.case([(x > 10, lambda: tf.constant(1)), (x > 5, lambda: tf.constant(2))])
    with tf.Session() as sess:
        assert [sess.run(z, {x: v}) for v in (20, 7, 0)] == [1, 2, 3]
        assert [sess.run(no_default, {x: v}) for v in (20, 7, 0)] == [1, 2, 2]


def test_fetching_a_tensor_of_the_untaken_branch_is_an_error():
    x = tf.placeholder(tf.float32, [])
    p = tf.placeholder(tf.bool, [])
    inside = []

    def true_fn():
        inside.append(tf.square(x, name="in_branch"))
        return inside[0]
    y = tf.cond(p, true_fn, lambda: x)
    with tf.Session() as sess:
        assert sess.run(inside[0], {x: 3.0, p: True}) == 9.0
        assert sess.run(y, {x: 3.0, p: False}) == 3.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="in_branch.*untaken side"):
            sess.run(inside[0], {x: 3.0, p: False})


@pytest.mark.parametrize("build, error, message", [
    (lambda p: tf.cond(p, lambda: tf.constant(1), lambda: (tf.constant(1), tf.constant(2))),
     ValueError, "same structure"),
    (lambda p: tf.cond(p, lambda: tf.constant(1), lambda: tf.constant(1.0)), TypeError,
     "different dtypes"),
    (lambda p: tf.cond(tf.constant(1), lambda: 1, lambda: 2), TypeError, "bool"),
    (lambda p: tf.cond(tf.constant([True]), lambda: 1, lambda: 2), ValueError, "scalar"),
    (lambda p: tf.cond(p, 1, 2), TypeError, "callable"),
    (lambda p: tf.cond(p, lambda: None, lambda: None), ValueError, "None"),
])
def test_bad_cond_arguments(build, error, message):
    p = tf.placeholder(tf.bool, [])
    with pytest.raises(error, match=message):
        build(p)


def test_a_non_scalar_fed_predicate_is_an_error_naming_the_switch():
    x = tf.placeholder(tf.float32, [])
    p = tf.placeholder(tf.bool)
    y = tf.cond(p, lambda: x, lambda: x + 1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="pred must be a scalar.*Switch"):
        run(y, {x: 1.0, p: [True, False]})


def test_deadness_crosses_devices():
    x = tf.placeholder(tf.float32, [2])
    p = tf.placeholder(tf.bool, [])

    def on_cpu1(fn):
        def branch():
            with tf.device("/cpu:1"):
                return fn()
        return branch
    y = tf.cond(p, on_cpu1(lambda: x * 3.0), on_cpu1(lambda: x + 1.0))
    config = tf.ConfigProto(device_count={"CPU": 2}, allow_soft_placement=False)
    with tf.Session(config=config) as sess:
        np.testing.assert_allclose(sess.run(y, {x: [1, 2], p: True}), [3, 6])
        np.testing.assert_allclose(sess.run(y, {x: [1, 2], p: False}), [2, 3])


def test_learning_phase_graph_survives_export_and_import():
    """The shape of a Keras training graph: a learning-phase PlaceholderWithDefault switches
    dropout on; imported into a fresh graph it runs in both phases."""
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        phase = tf.placeholder_with_default(False, [], name="keras_learning_phase")
        tf.cond(phase, lambda: x * 0.0, lambda: x * 2.0, name="dropout")
        out = tf.identity(tf.get_default_graph().get_tensor_by_name("dropout/Merge:0"), name="out")
        del out
        graph_def = g.as_graph_def()
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        xv = np.ones((2, 4), np.float32)
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run("out:0", {"x:0": xv}), 2 * xv)
            np.testing.assert_allclose(
                sess.run("out:0", {"x:0": xv, "keras_learning_phase:0": True}), 0 * xv)


@pytest.mark.parametrize("values", [
    np.array([True, False, True]),
    np.array([[0.0, 1.5], [0.0, 0.0], [-2.0, 3.0]], np.float32),
    np.arange(24).reshape(2, 3, 4) % 5 == 0,
    np.zeros((0, 3), np.int32),
])
def test_where_with_one_argument_matches_numpy(values):
    x = tf.placeholder(tf.as_dtype(values.dtype), values.shape)
    w = tf.where(x)
    got = run(w, {x: values})
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.argwhere(values))
    assert w.shape.as_list() == [None, values.ndim]
