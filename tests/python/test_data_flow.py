"""tf.FIFOQueue and tf.ConditionalAccumulator: values against hand-computed ones, waiting
and waking, closing, stale gradients, and errors."""
import threading
import time

import numpy as np
import pytest

import runnel as tf


def test_fifo_queue_keeps_order_and_stacks_dequeue_many():
    q = tf.FIFOQueue(-1, [tf.float32, tf.int64], shapes=[[2], []])
    enqueue_many = q.enqueue_many([[[1, 2], [3, 4], [5, 6]], [7, 8, 9]])
    enqueue = q.enqueue([[10, 11], 12])
    two = q.dequeue_many(2)
    one = q.dequeue()
    assert two[0].shape.as_list() == [None, 2] and one[0].shape.as_list() == [2]
    with tf.Session() as sess:
        sess.run(enqueue_many)
        sess.run(enqueue)
        assert sess.run(q.size()) == 4
        xs, ys = sess.run(two)
        np.testing.assert_array_equal(xs, [[1, 2], [3, 4]])
        np.testing.assert_array_equal(ys, [7, 8])
        for expected in ([5, 6], 9), ([10, 11], 12):
            x, y = sess.run(one)
            np.testing.assert_array_equal(x, expected[0])
            assert y == expected[1]
        assert sess.run(q.size()) == 0


def test_dequeue_waits_for_an_enqueue_from_another_run():
    q = tf.FIFOQueue(-1, tf.int32, shapes=[])
    value = tf.placeholder(tf.int32, [])
    enqueue, dequeue = q.enqueue(value), q.dequeue()
    with tf.Session() as sess:
        got = []
        reader = threading.Thread(target=lambda: got.append(sess.run(dequeue)))
        reader.start()
        time.sleep(0.2)
        assert got == []  # still waiting
        sess.run(enqueue, {value: 42})
        reader.join(10)
        assert got == [42]


def test_bounded_queue_enqueue_waits_while_full():
    q = tf.FIFOQueue(1, tf.int32, shapes=[])
    value = tf.placeholder(tf.int32, [])
    enqueue, dequeue = q.enqueue(value), q.dequeue()
    with tf.Session() as sess:
        sess.run(enqueue, {value: 1})
        writer = threading.Thread(target=lambda: sess.run(enqueue, {value: 2}))
        writer.start()
        time.sleep(0.2)
        assert writer.is_alive()
        assert sess.run(dequeue) == 1
        writer.join(10)
        assert sess.run(dequeue) == 2


def test_closed_queue_drains_then_fails():
    q = tf.FIFOQueue(-1, tf.int32, shapes=[])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2, 3]]))
        sess.run(q.close())
        with pytest.raises(tf.errors.CancelledError, match="is closed"):
            sess.run(q.enqueue(4))
        np.testing.assert_array_equal(sess.run(q.dequeue_many(2)), [1, 2])
        with pytest.raises(tf.errors.OutOfRangeError, match="1 elements, fewer than the 2"):
            sess.run(q.dequeue_many(2))


def test_enqueue_of_the_wrong_dtype_or_shape_is_an_error():
    q = tf.FIFOQueue(-1, [tf.float32], shapes=[[2]])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"has shape \[2\], got \[3\]"):
            sess.run(q.enqueue([[1.0, 2.0, 3.0]]))
    with pytest.raises(ValueError, match="takes 1 components, got 2"):
        q.enqueue([1.0, 2.0])


def test_closing_the_session_wakes_a_waiting_dequeue():
    q = tf.FIFOQueue(-1, tf.int32, shapes=[])
    dequeue = q.dequeue()
    sess = tf.Session()
    errors = []

    def wait():
        try:
            sess.run(dequeue)
        except tf.errors.CancelledError as e:
            errors.append(e)
    reader = threading.Thread(target=wait)
    reader.start()
    time.sleep(0.2)
    sess.close()
    reader.join(10)
    assert not reader.is_alive() and len(errors) == 1


def test_conditional_accumulator_averages_and_drops_stale_gradients():
    acc = tf.ConditionalAccumulator(tf.float32, shape=[2])
    grad = tf.placeholder(tf.float32, [2])
    step = tf.placeholder(tf.int64, [])
    apply = acc.apply_grad(grad, local_step=step)
    with tf.Session() as sess:
        sess.run(acc.set_global_step(5))
        sess.run(apply, {grad: [1, 2], step: 5})
        sess.run(apply, {grad: [100, 100], step: 4})  # stale: dropped
        sess.run(apply, {grad: [3, 6], step: 7})
        assert sess.run(acc.num_accumulated()) == 2
        np.testing.assert_allclose(sess.run(acc.take_grad(2)), [2, 4])
        assert sess.run(acc.num_accumulated()) == 0
        sess.run(apply, {grad: [1, 1], step: 5})  # the take advanced the step to 6
        assert sess.run(acc.num_accumulated()) == 0


def test_take_grad_waits_for_enough_gradients_and_sum_reduction():
    acc = tf.ConditionalAccumulator(tf.float64, shape=[], reduction_type="SUM")
    grad = tf.placeholder(tf.float64, [])
    apply, take = acc.apply_grad(grad), acc.take_grad(3)
    with tf.Session() as sess:
        got = []
        taker = threading.Thread(target=lambda: got.append(sess.run(take)))
        taker.start()
        for g in (1.0, 2.0):
            sess.run(apply, {grad: g})
        time.sleep(0.2)
        assert got == []
        sess.run(apply, {grad: 4.0})
        taker.join(10)
        assert got == [7.0]
        with pytest.raises(tf.errors.InvalidArgumentError, match="at least 1"):
            sess.run(acc.take_grad(0))
        with pytest.raises(tf.errors.InvalidArgumentError, match="shape"):
            sess.run(acc.apply_grad(tf.constant([1.0, 2.0], tf.float64)))
