"""Convolutions and pooling through the Python API against plain-numpy references
(nn_reference.py), backprops by the adjoint identity <A x, y> = <x, A^T y> (which holds
for any linear map and needs no second implementation), and bad input."""
import numpy as np
import pytest

import runnel as tf
from runnel.ops import gen_ops

import nn_reference as ref

RNG = np.random.default_rng(0)

# (input H, W, C, filter KH, KW, M, strides, dilations, padding)
GEOMETRIES = [
    (7, 6, 3, 3, 3, 4, (1, 1), (1, 1), "SAME"),
    (7, 6, 3, 3, 2, 4, (2, 2), (1, 1), "VALID"),
    (9, 8, 2, 3, 3, 5, (1, 1), (2, 2), "SAME"),
    (8, 8, 3, 5, 5, 4, (2, 1), (1, 1), "SAME"),
    (6, 7, 4, 1, 1, 3, (1, 1), (1, 1), "VALID"),  # 1x1: the input is the patch matrix
    (6, 7, 4, 1, 1, 3, (2, 2), (1, 1), "SAME"),
    (10, 9, 3, 3, 3, 2, (3, 2), (1, 1), [[1, 2], [2, 0]]),
    (10, 9, 3, 3, 3, 2, (1, 1), (2, 1), [[1, 2], [2, 0]]),
]


def run(fetches, feeds=None):
    with tf.Session() as sess:
        return sess.run(fetches, feeds)


def to_format(x, fmt):
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if fmt == "NCHW" else x


def from_format(x, fmt):
    return x.transpose(0, 2, 3, 1) if fmt == "NCHW" else x


def tf_padding(padding, fmt):
    if isinstance(padding, str):
        return padding
    spatial = [list(p) for p in padding]
    return [[0, 0], [0, 0]] + spatial if fmt == "NCHW" else [[0, 0]] + spatial + [[0, 0]]


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default():
        yield


# float64 runs Runnel's im2col + GEMM kernels, float32 oneDNN's convolution primitives.
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_conv2d_and_backprops(geometry, fmt, dtype):
    h, w, c, kh, kw, m, strides, dilations, padding = geometry
    x = RNG.standard_normal((2, h, w, c)).astype(dtype)
    f = RNG.standard_normal((kh, kw, c, m)).astype(dtype)
    expected = ref.conv2d(x.astype(np.float64), f.astype(np.float64), strides, padding,
                          dilations)
    xt, ft = tf.constant(to_format(x, fmt)), tf.constant(f)
    y = tf.nn.conv2d(xt, ft, strides=list(strides), padding=tf_padding(padding, fmt),
                     data_format=fmt, dilations=list(dilations))
    assert y.shape.as_list() == list(to_format(expected, fmt).shape)
    dy = RNG.standard_normal(expected.shape).astype(dtype)
    dx, df = tf.gradients(y, [xt, ft], grad_ys=tf.constant(to_format(dy, fmt)))
    got, dx, df = run([y, dx, df])
    tol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(from_format(got, fmt), expected, rtol=tol, atol=tol)
    # <conv(x, f), dy> = <x, dx(dy)> = <f, df(dy)>
    inner = np.sum(expected * dy)
    np.testing.assert_allclose(np.sum(x * from_format(dx, fmt), dtype=np.float64), inner,
                               rtol=tol)
    np.testing.assert_allclose(np.sum(f * df, dtype=np.float64), inner, rtol=tol)
    assert dx.shape == to_format(x, fmt).shape and df.shape == f.shape
    assert got.dtype == dx.dtype == df.dtype == dtype


def test_conv2d_large_enough_to_span_many_chunks_and_threads():
    x = RNG.standard_normal((5, 20, 18, 16)).astype(np.float32)
    f = RNG.standard_normal((5, 5, 16, 24)).astype(np.float32)
    y = tf.nn.conv2d(x, f, [1, 1, 1, 1], "SAME")
    dy = RNG.standard_normal((5, 20, 18, 24)).astype(np.float32)
    xt, ft = tf.constant(x), tf.constant(f)
    dx, df = tf.gradients(tf.nn.conv2d(xt, ft, [1, 1, 1, 1], "SAME"), [xt, ft], grad_ys=dy)
    got, dx, df = run([y, dx, df])
    expected = ref.conv2d(x.astype(np.float64), f.astype(np.float64), (1, 1), "SAME")
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3)
    inner = np.sum(expected * dy)
    np.testing.assert_allclose(np.sum(x.astype(np.float64) * dx), inner, rtol=1e-4)
    np.testing.assert_allclose(np.sum(f.astype(np.float64) * df), inner, rtol=1e-4)


def test_conv2d_transpose_is_the_input_gradient():
    x = RNG.standard_normal((2, 4, 5, 3))
    f = RNG.standard_normal((3, 3, 6, 3))  # [KH, KW, out channels, in channels]
    y = tf.nn.conv2d_transpose(x, f, [2, 8, 10, 6], [1, 2, 2, 1], "SAME")
    out = run(y)
    assert out.shape == (2, 8, 10, 6)
    # conv2d_transpose is conv2d's adjoint: <conv2d(z, f), x> = <z, conv2d_transpose(x, f)>
    z = RNG.standard_normal((2, 8, 10, 6))
    np.testing.assert_allclose(np.sum(ref.conv2d(z, f, (2, 2), "SAME") * x), np.sum(z * out),
                               rtol=1e-10)


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_depthwise_conv2d_and_backprops(geometry, fmt):
    h, w, c, kh, kw, _, strides, dilations, padding = geometry
    x = RNG.standard_normal((2, h, w, c))
    f = RNG.standard_normal((kh, kw, c, 2))
    expected = ref.depthwise_conv2d(x, f, strides, padding, dilations)
    xt, ft = tf.constant(to_format(x, fmt)), tf.constant(f)
    y = tf.nn.depthwise_conv2d_native(xt, ft, list(strides), tf_padding(padding, fmt),
                                      data_format=fmt, dilations=list(dilations))
    dy = RNG.standard_normal(expected.shape)
    dx, df = tf.gradients(y, [xt, ft], grad_ys=tf.constant(to_format(dy, fmt)))
    got, dx, df = run([y, dx, df])
    np.testing.assert_allclose(from_format(got, fmt), expected, rtol=1e-10, atol=1e-10)
    inner = np.sum(expected * dy)
    np.testing.assert_allclose(np.sum(x * from_format(dx, fmt)), inner, rtol=1e-10)
    np.testing.assert_allclose(np.sum(f * df), inner, rtol=1e-10)


# A constant filter (a frozen graph) takes oneDNN's inference path: the filter reordered
# once and kept, the bias and activation fused into the primitive; batch 5 runs in slices
# of images over the pool; at batch 1 these small convolutions are not split: depthwise
# runs on one thread, plain ones are left to im2col + GEMM. Each graph runs twice (the
# second time on the kept filter).
@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("epilogue", ["none", "bias", "relu", "relu6"])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_convolutions_with_constant_filters_and_fused_epilogues(geometry, epilogue, batch):
    check_constant_filter_convolutions(geometry, epilogue, batch)


# Big enough convolutions with fewer images than pool threads cut each image's output rows
# into slabs, each reading the input rows under its window: padding only at the image's
# ends, uneven slabs when the rows do not divide.
SLAB_GEOMETRIES = [
    (45, 41, 32, 3, 3, 32, (1, 1), (1, 1), "SAME"),
    (45, 41, 32, 3, 3, 32, (2, 2), (1, 1), "SAME"),
    (45, 41, 32, 5, 3, 32, (2, 1), (1, 1), "VALID"),
    (45, 41, 32, 3, 3, 32, (1, 1), (2, 2), [[1, 2], [2, 0]]),
    (45, 41, 32, 3, 3, 32, (3, 2), (1, 1), [[2, 1], [0, 1]]),
    (45, 41, 32, 1, 1, 32, (2, 2), (1, 1), "SAME"),
]


@pytest.mark.parametrize("batch,threads", [(1, 2), (1, 3), (2, 3)])  # 2 images: 2 slabs each
@pytest.mark.parametrize("epilogue", ["none", "relu6"])
@pytest.mark.parametrize("geometry", SLAB_GEOMETRIES)
def test_constant_filter_convolutions_split_into_row_slabs(geometry, epilogue, batch, threads):
    check_constant_filter_convolutions(geometry, epilogue, batch, threads)


def check_constant_filter_convolutions(geometry, epilogue, batch, threads=0):
    h, w, c, kh, kw, m, strides, dilations, padding = geometry
    x = RNG.standard_normal((batch, h, w, c)).astype(np.float32)
    f = RNG.standard_normal((kh, kw, c, m)).astype(np.float32)
    fd = RNG.standard_normal((kh, kw, c, 1)).astype(np.float32)
    b, bd = RNG.standard_normal(m).astype(np.float32), RNG.standard_normal(c).astype(np.float32)
    xp = tf.placeholder(tf.float32, [None, h, w, c])
    pads = tf_padding(padding, "NHWC")
    conv = tf.nn.conv2d(xp, tf.constant(f), list(strides), pads, dilations=list(dilations))
    dw = tf.nn.depthwise_conv2d_native(xp, tf.constant(fd), list(strides), pads,
                                       dilations=list(dilations))
    x64 = x.astype(np.float64)
    want_conv = ref.conv2d(x64, f.astype(np.float64), strides, padding, dilations)
    want_dw = ref.depthwise_conv2d(x64, fd.astype(np.float64), strides, padding, dilations)
    if epilogue != "none":
        conv, dw = tf.nn.bias_add(conv, tf.constant(b)), tf.nn.bias_add(dw, tf.constant(bd))
        want_conv, want_dw = want_conv + b, want_dw + bd
    if epilogue in ("relu", "relu6"):
        act = getattr(tf.nn, epilogue)
        conv, dw = act(conv), act(dw)
        top = 6 if epilogue == "relu6" else np.inf
        want_conv, want_dw = np.clip(want_conv, 0, top), np.clip(want_dw, 0, top)
    config = tf.ConfigProto(intra_op_parallelism_threads=threads)
    with tf.Session(config=config) as sess:
        for _ in range(2):
            got_conv, got_dw = sess.run([conv, dw], {xp: x})
            np.testing.assert_allclose(got_conv, want_conv, rtol=1e-4, atol=1e-4)
            np.testing.assert_allclose(got_dw, want_dw, rtol=1e-4, atol=1e-4)


# The last windows tile the input (each position in exactly one window: the gradient's
# write-once path).
POOLS = [((2, 2), (2, 2), "VALID"), ((3, 3), (2, 2), "SAME"), ((3, 2), (1, 1), "SAME"),
         ((2, 2), (2, 2), "SAME"), ((1, 2), (1, 2), "VALID")]


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("ksize,strides,padding", POOLS)
def test_max_and_avg_pool_and_their_gradients(ksize, strides, padding, fmt):
    x = RNG.standard_normal((2, 7, 6, 3))
    xt = tf.constant(to_format(x, fmt))
    mx = tf.nn.max_pool(xt, list(ksize), list(strides), padding, data_format=fmt)
    av = tf.nn.avg_pool(xt, list(ksize), list(strides), padding, data_format=fmt)
    expected_max = ref.max_pool(x, ksize, strides, padding)
    expected_avg = ref.avg_pool(x, ksize, strides, padding)
    dy = RNG.standard_normal(expected_max.shape)
    d_max, = tf.gradients(mx, xt, grad_ys=tf.constant(to_format(dy, fmt)))
    d_avg, = tf.gradients(av, xt, grad_ys=tf.constant(to_format(dy, fmt)))
    got_max, got_avg, d_max, d_avg = [from_format(v, fmt) for v in run([mx, av, d_max, d_avg])]
    np.testing.assert_allclose(got_max, expected_max)
    np.testing.assert_allclose(got_avg, expected_avg, rtol=1e-12)
    # Max: each window's gradient lands on the position of its maximum.
    expected_dmax = np.zeros_like(x)
    pads = ref.pads_for(padding, x.shape, ksize, strides)
    for n, oh, ow, c in np.ndindex(*dy.shape):
        h0, w0 = oh * strides[0] - pads[0][0], ow * strides[1] - pads[1][0]
        hs = slice(max(h0, 0), min(h0 + ksize[0], 7))
        ws = slice(max(w0, 0), min(w0 + ksize[1], 6))
        window = x[n, hs, ws, c]
        i, j = np.unravel_index(np.argmax(window), window.shape)
        expected_dmax[n, hs.start + i, ws.start + j, c] += dy[n, oh, ow, c]
    np.testing.assert_allclose(d_max, expected_dmax)
    # Avg is linear: <avg(x), dy> = <x, d_avg>.
    np.testing.assert_allclose(np.sum(x * d_avg), np.sum(expected_avg * dy), rtol=1e-12)


def test_max_pool_v2_and_grad_v2_take_tensor_windows():
    x = RNG.standard_normal((1, 6, 6, 2))
    k = tf.placeholder(tf.int32, [4])
    s = tf.placeholder(tf.int32, [4])
    xt = tf.constant(x)
    y = gen_ops.max_pool_v2(xt, k, s, padding="VALID")
    g, = tf.gradients(y, xt)
    got, grad = run([y, g], {k: [1, 3, 3, 1], s: [1, 3, 3, 1]})
    np.testing.assert_allclose(got, ref.max_pool(x, (3, 3), (3, 3), "VALID"))
    # One 1 per window and channel, at the window's maximum.
    assert grad.sum() == 2 * 2 * 2 and set(np.unique(grad)) == {0.0, 1.0}
    np.testing.assert_allclose(np.where(grad == 1, x, -np.inf).max(axis=(1, 2)), x.max(axis=(1, 2)))


def test_explicit_max_pool_padding_and_windows_over_padding_only():
    x = RNG.standard_normal((1, 4, 4, 1))
    y = tf.nn.max_pool(x, 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]])
    np.testing.assert_allclose(run(y), ref.max_pool(x, (2, 2), (2, 2), [[1, 1], [1, 1]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="smaller than the window"):
        run(tf.nn.max_pool(x, 2, 2, [[0, 0], [2, 0], [0, 0], [0, 0]]))


def test_int_max_pool():
    x = RNG.integers(-50, 50, (1, 4, 4, 2)).astype(np.int32)
    np.testing.assert_array_equal(run(tf.nn.max_pool(x, 2, 2, "VALID")),
                                  ref.max_pool(x, (2, 2), (2, 2), "VALID"))


def test_moments_and_batch_normalization_match_numpy():
    x = RNG.standard_normal((4, 3, 3, 5))
    mean, variance = tf.nn.moments(tf.constant(x), [0, 1, 2])
    scale, offset = RNG.random(5) + 0.5, RNG.random(5)
    y = tf.nn.batch_normalization(x, mean, variance, offset, scale, 1e-3)
    m, v, out = run([mean, variance, y])
    np.testing.assert_allclose(m, x.mean((0, 1, 2)))
    np.testing.assert_allclose(v, x.var((0, 1, 2)))
    np.testing.assert_allclose(out, (x - m) / np.sqrt(v + 1e-3) * scale + offset, rtol=1e-12)
    m_keep, _ = tf.nn.moments(tf.constant(x), [1, 2], keep_dims=True)
    assert m_keep.shape.as_list() == [4, 1, 1, 5]


@pytest.mark.parametrize("build,message", [
    (lambda: tf.nn.conv2d(np.zeros((2, 5, 5), np.float32), np.zeros((3, 3, 1, 1), np.float32),
                          [1, 1, 1, 1], "SAME"), "rank"),
    (lambda: tf.nn.conv2d(np.zeros((1, 5, 5, 2), np.float32),
                          np.zeros((3, 3, 3, 1), np.float32), [1, 1, 1, 1], "SAME"),
     "channels"),
    (lambda: tf.nn.conv2d(np.zeros((1, 3, 3, 1), np.float32),
                          np.zeros((5, 5, 1, 1), np.float32), [1, 1, 1, 1], "VALID"),
     "larger than the input"),
    (lambda: tf.nn.conv2d(np.zeros((1, 5, 5, 1), np.float32),
                          np.zeros((3, 3, 1, 1), np.float32), [1, -1, 1, 1], "SAME"),
     "positive"),
    (lambda: tf.nn.conv2d(np.zeros((1, 5, 5, 1), np.float32),
                          np.zeros((3, 3, 1, 1), np.float32), [2, 1, 1, 1], "SAME"),
     "batch or channel"),
    (lambda: tf.nn.max_pool(np.zeros((1, 5, 5, 1), np.float32), 2, 2, "SAME",
                            data_format="NHCW"), "data_format"),
    (lambda: tf.nn.avg_pool(np.zeros((1, 2, 2, 1), np.float32), 3, 1, "VALID"),
     "larger than the input"),
])
def test_bad_window_input_names_the_node(build, message):
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError)) as info:
        run(build())
    assert message in str(info.value)


def test_bad_feed_at_run_time_names_the_node():
    x = tf.placeholder(tf.float32, [None, None, None, 3])
    y = tf.nn.conv2d(x, np.zeros((3, 3, 3, 2), np.float32), [1, 1, 1, 1], "VALID", name="c1")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"larger than the input.*c1"):
        run(y, {x: np.zeros((1, 2, 2, 3), np.float32)})
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"channels.*c1"):
        run(tf.nn.conv2d(tf.placeholder(tf.float32), np.zeros((3, 3, 3, 2), np.float32),
                         [1, 1, 1, 1], "SAME", name="c1"),
            {tf.get_default_graph().get_tensor_by_name("Placeholder_1:0"):
             np.zeros((1, 4, 4, 2), np.float32)})
