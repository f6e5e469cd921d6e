"""Variables, initializers, random ops and seeds, variable scopes, and gradient descent."""
import numpy as np
import pytest

import runnel as tf


def test_variable_ops_names_and_collections():
    v = tf.Variable([1.0, 2.0], name="w")
    t = tf.Variable(3, trainable=False)
    assert v.name == "w:0" and v.op.type == "VariableV2"
    assert v.initializer.name == "w/Assign" and v.value().name == "w/read:0"
    assert v.shape.as_list() == [2] and v.dtype == tf.float32
    assert tf.global_variables() == [v, t] and tf.trainable_variables() == [v]
    assert tf.Variable(0.0, name="w").name == "w_1:0"


def test_uninitialized_read_names_the_variable():
    v = tf.Variable(tf.zeros([2]), name="weights")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError,
                           match="Attempting to use uninitialized value weights"):
            sess.run(v)
        assert not sess.run(tf.is_variable_initialized(v))
        sess.run(tf.global_variables_initializer())
        assert sess.run(tf.is_variable_initialized(v))


def test_assign_family_and_persistence_across_runs():
    v = tf.Variable([1.0, 2.0])
    add = v.assign_add([1.0, 1.0])
    sub = v.assign_sub([0.5, 0.5])
    set_ = v.assign([7.0, 8.0])
    doubled = v * 2
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(add), [2, 3])
        sess.run(add)
        np.testing.assert_array_equal(sess.run(v), [3, 4])
        np.testing.assert_array_equal(sess.run(sub), [2.5, 3.5])
        sess.run(set_)
        np.testing.assert_array_equal(sess.run(doubled), [14, 16])
        v.load([5.0, 6.0], sess)
        np.testing.assert_array_equal(v.eval(sess), [5, 6])
    with tf.Session() as sess:  # a new session starts from scratch
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(v)


def test_one_consistent_value_per_step():
    v = tf.Variable(1.0)
    read_twice = v.value() + v.value()
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(read_twice) == 2.0


def test_a_read_sees_the_writes_it_depends_on():
    """The read runs after the update it waits for, and sees it (TensorFlow prints 1.0):
    batch-norm update ops, moving averages and control_dependencies idioms rely on it."""
    v = tf.Variable(0.0)
    inc = tf.assign_add(v, 1.0)
    with tf.control_dependencies([inc]):
        out = tf.identity(v.read_value())
        doubled = v * 2.0  # v's value read by Mul itself, also after the update
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(out) == 1.0
        assert sess.run(doubled) == 4.0
        assert sess.run(v) == 2.0


def test_random_ops_statistics_and_seeds():
    tf.set_random_seed(42)
    n = tf.random_normal([20000], mean=1.0, stddev=2.0)
    t = tf.truncated_normal([20000], stddev=1.0)
    u = tf.random_uniform([20000], minval=-1.0, maxval=3.0)
    i = tf.random_uniform([20000], minval=2, maxval=5, dtype=tf.int32)
    with tf.Session() as sess:
        nv, tv, uv, iv = sess.run([n, t, u, i])
        second = sess.run(n)
    assert abs(nv.mean() - 1.0) < 0.05 and abs(nv.std() - 2.0) < 0.05
    assert np.abs(tv).max() <= 2.0 and abs(tv.std() - 0.8796) < 0.02
    assert uv.min() >= -1.0 and uv.max() < 3.0 and abs(uv.mean() - 1.0) < 0.05
    assert set(np.unique(iv)) == {2, 3, 4}
    assert not np.array_equal(nv, second)  # the stream moves on between runs
    with tf.Session() as sess:  # same seeds, fresh session: the same sequence
        np.testing.assert_array_equal(sess.run(n), nv)


def test_float_uniform_draws_are_uniform_and_independent():
    # float32 values take two per 64-bit draw (the high and low 24 bits); an odd count
    # takes the last from a draw of its own.
    tf.set_random_seed(7)
    with tf.Session() as sess:
        v = sess.run(tf.random_uniform([40001], dtype=tf.float32))
    assert v.dtype == np.float32 and v.min() >= 0.0 and v.max() < 1.0
    assert abs(v.mean() - 0.5) < 0.01 and abs(v.var() - 1 / 12) < 0.005
    assert len(np.unique(v)) > 39900  # 2^24 possible values
    histogram = np.histogram(v, bins=10, range=(0, 1))[0]
    assert histogram.min() > 3700 and histogram.max() < 4300
    assert abs(np.corrcoef(v[:-1:2], v[1::2])[0, 1]) < 0.03


def test_random_shuffle_and_multinomial():
    tf.set_random_seed(3)
    rows = np.arange(12).reshape(6, 2)
    shuffled = tf.random_shuffle(tf.constant(rows))
    logits = tf.constant(np.log([[0.7, 0.2, 0.1], [0.0001, 0.0001, 0.9998]]))
    samples = tf.multinomial(logits, 20000)
    with tf.Session() as sess:
        s, m = sess.run([shuffled, samples])
    assert sorted(map(tuple, s)) == sorted(map(tuple, rows)) and not np.array_equal(s, rows)
    np.testing.assert_allclose(np.bincount(m[0], minlength=3) / 20000, [0.7, 0.2, 0.1], atol=0.015)
    assert (m[1] == 2).mean() > 0.999 and m.dtype == np.int64


def test_same_graph_seed_same_numbers_across_graphs():
    def draw():
        with tf.Graph().as_default() as g:
            tf.set_random_seed(7)
            x = tf.random_normal([5])
            with tf.Session(graph=g) as sess:
                return sess.run(x)
    np.testing.assert_array_equal(draw(), draw())


@pytest.mark.parametrize("init,check", [
    (tf.zeros_initializer(), lambda v: np.all(v == 0)),
    (tf.ones_initializer(), lambda v: np.all(v == 1)),
    (tf.constant_initializer(0.5), lambda v: np.all(v == 0.5)),
    # glorot uniform: limit sqrt(6 / (fan_in + fan_out)) = sqrt(6 / 600)
    (tf.glorot_uniform_initializer(seed=1),
     lambda v: np.abs(v).max() <= 0.1 and abs(v.std() - 0.1 / np.sqrt(3)) < 0.003),
    (tf.glorot_normal_initializer(seed=1), lambda v: abs(v.std() - np.sqrt(2 / 600)) < 0.003),
    (tf.initializers.he_normal(seed=1), lambda v: abs(v.std() - np.sqrt(2 / 400)) < 0.004),
    (tf.truncated_normal_initializer(stddev=0.5, seed=1), lambda v: np.abs(v).max() <= 1.0),
])
def test_initializers(init, check):
    v = tf.get_variable("v", [400, 200], initializer=init)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert check(sess.run(v))


def test_variable_scope_reuse():
    with tf.variable_scope("layer"):
        w = tf.get_variable("w", [2, 2])
        h = tf.identity(w.value(), name="h")
    assert w.name == "layer/w:0" and h.name == "layer/h:0"
    with pytest.raises(ValueError, match="already exists"):
        with tf.variable_scope("layer"):
            tf.get_variable("w", [2, 2])
    with tf.variable_scope("layer", reuse=True):
        assert tf.get_variable("w") is w
        with pytest.raises(ValueError, match="does not exist"):
            tf.get_variable("other", [1])
    with tf.variable_scope("layer", reuse=tf.AUTO_REUSE):
        assert tf.get_variable("w", [2, 2]) is w
        assert tf.get_variable("new", [1]).name == "layer/new:0"
    with tf.variable_scope("outer"):
        with tf.variable_scope("inner"):
            assert tf.get_variable("b", [1]).name == "outer/inner/b:0"


def test_gradient_descent_step_matches_numpy():
    rng = np.random.default_rng(0)
    x_val = rng.normal(size=(6, 3)).astype(np.float32)
    y_val = rng.normal(size=(6, 1)).astype(np.float32)
    w0 = rng.normal(size=(3, 1)).astype(np.float32)
    w = tf.Variable(w0)
    b = tf.Variable(np.zeros(1, np.float32))
    x, y = tf.constant(x_val), tf.constant(y_val)
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    step = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        w1, b1, s = sess.run([w, b, step])
    residual = x_val @ w0 - y_val
    np.testing.assert_allclose(w1, w0 - 0.1 * 2 * x_val.T @ residual / 6, rtol=1e-5)
    np.testing.assert_allclose(b1, -0.1 * 2 * residual.mean(axis=0), rtol=1e-5, atol=1e-7)
    assert s == 1


def test_minimize_trains_a_classifier():
    rng = np.random.default_rng(1)
    centers = rng.normal(size=(3, 5)) * 3
    labels = rng.integers(0, 3, 300)
    points = (centers[labels] + rng.normal(size=(300, 5))).astype(np.float32)
    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, [None, 5])
    y = tf.placeholder(tf.int32, [None])
    h = tf.nn.relu(tf.matmul(x, tf.Variable(tf.truncated_normal([5, 16], stddev=0.3))) +
                   tf.Variable(tf.zeros([16])))
    logits = tf.matmul(h, tf.Variable(tf.truncated_normal([16, 3], stddev=0.3)))
    loss = -tf.reduce_mean(tf.reduce_sum(tf.one_hot(y, 3) * tf.nn.log_softmax(logits), axis=1))
    train = tf.train.GradientDescentOptimizer(0.2).minimize(loss)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32), y),
                                      tf.float32))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: points, y: labels})
        for _ in range(200):
            sess.run(train, {x: points, y: labels})
        last, acc = sess.run([loss, accuracy], {x: points, y: labels})
    assert last < first / 5 and acc > 0.95


def test_load_sets_the_value_in_the_default_session():
    v = tf.Variable(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="needs a session"):
        v.load(np.ones(3, np.float32))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        v.load(np.array([1, 2, 3], np.float32))
        np.testing.assert_array_equal(sess.run(v), [1, 2, 3])


def test_variable_scope_custom_getters_see_full_names_and_nest():
    seen = []

    def outer(getter, name, *args, **kwargs):
        seen.append(("outer", name))
        return getter(name, *args, **kwargs)

    def inner(getter, name, *args, **kwargs):
        seen.append(("inner", name))
        kwargs["trainable"] = False
        return getter(name, *args, **kwargs)

    with tf.variable_scope("a", custom_getter=outer):
        with tf.variable_scope("b", custom_getter=inner):
            v = tf.get_variable("v", [2], initializer=tf.zeros_initializer())
    assert v.op.name == "a/b/v"
    assert seen == [("inner", "a/b/v"), ("outer", "a/b/v")]
    assert v not in tf.trainable_variables()
