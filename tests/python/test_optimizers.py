"""Each optimizer's update rule against a hand-written numpy step, over two steps (so the
slot state carries over), and the learning-rate schedules."""
import numpy as np
import pytest

import runnel as tf

X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
Y = np.array([[1.0], [0.0], [2.0]])
W0 = np.array([[0.3], [-0.2]])


def grad(w):  # d/dw mean((X w - Y)^2)
    return 2 * X.T @ (X @ w - Y) / len(X)


def numpy_steps(rule, steps=2):
    w, state = W0.copy(), {}
    for t in range(1, steps + 1):
        w = rule(w, grad(w), state, t)
    return w


def momentum_rule(lr, mu, nesterov=False):
    def rule(w, g, s, t):
        s["a"] = s.get("a", 0) * mu + g
        return w - lr * (g + mu * s["a"] if nesterov else s["a"])
    return rule


def adagrad_rule(lr, init):
    def rule(w, g, s, t):
        s["a"] = s.get("a", init) + g * g
        return w - lr * g / np.sqrt(s["a"])
    return rule


def rmsprop_rule(lr, rho, mu, eps, centered):
    def rule(w, g, s, t):
        s["ms"] = rho * s.get("ms", 1.0) + (1 - rho) * g * g
        s["mg"] = rho * s.get("mg", 0.0) + (1 - rho) * g
        denom = s["ms"] - s["mg"] ** 2 if centered else s["ms"]
        s["mom"] = mu * s.get("mom", 0.0) + lr * g / np.sqrt(denom + eps)
        return w - s["mom"]
    return rule


def adam_rule(lr, b1, b2, eps):
    def rule(w, g, s, t):
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        return w - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * s["m"] / (np.sqrt(s["v"]) + eps)
    return rule


CASES = {
    "sgd": (lambda: tf.train.GradientDescentOptimizer(0.1), lambda w, g, s, t: w - 0.1 * g),
    "momentum": (lambda: tf.train.MomentumOptimizer(0.1, 0.9), momentum_rule(0.1, 0.9)),
    "nesterov": (lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
                 momentum_rule(0.1, 0.9, True)),
    "adagrad": (lambda: tf.train.AdagradOptimizer(0.1, 0.2), adagrad_rule(0.1, 0.2)),
    "rmsprop": (lambda: tf.train.RMSPropOptimizer(0.05, 0.8, 0.5, 1e-6),
                rmsprop_rule(0.05, 0.8, 0.5, 1e-6, False)),
    "rmsprop_centered": (lambda: tf.train.RMSPropOptimizer(0.05, 0.8, 0.5, 1e-6, centered=True),
                         rmsprop_rule(0.05, 0.8, 0.5, 1e-6, True)),
    "adam": (lambda: tf.train.AdamOptimizer(0.1, 0.8, 0.9, 1e-7), adam_rule(0.1, 0.8, 0.9, 1e-7)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_update_rule_matches_numpy(name):
    make, rule = CASES[name]
    with tf.Graph().as_default():
        w = tf.Variable(W0)
        loss = tf.reduce_mean(tf.square(tf.matmul(tf.constant(X), w) - tf.constant(Y)))
        step = tf.train.get_or_create_global_step()
        train = make().minimize(loss, global_step=step)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            sess.run(train)
            got, steps = sess.run([w, step])
    np.testing.assert_allclose(got, numpy_steps(rule), rtol=1e-10, atol=1e-12)
    assert steps == 2


def test_slots_are_named_like_tensorflow():
    with tf.Graph().as_default():
        w = tf.Variable([1.0], name="w")
        opt = tf.train.AdamOptimizer()
        opt.minimize(tf.reduce_sum(w * w))
        names = [v.op.name for v in tf.global_variables()]
        assert names == ["w", "beta1_power", "beta2_power", "w/Adam", "w/Adam_1"]
        assert opt.get_slot(w, "m").op.name == "w/Adam"
        assert tf.trainable_variables() == [w]


def test_learning_rate_schedules():
    with tf.Graph().as_default():
        step = tf.placeholder(tf.int64, [])
        decayed = tf.train.exponential_decay(0.1, step, 10, 0.5)
        stairs = tf.train.exponential_decay(0.1, step, 10, 0.5, staircase=True)
        piece = tf.train.piecewise_constant(step, [5, 10], [1.0, 0.5, 0.1])
        with tf.Session() as sess:
            for s in (0, 5, 7, 10, 25):
                d, st, p = sess.run([decayed, stairs, piece], {step: s})
                assert abs(d - 0.1 * 0.5 ** (s / 10)) < 1e-7
                assert abs(st - 0.1 * 0.5 ** (s // 10)) < 1e-7
                assert p == np.float32(1.0 if s <= 5 else 0.5 if s <= 10 else 0.1)


def test_same_seeds_give_an_identical_loss_curve():
    def curve():
        rng = np.random.default_rng(5)
        data = rng.normal(size=(64, 20)).astype(np.float32)
        labels = rng.integers(0, 4, 64)
        with tf.Graph().as_default():
            tf.set_random_seed(11)
            x = tf.placeholder(tf.float32, [None, 20])
            y = tf.placeholder(tf.int64, [None])
            h = tf.nn.dropout(tf.nn.relu(tf.matmul(x, tf.Variable(tf.truncated_normal([20, 32])))),
                              keep_prob=0.8)
            logits = tf.matmul(h, tf.Variable(tf.truncated_normal([32, 4])))
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                               logits=logits))
            train = tf.train.AdamOptimizer(0.01).minimize(loss)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                return [sess.run([loss, train], {x: data, y: labels})[0] for _ in range(30)]
    first, second = curve(), curve()
    assert first == second
    assert first[-1] < first[0]
