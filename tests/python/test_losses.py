"""Losses against numpy, stability for large logits, dropout."""
import numpy as np
import pytest

import runnel as tf
from conftest import run


def log_softmax(x, axis=-1):
    x = x - x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(6, 5)) * 3
LABELS = RNG.integers(0, 5, 6)
ONEHOT = np.eye(5)[LABELS]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_ops(dtype):
    logits = LOGITS.astype(dtype)
    soft = RNG.dirichlet(np.ones(5), size=6).astype(dtype)
    dense = tf.nn.softmax_cross_entropy_with_logits_v2(labels=soft, logits=logits)
    sparse = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=LABELS, logits=logits)
    d, s = run([dense, sparse])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(d, -(soft * log_softmax(logits)).sum(1), rtol=tol, atol=tol)
    np.testing.assert_allclose(s, -log_softmax(logits)[np.arange(6), LABELS], rtol=tol, atol=tol)


def test_cross_entropy_over_another_axis_and_rank():
    logits = RNG.normal(size=(2, 5, 3))
    labels = np.moveaxis(np.eye(5)[RNG.integers(0, 5, (2, 3))], -1, 1)
    got = run(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=1))
    np.testing.assert_allclose(got, -(labels * log_softmax(logits, axis=1)).sum(1), rtol=1e-12)
    sparse_labels = RNG.integers(0, 3, (2, 5))
    got = run(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=sparse_labels, logits=logits))
    want = -np.take_along_axis(log_softmax(logits), sparse_labels[..., None], -1)[..., 0]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_losses_are_finite_for_huge_logits():
    logits = tf.constant([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
    onehot = tf.constant([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    losses = [tf.losses.softmax_cross_entropy(onehot, logits),
              tf.losses.sparse_softmax_cross_entropy([1, 0], logits),
              tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=onehot, logits=logits))]
    grads = [tf.gradients(l, logits)[0] for l in losses]
    values = run(losses + grads)
    for v in values:
        assert np.all(np.isfinite(v))
    np.testing.assert_allclose(values[0], (2e4 + 2e4 + np.log(2)) / 2, rtol=1e-6)


def test_out_of_range_sparse_label_is_an_error():
    with pytest.raises(tf.errors.InvalidArgumentError, match="label value of 7"):
        run(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[7], logits=[[1.0, 2.0]]))


def test_tf_losses_match_numpy():
    p = RNG.uniform(0.05, 0.95, (4, 3))
    y = (RNG.random((4, 3)) > 0.5).astype(np.float64)
    w = np.array([[1.0], [0.0], [2.0], [1.0]])
    got = run([tf.losses.mean_squared_error(y, p), tf.losses.absolute_difference(y, p, weights=w),
               tf.losses.log_loss(y, p), tf.nn.l2_loss(tf.constant(p)),
               tf.losses.softmax_cross_entropy(ONEHOT, LOGITS, label_smoothing=0.1),
               tf.losses.sparse_softmax_cross_entropy(LABELS, LOGITS)])
    np.testing.assert_allclose(got[0], np.mean((p - y) ** 2))
    weighted = np.abs(p - y) * w
    np.testing.assert_allclose(got[1], weighted.sum() / 9)  # 3 rows of non-zero weight
    np.testing.assert_allclose(got[2], np.mean(-y * np.log(p + 1e-7) - (1 - y) * np.log(1 - p + 1e-7)))
    np.testing.assert_allclose(got[3], (p ** 2).sum() / 2)
    smooth = ONEHOT * 0.9 + 0.1 / 5
    np.testing.assert_allclose(got[4], np.mean(-(smooth * log_softmax(LOGITS)).sum(1)))
    np.testing.assert_allclose(got[5], np.mean(-log_softmax(LOGITS)[np.arange(6), LABELS]))
    assert len(tf.losses.get_losses()) == 5


def test_sigmoid_cross_entropy_and_l2_normalize():
    x = RNG.normal(size=(3, 4)) * 5
    z = (RNG.random((3, 4)) > 0.5).astype(np.float64)
    got = run([tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
               tf.nn.l2_normalize(tf.constant(x), axis=1)])
    sig = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(got[0], -z * np.log(sig) - (1 - z) * np.log(1 - sig), rtol=1e-10)
    np.testing.assert_allclose(got[1], x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-12)


def test_dropout_keeps_the_expected_value():
    tf.set_random_seed(3)
    x = tf.ones([100000])
    kept = tf.nn.dropout(x, keep_prob=0.75)
    by_rate = tf.nn.dropout(x, rate=0.25)
    a, b = run([kept, by_rate])
    assert set(np.unique(a)) == {0.0, np.float32(1 / 0.75)}
    assert abs(a.mean() - 1.0) < 0.01 and abs((b > 0).mean() - 0.75) < 0.01
    assert tf.nn.dropout(x, keep_prob=1.0) is x
    with pytest.raises(ValueError):
        tf.nn.dropout(x, keep_prob=0.5, rate=0.5)
