"""Normalization ops against numpy. FusedBatchNorm(V3): training (batch statistics, the
moving averages blended by exponential_avg_factor with a Bessel-corrected variance),
inference, both data formats, and its gradient against numpy finite differences; LRN and
its gradient likewise."""
import numpy as np
import pytest

import runnel as tf
from runnel.framework import op_def_library
from runnel.ops import gen_ops

RNG = np.random.default_rng(0)
EPS = 1e-3


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default():
        yield


def normalize(x, mean, var, scale, offset):
    return (x - mean) / np.sqrt(var + EPS) * scale + offset


@pytest.mark.parametrize("op", ["FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"])
@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
def test_training_and_inference_outputs(op, fmt):
    x = RNG.standard_normal((3, 4, 5, 6)) * 2 + 1
    scale, offset = RNG.random(6) + 0.5, RNG.random(6)
    mean0, var0 = RNG.random(6), RNG.random(6) + 1
    fn = getattr(gen_ops, op_def_library.camel_to_snake(op))
    xin = x.transpose(0, 3, 1, 2) if fmt == "NCHW" else x
    train = fn(xin, scale, offset, mean0, var0, epsilon=EPS, exponential_avg_factor=0.3,
               data_format=fmt, is_training=True)
    infer = fn(xin, scale, offset, mean0, var0, epsilon=EPS, data_format=fmt,
               is_training=False)
    with tf.Session() as sess:
        t, i = sess.run([list(train), list(infer)])
    back = (lambda a: a.transpose(0, 2, 3, 1)) if fmt == "NCHW" else (lambda a: a)
    mean, var, n = x.mean((0, 1, 2)), x.var((0, 1, 2)), 3 * 4 * 5
    np.testing.assert_allclose(back(t[0]), normalize(x, mean, var, scale, offset),
                               rtol=1e-9, atol=1e-10)
    # exponential_avg_factor is a float attribute: 0.3 to float precision.
    np.testing.assert_allclose(t[1], 0.7 * mean0 + 0.3 * mean, rtol=1e-6)
    np.testing.assert_allclose(t[2], 0.7 * var0 + 0.3 * var * n / (n - 1), rtol=1e-6)
    np.testing.assert_allclose(t[3], mean, rtol=1e-10)
    np.testing.assert_allclose(t[4], var, rtol=1e-10)
    assert len(t) == (6 if op == "FusedBatchNormV3" else 5)
    np.testing.assert_allclose(back(i[0]), normalize(x, mean0, var0, scale, offset),
                               rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(i[1], mean0)
    np.testing.assert_allclose(i[2], var0)


@pytest.mark.parametrize("op", ["FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"])
@pytest.mark.parametrize("training", [True, False])
def test_gradient_matches_numpy_finite_differences(op, training):
    x = RNG.standard_normal((2, 3, 2, 4))
    scale, offset = RNG.random(4) + 0.5, RNG.random(4)
    mean0, var0 = RNG.random(4), RNG.random(4) + 1
    dy = RNG.standard_normal(x.shape)

    def loss(x, scale, offset):
        mean, var = (x.mean((0, 1, 2)), x.var((0, 1, 2))) if training else (mean0, var0)
        return np.sum(normalize(x, mean, var, scale, offset) * dy)

    args = [x, scale, offset]
    tensors = [tf.constant(a) for a in args]
    fn = getattr(gen_ops, op_def_library.camel_to_snake(op))
    y = fn(*tensors, mean0, var0, epsilon=EPS, is_training=training)[0]
    grads = tf.gradients(y, tensors, grad_ys=tf.constant(dy))
    with tf.Session() as sess:
        got = sess.run(grads)
    for k, arg in enumerate(args):
        numeric = np.zeros_like(arg)
        for j in np.ndindex(arg.shape):
            up, down = [a.copy() for a in args], [a.copy() for a in args]
            up[k][j] += 1e-6
            down[k][j] -= 1e-6
            numeric[j] = (loss(*up) - loss(*down)) / 2e-6
        np.testing.assert_allclose(got[k], numeric, rtol=1e-5, atol=1e-6)


def test_bad_input():
    x = np.zeros((2, 2, 2, 3), np.float32)
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError),
                       match="scale has 4 elements but x has 3 channels"):
        tf.nn.fused_batch_norm(x, np.ones(4, np.float32), np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="needs mean and variance"):
        tf.nn.fused_batch_norm(x, np.ones(3, np.float32), is_training=False)
    v = tf.placeholder(tf.float32, [None])
    y, _, _ = tf.nn.fused_batch_norm(x, np.ones(3, np.float32), np.zeros(3, np.float32),
                                     mean=np.zeros(3, np.float32), variance=v,
                                     is_training=False, name="bn")
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError,
                                             match=r"variance must be a vector of 3.*bn"):
        sess.run(y, {v: np.ones(2, np.float32)})


def lrn_reference(x, radius, bias, alpha, beta):
    squares = np.pad(x * x, [(0, 0)] * 3 + [(radius, radius)])
    window = sum(squares[..., k:k + x.shape[-1]] for k in range(2 * radius + 1))
    return x / (bias + alpha * window) ** beta


@pytest.mark.parametrize("radius", [0, 2, 5])
def test_lrn_and_its_gradient(radius):
    x = RNG.standard_normal((2, 3, 2, 7))
    xt = tf.constant(x)
    y = tf.nn.local_response_normalization(xt, depth_radius=radius, bias=1.5, alpha=0.25,
                                           beta=0.75)
    dy = RNG.standard_normal(x.shape)
    dx, = tf.gradients(y, xt, grad_ys=tf.constant(dy))
    got, dx = tf.Session().run([y, dx])
    np.testing.assert_allclose(got, lrn_reference(x, radius, 1.5, 0.25, 0.75), rtol=1e-10)
    numeric = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[j] += 1e-6
        down[j] -= 1e-6
        numeric[j] = np.sum((lrn_reference(up, radius, 1.5, 0.25, 0.75) -
                             lrn_reference(down, radius, 1.5, 0.25, 0.75)) * dy) / 2e-6
    np.testing.assert_allclose(dx, numeric, rtol=1e-5, atol=1e-7)
