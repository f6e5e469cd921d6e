"""One session, several Python threads calling run at once (session.run releases the GIL),
on a graph with variables and training ops: every update counted, every thread's fetches
computed from its own feeds, and training still converging; and tf.config.threading's
thread counts for sessions made without a config."""
import os
import threading

import numpy as np
import pytest

import runnel as tf

THREADS = 4


def run_in_threads(work):
    """Runs work(i) on THREADS threads started together; re-raises the first error."""
    start, errors = threading.Barrier(THREADS), []

    def body(i):
        try:
            start.wait()
            work(i)
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_concurrent_updates_are_all_counted():
    # Long vectors keep each read-modify-write long enough for unlocked updates to collide.
    counter = tf.Variable(np.zeros(100_000, np.int64))
    total = tf.Variable(np.zeros(100_000))
    value = tf.placeholder(tf.float64, [])
    step = tf.group(tf.assign_add(counter, tf.ones([100_000], tf.int64)),
                    tf.assign_add(total, tf.fill([100_000], value)))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        run_in_threads(lambda i: [sess.run(step, {value: float(i + 1)}) for _ in range(300)])
        np.testing.assert_array_equal(sess.run(counter), THREADS * 300)
        np.testing.assert_array_equal(sess.run(total), 300 * sum(range(1, THREADS + 1)))


def test_each_thread_gets_the_result_of_its_own_feed():
    rng = np.random.default_rng(0)
    w0, b0 = rng.normal(size=(5, 3)), rng.normal(size=3)
    x = tf.placeholder(tf.float64, [None, 5])
    w, b = tf.Variable(w0), tf.Variable(b0)
    y = tf.nn.relu(tf.matmul(x, w) + b)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())

        def work(i):
            feeds = np.random.default_rng(i).normal(size=(100, i + 1, 5))  # own batch size
            for batch in feeds:
                np.testing.assert_allclose(sess.run(y, {x: batch}),
                                           np.maximum(batch @ w0 + b0, 0), rtol=1e-12)

        run_in_threads(work)


def test_concurrent_training_steps_converge_and_count_every_step():
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(256, 4))
    true_w = np.array([[1.0], [-2.0], [0.5], [3.0]])
    ys = xs @ true_w + 0.01 * rng.normal(size=(256, 1))
    x, y = tf.placeholder(tf.float64, [None, 4]), tf.placeholder(tf.float64, [None, 1])
    w = tf.Variable(np.zeros((4, 1)))
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    global_step = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.05).minimize(loss, global_step=global_step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())

        def work(i):
            for step in range(150):
                rows = slice((step * 32) % 256, (step * 32) % 256 + 32)
                sess.run(train, {x: xs[rows], y: ys[rows]})

        run_in_threads(work)
        assert sess.run(global_step) == THREADS * 150
        least_squares = np.linalg.lstsq(xs, ys, rcond=None)[0]
        np.testing.assert_allclose(sess.run(w), least_squares, atol=1e-3)


def test_config_threading_sets_the_threads_of_sessions_made_without_a_config():
    def threads_a_session_starts(**config):
        before = len(os.listdir("/proc/self/task"))
        with tf.Session(config=tf.ConfigProto(**config) if config else None) as sess:
            sess.run(product)
            return len(os.listdir("/proc/self/task")) - before

    product = tf.constant(np.ones((64, 64), np.float32)) @ tf.constant(np.ones((64, 64),
                                                                               np.float32))
    threading_api = tf.config.threading
    try:
        started = {}
        for count in (1, 6):
            threading_api.set_intra_op_parallelism_threads(count)
            threading_api.set_inter_op_parallelism_threads(count)
            assert threading_api.get_intra_op_parallelism_threads() == count
            assert threading_api.get_inter_op_parallelism_threads() == count
            started[count] = threads_a_session_starts()
        # A one-thread pool may run on threads that exist already; six need new ones.
        assert started[1] <= 2 and started[6] >= started[1] + 4, started
        # A session given a config takes its own counts, as in TensorFlow.
        assert threads_a_session_starts(intra_op_parallelism_threads=1,
                                        inter_op_parallelism_threads=1) <= 2
        with pytest.raises(ValueError, match="count >= 0"):
            threading_api.set_intra_op_parallelism_threads(-1)
    finally:
        threading_api.set_intra_op_parallelism_threads(0)
        threading_api.set_inter_op_parallelism_threads(0)
