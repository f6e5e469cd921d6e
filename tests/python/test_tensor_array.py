"""tf.TensorArray (TensorFlow's V3 ops) against numpy, alone and filled by a while loop;
its errors (a second write, a cleared read, an index out of range, a wrong dtype or
shape); tf.map_fn, tf.scan, tf.foldl and tf.foldr against the same Python loops."""
import numpy as np
import pytest

import runnel as tf


@pytest.fixture
def rows():
    return np.random.RandomState(3).randn(5, 3).astype(np.float32)


def test_write_read_stack_size_and_gather(rows):
    ta = tf.TensorArray(tf.float32, size=5, clear_after_read=False)
    for i, row in enumerate(rows):
        ta = ta.write(i, row)
    assert ta.element_shape.as_list() == [3]
    stacked, size, third, picked = ta.stack(), ta.size(), ta.read(2), ta.gather([4, 0])
    assert stacked.shape.as_list() == [None, 3] and third.shape.as_list() == [3]
    with tf.Session() as sess:
        got = sess.run([stacked, size, third, picked])
    np.testing.assert_array_equal(got[0], rows)
    assert got[1] == 5
    np.testing.assert_array_equal(got[2], rows[2])
    np.testing.assert_array_equal(got[3], rows[[4, 0]])


def test_unstack_scatter_split_and_concat(rows):
    x = tf.placeholder(tf.float32, [None, 3])
    unstacked = tf.TensorArray(tf.float32, size=tf.shape(x)[0]).unstack(x)
    scattered = tf.TensorArray(tf.float32, size=3).scatter([2, 0], x[:2])
    split = tf.TensorArray(tf.float32, size=2, infer_shape=False, clear_after_read=False) \
        .split(x, [2, 3])
    with tf.Session() as sess:
        got = sess.run([unstacked.read(4), unstacked.size(), scattered.read(2),
                        scattered.read(0), split.read(1), split.concat()], {x: rows})
    np.testing.assert_array_equal(got[0], rows[4])
    assert got[1] == 5
    np.testing.assert_array_equal(got[2], rows[0])
    np.testing.assert_array_equal(got[3], rows[1])
    np.testing.assert_array_equal(got[4], rows[2:])
    np.testing.assert_array_equal(got[5], rows)


def test_unwritten_elements_of_a_known_shape_read_as_zeros():
    ta = tf.TensorArray(tf.float32, size=3, element_shape=[2]).write(1, [1.0, 2.0])
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(ta.stack()), [[0, 0], [1, 2], [0, 0]])


def test_a_while_loop_fills_a_dynamic_array():
    n = tf.placeholder(tf.int32, [])
    squares = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
    _, squares = tf.while_loop(lambda i, ta: i < n, lambda i, ta: (i + 1, ta.write(i, i * i)),
                               [0, squares])
    stacked = squares.stack()
    with tf.Session() as sess:
        for count in (1, 4, 9):
            np.testing.assert_array_equal(sess.run(stacked, {n: count}),
                                          np.arange(count) ** 2)


def test_a_loop_reads_one_array_and_writes_another(rows):
    x = tf.placeholder(tf.float32, [None, 3])
    steps = tf.shape(x)[0]
    inputs = tf.TensorArray(tf.float32, size=steps).unstack(x)

    def body(t, state, outputs):
        state = 0.5 * state + inputs.read(t)
        return t + 1, state, outputs.write(t, state)

    _, last, outputs = tf.while_loop(lambda t, *_: t < steps, body,
                                     [0, tf.zeros([3]), tf.TensorArray(tf.float32, steps)])
    expected, state = [], np.zeros(3, np.float32)
    for row in rows:
        state = 0.5 * state + row
        expected.append(state)
    with tf.Session() as sess:
        got_last, got_all = sess.run([last, outputs.stack()], {x: rows})
    np.testing.assert_allclose(got_all, expected, rtol=1e-6)
    np.testing.assert_allclose(got_last, expected[-1], rtol=1e-6)


def _run_error(fetch, feed=None):
    with tf.Session() as sess:
        with pytest.raises(tf.errors.OpError) as error:
            sess.run(fetch, feed)
    return str(error.value)


def test_errors_name_the_array_and_what_was_expected():
    ta = tf.TensorArray(tf.float32, size=2)
    twice = ta.write(0, 1.0).write(0, 2.0)
    assert "written" in _run_error(twice.flow)
    cleared = ta.write(0, 1.0)
    first = cleared.read(0)
    with tf.control_dependencies([first]):
        second = tf.identity(cleared.read(0))
    assert "read" in _run_error(second)
    assert "index 5" in _run_error(ta.write(5, 1.0).flow)
    assert "its size is 2" in _run_error(ta.write(5, 1.0).flow)
    shapes = tf.TensorArray(tf.float32, size=2, infer_shape=False)
    x = tf.placeholder(tf.float32, None)
    mixed = shapes.write(0, [1.0]).write(1, x).stack()
    assert "shape" in _run_error(mixed, {x: [1.0, 2.0]})
    with pytest.raises(TypeError, match="int32"):
        ta.write(0, tf.constant(1))
    with pytest.raises(ValueError, match="Inconsistent shapes"):
        tf.TensorArray(tf.float32, size=2).write(0, [1.0]).write(1, [1.0, 2.0])


def test_map_fn_matches_numpy_on_tensors_and_structures(rows):
    x = tf.placeholder(tf.float32, [None, 3])
    doubled = tf.map_fn(lambda r: 2.0 * r + 1.0, x)
    dots = tf.map_fn(lambda pair: tf.reduce_sum(pair[0] * pair[1]), (x, -x), dtype=tf.float32)
    counts = tf.map_fn(lambda r: tf.cast(tf.reduce_sum(tf.cast(r > 0, tf.int32)), tf.int64), x,
                       dtype=tf.int64)
    assert doubled.shape.as_list() == [None, 3]
    with tf.Session() as sess:
        got = sess.run([doubled, dots, counts], {x: rows})
    np.testing.assert_allclose(got[0], 2 * rows + 1, rtol=1e-6)
    np.testing.assert_allclose(got[1], -(rows * rows).sum(1), rtol=1e-5)
    np.testing.assert_array_equal(got[2], (rows > 0).sum(1))
    with pytest.raises(TypeError, match="dtype"):
        tf.map_fn(lambda r: tf.cast(r, tf.int32), x)
    with pytest.raises(ValueError, match="pass `dtype`"):  # two tensors, not a nested pair
        tf.map_fn(lambda r: (r, r), x, dtype=((tf.float32, tf.float32),))


def test_scan_matches_python_forward_reverse_and_with_an_initializer(rows):
    x = tf.placeholder(tf.float32, [None, 3])
    running = tf.scan(lambda a, r: a + r, x)
    backward = tf.scan(lambda a, r: a + r, x, reverse=True)
    decayed = tf.scan(lambda a, r: 0.5 * a + r, x, initializer=tf.ones([3]))
    pairs = tf.scan(lambda a, r: (a[0] + tf.reduce_sum(r), a[1] * 2.0), x,
                    initializer=(tf.constant(0.0), tf.constant(1.0)))
    with tf.Session() as sess:
        got = sess.run([running, backward, decayed, pairs], {x: rows})
    np.testing.assert_allclose(got[0], np.cumsum(rows, 0), rtol=1e-5)
    np.testing.assert_allclose(got[1], np.cumsum(rows[::-1], 0)[::-1], rtol=1e-5)
    state, expected = np.ones(3, np.float32), []
    for row in rows:
        state = 0.5 * state + row
        expected.append(state)
    np.testing.assert_allclose(got[2], expected, rtol=1e-5)
    np.testing.assert_allclose(got[3][0], np.cumsum(rows.sum(1)), rtol=1e-5)
    np.testing.assert_array_equal(got[3][1], 2.0 ** np.arange(1, 6))


def test_foldl_and_foldr_match_python(rows):
    x = tf.placeholder(tf.float32, [None, 3])
    left = tf.foldl(lambda a, r: a - r, x)
    right = tf.foldr(lambda a, r: a - r, x)
    total = tf.foldl(lambda a, r: a + tf.reduce_sum(r), x, initializer=tf.constant(10.0))
    digits = tf.foldr(lambda a, d: a * 10 + d, tf.constant([1, 2, 3]), initializer=0)
    with tf.Session() as sess:
        got = sess.run([left, right, total, digits], {x: rows})
    np.testing.assert_allclose(got[0], rows[0] - rows[1:].sum(0), rtol=1e-5)
    np.testing.assert_allclose(got[1], rows[-1] - rows[:-1].sum(0), rtol=1e-5)
    np.testing.assert_allclose(got[2], 10 + rows.sum(), rtol=1e-5)
    assert got[3] == 321


def test_close_and_gradient_arrays():
    """A gradient array (TensorArrayGradV3) has the forward array's size and adds up the
    writes to one element; a closed array refuses reads."""
    ta = tf.TensorArray(tf.float32, size=3).write(0, [1.0, 2.0])
    grad = ta.grad("gradients")
    grad = grad.write(1, [1.0, 1.0]).write(1, [0.5, 2.0])
    with tf.Session() as sess:
        size, value = sess.run([grad.size(), grad.read(1)])
    assert size == 3
    np.testing.assert_array_equal(value, [1.5, 3.0])
    with tf.control_dependencies([ta.close()]):
        after = tf.identity(ta.size())
    assert "closed" in _run_error(after)


def test_stack_pops_last_first_and_refuses_an_empty_pop():
    """The stacks a while loop's gradient keeps forward values in (TensorFlow's V2 ops)."""
    stack = tf.raw_ops.StackV2(max_size=-1, elem_type=tf.float32)
    first = tf.raw_ops.StackPushV2(handle=stack, elem=tf.constant([1.0, 2.0]))
    with tf.control_dependencies([first]):
        second = tf.raw_ops.StackPushV2(handle=stack, elem=tf.constant([3.0, 4.0]))
    with tf.control_dependencies([second]):
        top = tf.raw_ops.StackPopV2(handle=stack, elem_type=tf.float32)
    with tf.control_dependencies([top]):
        below = tf.raw_ops.StackPopV2(handle=stack, elem_type=tf.float32)
    with tf.control_dependencies([below]):
        empty = tf.raw_ops.StackPopV2(handle=stack, elem_type=tf.float32)
    with tf.Session() as sess:
        got_top, got_below = sess.run([top, below])
        np.testing.assert_array_equal(got_top, [3, 4])
        np.testing.assert_array_equal(got_below, [1, 2])
        with pytest.raises(tf.errors.InvalidArgumentError, match="empty"):
            sess.run(empty)
        closed = tf.raw_ops.StackCloseV2(handle=stack)
        sess.run(closed)
