"""tf.while_loop: loops run in the executor's frames (Enter, Merge, LoopCond, Switch,
NextIteration, Exit) and give what the same Python loop gives: counts, loop variables fed
and carried, invariants used in every iteration, nested loops, zero iterations, many
iterations with one or many at once, maximum_iterations, a tf.cond inside a loop and a
loop inside a tf.cond's untaken branch; the graph exports and imports with its cycles."""
import numpy as np
import pytest

import runnel as tf
from numeric_gradient import numeric_gradient


def test_while_loop_counts_like_python():
    i = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [tf.constant(0)])
    with tf.Session() as sess:
        assert sess.run(i) == 10


def test_loop_variables_and_an_outside_tensor_match_numpy():
    x = tf.placeholder(tf.float32, [3])
    n = tf.placeholder(tf.int32, [])

    def body(k, total, power):
        return k + 1, total + x * tf.cast(k, tf.float32), power * x

    k, total, power = tf.while_loop(lambda k, total, power: k < n, body,
                                    [tf.constant(0), tf.zeros([3]), tf.ones([3])])
    values = np.array([0.5, -1.0, 2.0], np.float32)
    with tf.Session() as sess:
        for count in (0, 1, 7):
            got = sess.run([k, total, power], {x: values, n: count})
            assert got[0] == count
            np.testing.assert_allclose(got[1], values * sum(range(count)), rtol=1e-6)
            np.testing.assert_allclose(got[2], values ** count, rtol=1e-6)


def test_nested_loops_match_python():
    def outer_body(a, total):
        _, inner = tf.while_loop(lambda b, s: b < a, lambda b, s: (b + 1, s + b * a), [0, 0])
        return a + 1, total + inner

    _, total = tf.while_loop(lambda a, t: a < 7, outer_body, [tf.constant(0), tf.constant(0)])
    expected = sum(b * a for a in range(7) for b in range(a))
    with tf.Session() as sess:
        assert sess.run(total) == expected


@pytest.mark.parametrize("parallel_iterations", [1, 2, 10])
def test_many_iterations_one_or_several_at_once(parallel_iterations):
    # Each iteration's work does not depend on the previous one's (a constant times the
    # counter), so several iterations can run side by side; the sums must not change.
    w = tf.constant(np.arange(16, dtype=np.float32).reshape(4, 4))

    def body(i, acc):
        step = tf.reduce_sum(tf.matmul(w, w) * tf.cast(i, tf.float32))
        return i + 1, acc + step

    _, acc = tf.while_loop(lambda i, acc: i < 500, body, [tf.constant(0), tf.constant(0.0)],
                           parallel_iterations=parallel_iterations)
    expected = float((np.arange(16).reshape(4, 4) @ np.arange(16).reshape(4, 4)).sum()) * \
        sum(range(500))
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(acc), expected, rtol=1e-4)  # float32 sums


def test_maximum_iterations_stops_the_loop():
    i = tf.while_loop(lambda i: i < 100, lambda i: i + 3, [tf.constant(1)],
                      maximum_iterations=5)
    j = tf.while_loop(lambda i: i < 7, lambda i: i + 3, [tf.constant(1)],
                      maximum_iterations=5)
    with tf.Session() as sess:
        assert sess.run([i, j]) == [16, 7]


def test_a_cond_inside_the_loop_takes_one_branch_per_iteration():
    counter = tf.Variable(0)

    def body(i, acc):
        def even():
            with tf.control_dependencies([tf.assign_add(counter, 1)]):
                return acc + i

        value = tf.cond(tf.equal(i % 2, 0), even, lambda: acc - 1)
        return i + 1, value

    _, acc = tf.while_loop(lambda i, acc: i < 9, body, [tf.constant(0), tf.constant(0)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(acc) == sum(i if i % 2 == 0 else -1 for i in range(9))
        assert sess.run(counter) == 5  # the even branch ran in 5 of the 9 iterations


def test_a_loop_in_the_untaken_branch_does_not_run():
    p = tf.placeholder(tf.bool, [])
    counter = tf.Variable(0)

    def looping():
        def body(i):
            with tf.control_dependencies([tf.assign_add(counter, 1)]):
                return i + 1
        return tf.while_loop(lambda i: i < 4, body, [tf.constant(0)])

    y = tf.cond(p, looping, lambda: tf.constant(-1))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(y, {p: False}) == -1 and sess.run(counter) == 0
        assert sess.run(y, {p: True}) == 4 and sess.run(counter) == 4


def test_structures_and_a_single_variable_come_back_as_given():
    pair = tf.while_loop(lambda v: v["n"] < 3, lambda v: {"n": v["n"] + 1, "x": v["x"] * 2.0},
                         {"n": tf.constant(0), "x": tf.constant(1.0)})
    single = tf.while_loop(lambda v: v < 5.0, lambda v: v + 1.0, [tf.constant(0.5)])
    with tf.Session() as sess:
        assert sess.run(pair) == {"n": 3, "x": 8.0}
        assert sess.run(single) == 5.5


def test_a_shape_change_needs_a_shape_invariant():
    with pytest.raises(ValueError, match="shape_invariants"):
        tf.while_loop(lambda x: tf.size(x) < 8, lambda x: tf.concat([x, x], 0),
                      [tf.constant([1.0])])
    grown = tf.while_loop(lambda x: tf.size(x) < 8, lambda x: tf.concat([x, x], 0),
                          [tf.constant([1.0])], shape_invariants=[tf.TensorShape([None])])
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(grown), np.ones(8))


def test_bad_loops_are_errors():
    with pytest.raises(TypeError, match="bool scalar"):
        tf.while_loop(lambda i: i, lambda i: i + 1, [tf.constant(0)])
    with pytest.raises(ValueError, match="structure of loop_vars"):
        tf.while_loop(lambda i, j: i < 3, lambda i, j: i + 1, [tf.constant(0), tf.constant(1)])


def test_a_loop_graph_exports_and_imports_with_its_back_edges():
    x = tf.placeholder(tf.float32, [], name="x")
    _, y = tf.while_loop(lambda i, v: i < 6, lambda i, v: (i + 1, v * x), [0, tf.constant(1.0)])
    graph_def = tf.get_default_graph().as_graph_def()
    merges = [n for n in graph_def.node if n.op == "Merge"]
    assert merges and all(any("NextIteration" in i for i in n.input) for n in merges)
    with tf.Graph().as_default():
        y2, = tf.import_graph_def(graph_def, return_elements=[y.name], name="copy")
        with tf.Session() as sess:
            assert sess.run(y2, {"copy/x:0": 2.0}) == 64.0


def test_gradients_through_a_loop_match_finite_differences():
    """The carried variable's gradient goes back through every iteration; the invariant's
    adds up over them; zero iterations pass the gradient straight through."""
    x = tf.placeholder(tf.float64, [3])
    w = tf.placeholder(tf.float64, [3])
    n = tf.placeholder(tf.int32, [])
    _, out = tf.while_loop(lambda i, v: i < n,
                           lambda i, v: (i + 1, tf.tanh(v) * w + v * v * 0.1), [0, x])
    loss = tf.reduce_sum(out * out)
    grads = tf.gradients(loss, [x, w])
    feed = {x: np.array([0.3, -0.5, 1.0]), w: np.array([0.9, 1.1, 0.7])}
    with tf.Session() as sess:
        for count in (0, 1, 5):
            feed[n] = count
            got = sess.run(grads, feed)
            np.testing.assert_allclose(got[0], numeric_gradient(sess, loss, feed, x), atol=1e-7)
            np.testing.assert_allclose(got[1], numeric_gradient(sess, loss, feed, w), atol=1e-7)
    assert count == 5 and np.abs(got[1]).max() > 0.1


def test_gradients_through_nested_loops_and_maximum_iterations():
    x = tf.placeholder(tf.float64, [2])
    w = tf.placeholder(tf.float64, [2])

    def outer(a, v):
        _, inner = tf.while_loop(lambda b, u: b < a,
                                 lambda b, u: (b + 1, tf.tanh(u * w + 0.1)), [0, v])
        return a + 1, inner * x

    _, nested = tf.while_loop(lambda a, v: a < 3, outer, [0, x])
    capped = tf.while_loop(lambda v: tf.reduce_sum(v) < 100.0, lambda v: v * 1.5 + w * v, [x],
                           maximum_iterations=4)
    feed = {x: np.array([0.4, -0.7]), w: np.array([0.8, 1.3])}
    with tf.Session() as sess:
        for loss in (tf.reduce_sum(nested * nested), tf.reduce_sum(capped)):
            got = sess.run(tf.gradients(loss, [x, w]), feed)
            np.testing.assert_allclose(got[0], numeric_gradient(sess, loss, feed, x), atol=1e-6)
            np.testing.assert_allclose(got[1], numeric_gradient(sess, loss, feed, w), atol=1e-6)


def test_gradients_of_scan_and_map_fn_read_back_their_tensor_arrays():
    x = tf.placeholder(tf.float64, [3, 2])
    w = tf.placeholder(tf.float64, [2])
    scanned = tf.scan(lambda acc, row: acc * row + tf.tanh(row * w), x,
                      initializer=tf.ones([2], tf.float64))
    mapped = tf.map_fn(lambda row: tf.reduce_sum(tf.tanh(row) * w), x)
    feed = {x: np.array([[0.4, -0.7], [0.8, 1.3], [-0.2, 0.5]]), w: np.array([0.3, -1.1])}
    with tf.Session() as sess:
        for loss in (tf.reduce_sum(scanned * scanned), tf.reduce_sum(tf.exp(mapped))):
            got = sess.run(tf.gradients(loss, [x, w]), feed)
            np.testing.assert_allclose(got[0], numeric_gradient(sess, loss, feed, x), atol=1e-6)
            np.testing.assert_allclose(got[1], numeric_gradient(sess, loss, feed, w), atol=1e-6)


def test_gradients_through_a_cond_inside_a_loop_match_finite_differences():
    """A branch's values are pushed only in the iterations that take it and popped only in
    the matching backward iterations (the pops wait for the branch's gradient)."""
    x = tf.placeholder(tf.float64, [2])
    w = tf.placeholder(tf.float64, [2])

    def body(i, v):
        return i + 1, tf.cond(i < 2, lambda: tf.tanh(v * w) * 2.0, lambda: v * v + w)

    _, out = tf.while_loop(lambda i, v: i < 5, body, [0, x])
    loss = tf.reduce_sum(out * out)
    grads = tf.gradients(loss, [x, w])
    feed = {x: np.array([0.3, -0.4]), w: np.array([0.7, 1.2])}
    with tf.Session() as sess:
        got = sess.run(grads, feed)
        np.testing.assert_allclose(got[0], numeric_gradient(sess, loss, feed, x), rtol=1e-6)
        np.testing.assert_allclose(got[1], numeric_gradient(sess, loss, feed, w), rtol=1e-6)


def test_a_second_derivative_through_a_loop_is_refused_not_wrong():
    """The first gradient's backward loop reads forward values from stacks, which no graph
    edge shows; differentiating it again would silently miss that path."""
    x = tf.placeholder(tf.float64, [])
    _, y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * x),
                         [0, tf.constant(1.0, tf.float64)])
    first = tf.gradients(y, x)[0]
    with tf.Session() as sess:
        assert sess.run(first, {x: 2.0}) == 12.0  # d(x^3)/dx
    with pytest.raises(tf.errors.UnimplementedError, match="second derivative through a loop"):
        tf.gradients(first, x)


def test_a_loop_split_across_devices_gives_what_one_device_gives():
    """Ops of a loop's body (and of a loop nested in it) on another device than the loop's
    own: each device runs a control loop of the frame, the condition sent to it each
    iteration, and the values cross with keys naming the iteration. Gradients too."""
    config = tf.ConfigProto(device_count={"CPU": 2})
    x = tf.placeholder(tf.float32, [3])
    limit = tf.placeholder(tf.int32, [])

    def body(i, v):
        with tf.device("/cpu:1"):
            v = tf.tanh(v) + 1.0

        def inner(j, u):
            with tf.device("/cpu:1"):
                u = u * 0.5
            return j + 1, u

        _, v = tf.while_loop(lambda j, u: j < 2, inner, [0, v])
        v = tf.cond(i < 1, lambda: v, lambda: v * 2.0)
        return i + 1, v

    _, out = tf.while_loop(lambda i, v: i < limit, body, [0, x * 2.0], parallel_iterations=4)
    total = tf.reduce_sum(out)
    grad = tf.gradients(total, x)[0]
    options = tf.RunOptions(output_partition_graphs=True)
    value = np.array([0.1, -0.4, 0.9], np.float32)
    for steps in (0, 1, 3):
        metadata = tf.RunMetadata()
        with tf.Session(config=config) as sess:
            got, got_grad = sess.run([total, grad], {x: value, limit: steps}, options=options,
                                     run_metadata=metadata)
        v, dv = 2 * value.astype(np.float64), np.full(3, 2.0)
        for i in range(steps):
            scale = 0.25 if i < 1 else 0.5
            dv = dv * (1 - np.tanh(v) ** 2) * scale
            v = (np.tanh(v) + 1) * scale
        np.testing.assert_allclose(got, v.sum(), rtol=1e-5)
        np.testing.assert_allclose(got_grad, dv, rtol=1e-5)
    on = {}
    for graph_def in metadata.partition_graphs:
        for n in graph_def.node:
            on.setdefault(n.device[-1], []).append(n)
    assert any(n.op == "Tanh" for n in on["1"]) and any(n.op == "LoopCond" for n in on["0"])
    assert any(n.op == "Enter" and n.name.startswith("_cloop_") for n in on["1"])


def test_back_prop_false_stops_gradients_at_the_loop():
    x = tf.placeholder(tf.float64, [])
    _, kept = tf.while_loop(lambda i, v: i < 2, lambda i, v: (i + 1, v * x), [0, x])
    _, stopped = tf.while_loop(lambda i, v: i < 2, lambda i, v: (i + 1, v * x), [0, x],
                               back_prop=False)
    capped = tf.while_loop(lambda v: v < 100.0, lambda v: v * x, [x], maximum_iterations=2,
                           back_prop=False)
    assert tf.gradients(stopped, x) == [None] and tf.gradients(capped, x) == [None]
    with tf.Session() as sess:
        assert sess.run(tf.gradients(kept, x)[0], {x: 2.0}) == 12.0  # d(x^3)/dx
        assert sess.run(stopped, {x: 2.0}) == 8.0
