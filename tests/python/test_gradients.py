"""tf.gradients: TensorFlow's semantics (None for unconnected xs, grad_ys, stop_gradients,
summed paths, integer inputs, second order) and an MLP loss checked against numpy."""
import numpy as np
import pytest

import runnel as tf
from conftest import run


def test_gradient_nodes_live_under_the_gradients_scope():
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.reduce_sum(tf.square(x))
    (g,) = tf.gradients(y, x)
    assert g.name.startswith("gradients/")
    (g2,) = tf.gradients(y, x)
    assert g2.name.startswith("gradients_1/")
    assert g.shape.as_list() == [None, 3]
    np.testing.assert_allclose(run(g, {x: [[1, 2, 3]]}), [[2, 4, 6]])


def test_unconnected_and_integer_xs_give_none():
    x = tf.placeholder(tf.float32, [])
    n = tf.placeholder(tf.int32, [])
    other = tf.placeholder(tf.float32, [])
    y = x * tf.cast(n, tf.float32)
    assert tf.gradients(y, [other, n]) == [None, None]
    (zero,) = tf.gradients(y, other, unconnected_gradients="zero")
    assert run(zero, {other: 3.0}) == 0.0


def test_paths_are_summed_and_grad_ys_weight_them():
    x = tf.placeholder(tf.float64, [3])
    y = x * x + 3 * x  # dy/dx = 2x + 3
    (g,) = tf.gradients(y, x)
    np.testing.assert_allclose(run(g, {x: [1, 2, 3]}), [5, 7, 9])
    (gw,) = tf.gradients(y, x, grad_ys=tf.constant([1.0, 0.0, 2.0], tf.float64))
    np.testing.assert_allclose(run(gw, {x: [1, 2, 3]}), [5, 0, 18])
    a, b = tf.placeholder(tf.float64, []), tf.placeholder(tf.float64, [])
    ga, gb = tf.gradients([a * b, a + b], [a, b])  # several ys: their sum
    assert run([ga, gb], {a: 2.0, b: 5.0}) == [6.0, 3.0]


def test_stop_gradient_and_stop_gradients():
    x = tf.placeholder(tf.float64, [])
    h = x * x
    y = h + tf.stop_gradient(h) * x
    (g,) = tf.gradients(y, x)  # d/dx (x^2 + c x) with c = x^2 held constant
    assert run(g, {x: 3.0}) == 2 * 3.0 + 9.0
    (g2,) = tf.gradients(h * x, x, stop_gradients=[h])
    assert run(g2, {x: 3.0}) == 9.0


def test_second_order():
    x = tf.placeholder(tf.float64, [])
    y = x * x * x
    (dy,) = tf.gradients(y, x)
    (d2y,) = tf.gradients(dy, x)
    assert run([dy, d2y], {x: 2.0}) == [12.0, 12.0]


def test_prod_gradient_is_exact_with_zeros():
    x = tf.placeholder(tf.float64, [2, 3])
    (g,) = tf.gradients(tf.reduce_prod(x, axis=1), x)
    got = run(g, {x: [[2.0, 0.0, 5.0], [0.0, 0.0, 3.0]]})
    np.testing.assert_array_equal(got, [[0, 10, 0], [0, 0, 0]])


def test_ops_declared_not_differentiable_stop_gradients_silently():
    x = tf.placeholder(tf.float32, [4])
    assert tf.gradients(tf.random_shuffle(x)[0] + tf.floor(x)[1], x) == [None]


def _mlp_loss_numpy(x, labels, w1, b1, w2, b2):
    h = np.maximum(x @ w1 + b1, 0)
    logits = h @ w2 + b2
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -np.mean(np.sum(labels * logp, axis=1))


def test_mlp_loss_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    x_val = rng.normal(size=(5, 4))
    labels_val = np.eye(3)[rng.integers(0, 3, 5)]
    params = {"w1": rng.normal(size=(4, 6)), "b1": rng.normal(size=6) * 0.1,
              "w2": rng.normal(size=(6, 3)), "b2": rng.normal(size=3) * 0.1}
    x = tf.constant(x_val)
    labels = tf.constant(labels_val)
    ph = {k: tf.placeholder(tf.float64, v.shape, name=k) for k, v in params.items()}
    h = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, ph["w1"]), ph["b1"]))
    logits = tf.matmul(h, ph["w2"]) + ph["b2"]
    loss = -tf.reduce_mean(tf.reduce_sum(labels * tf.nn.log_softmax(logits), axis=1))
    grads = tf.gradients(loss, [ph[k] for k in params])
    feed = {ph[k]: v for k, v in params.items()}
    loss_val, grad_vals = run([loss, grads], feed)
    assert abs(loss_val - _mlp_loss_numpy(x_val, labels_val, **params)) < 1e-12
    eps = 1e-6
    for (name, value), analytic in zip(params.items(), grad_vals):
        numeric = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            up, down = dict(params), dict(params)
            up[name] = value.copy()
            down[name] = value.copy()
            up[name][idx] += eps
            down[name][idx] -= eps
            numeric[idx] = (_mlp_loss_numpy(x_val, labels_val, **up) -
                            _mlp_loss_numpy(x_val, labels_val, **down)) / (2 * eps)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8, err_msg=name)
