"""Resizing and space/depth rearrangement against hand-computed cases and plain numpy,
their gradients by the adjoint identity (both ops are linear in the image), and bad
input."""
import numpy as np
import pytest

import runnel as tf
from runnel.ops import gen_ops

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default():
        yield


def run(fetches, feeds=None):
    with tf.Session() as sess:
        return sess.run(fetches, feeds)


def test_bilinear_hand_computed():
    image = np.array([[0.0, 3.0], [6.0, 9.0]]).reshape(1, 2, 2, 1)
    # align_corners: the corners stay, the rest is linear between them.
    aligned = run(tf.image.resize_bilinear(image, [3, 3], align_corners=True))[0, :, :, 0]
    np.testing.assert_allclose(aligned, [[0, 1.5, 3], [3, 4.5, 6], [6, 7.5, 9]])
    # Default (scale in/out = 1/2, source = out * scale): rows 0, 0.5, 1, 1.5 -> clamped.
    plain = run(tf.image.resize_bilinear(image, [4, 1]))[0, :, 0, 0]
    np.testing.assert_allclose(plain, [0, 3, 6, 6])
    # Half-pixel centres at 2x: sources -0.25, 0.25, 0.75, 1.25 -> 0, 1.5, 4.5, 6 on column 0.
    half = run(tf.image.resize_bilinear(image, [4, 2], half_pixel_centers=True))[0, :, 0, 0]
    np.testing.assert_allclose(half, [0, 1.5, 4.5, 6])


def test_nearest_hand_computed():
    image = np.arange(4, dtype=np.int32).reshape(1, 1, 4, 1)
    resize = lambda **kw: run(tf.image.resize_nearest_neighbor(image, [1, 6], **kw))[0, 0, :, 0]  # noqa: E731
    np.testing.assert_array_equal(resize(), [0, 0, 1, 2, 2, 3])  # floor(o * 4/6)
    np.testing.assert_array_equal(resize(align_corners=True), [0, 1, 1, 2, 2, 3])  # round(o*3/5)
    np.testing.assert_array_equal(resize(half_pixel_centers=True), [0, 1, 1, 2, 3, 3])


def bilinear_reference(x, size, align_corners=False, half_pixel=False):
    """TensorFlow's sampling rule per axis, applied as two interpolation matrices."""
    def matrix(n_in, n_out):
        scale = (n_in - 1) / (n_out - 1) if align_corners and n_out > 1 else n_in / n_out
        m = np.zeros((n_out, n_in))
        for o in range(n_out):
            src = (o + 0.5) * scale - 0.5 if half_pixel else o * scale
            lo, hi = max(int(np.floor(src)), 0), min(int(np.ceil(src)), n_in - 1)
            m[o, lo] += 1 - (src - np.floor(src))
            m[o, hi] += src - np.floor(src)
        return m
    rows, cols = matrix(x.shape[1], size[0]), matrix(x.shape[2], size[1])
    return np.einsum("ah,nhwc,bw->nabc", rows, x, cols)


@pytest.mark.parametrize("size", [(9, 4), (3, 11), (5, 7), (1, 1)])
@pytest.mark.parametrize("align,half", [(False, False), (True, False), (False, True)])
def test_bilinear_matches_numpy_and_its_gradient_is_the_adjoint(size, align, half):
    x = RNG.standard_normal((2, 5, 7, 3))
    xt = tf.constant(x)
    y = tf.image.resize_bilinear(xt, list(size), align_corners=align, half_pixel_centers=half)
    dy = RNG.standard_normal((2,) + size + (3,)).astype(np.float32)
    dx, = tf.gradients(y, xt, grad_ys=tf.constant(dy))
    got, dx = run([y, dx])
    assert got.dtype == np.float32
    expected = bilinear_reference(x, size, align, half)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.sum(x * dx), np.sum(expected * dy), rtol=1e-4)


@pytest.mark.parametrize("align,half", [(False, False), (True, False), (False, True)])
def test_nearest_gradient_is_the_adjoint(align, half):
    x = RNG.standard_normal((2, 5, 7, 3))
    xt = tf.constant(x)
    y = tf.image.resize_nearest_neighbor(xt, [8, 3], align_corners=align,
                                         half_pixel_centers=half)
    dy = RNG.standard_normal((2, 8, 3, 3))
    dx, = tf.gradients(y, xt, grad_ys=tf.constant(dy))
    got, dx = run([y, dx])
    np.testing.assert_allclose(np.sum(x * dx), np.sum(got * dy), rtol=1e-10)
    # Every output pixel is a copy of an input pixel.
    assert np.isin(got, x).all()


def test_resize_images_single_image_and_uint8():
    image = RNG.integers(0, 255, (4, 6, 3)).astype(np.uint8)
    bilinear = tf.image.resize_images(image, [8, 12])
    nearest = tf.image.resize_images(image, [2, 3], method=tf.image.ResizeMethod.NEAREST_NEIGHBOR)
    b, n = run([bilinear, nearest])
    assert b.shape == (8, 12, 3) and b.dtype == np.float32
    assert n.shape == (2, 3, 3) and n.dtype == np.uint8
    np.testing.assert_allclose(b, bilinear_reference(image[None].astype(np.float64), (8, 12))[0],
                               rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
def test_space_to_depth_and_back(fmt):
    x = RNG.standard_normal((2, 4, 6, 3))
    # TensorFlow's definition: the block's (row, column) become the channel's high digits.
    expected = x.reshape(2, 2, 2, 3, 2, 3).transpose(0, 1, 3, 2, 4, 5).reshape(2, 2, 3, 12)
    to = (lambda a: a.transpose(0, 3, 1, 2)) if fmt == "NCHW" else (lambda a: a)
    back = (lambda a: a.transpose(0, 2, 3, 1)) if fmt == "NCHW" else (lambda a: a)
    xt = tf.constant(to(x))
    depth = tf.nn.space_to_depth(xt, 2, data_format=fmt)
    space = tf.nn.depth_to_space(depth, 2, data_format=fmt)
    dy = RNG.standard_normal(to(expected).shape)
    dx, = tf.gradients(depth, xt, grad_ys=tf.constant(dy))
    d, s, dx = run([depth, space, dx])
    np.testing.assert_array_equal(back(d), expected)
    np.testing.assert_array_equal(back(s), x)
    np.testing.assert_allclose(np.sum(to(x) * dx), np.sum(d * dy))


@pytest.mark.parametrize("build,message", [
    (lambda: tf.nn.space_to_depth(np.zeros((1, 3, 4, 1)), 2), "divisible by block_size"),
    (lambda: tf.nn.depth_to_space(np.zeros((1, 2, 2, 3)), 2), "divisible by block_size"),
    (lambda: gen_ops.space_to_depth(np.zeros((1, 4, 4, 1)), block_size=1), "block_size"),
    (lambda: tf.image.resize_bilinear(np.zeros((1, 2, 2, 1)), [0, 3]), "positive"),
    (lambda: tf.image.resize_bilinear(np.zeros((2, 2, 1)), [3, 3]), "rank"),
    (lambda: tf.image.resize_bilinear(np.zeros((1, 2, 2, 1)), [3, 3], align_corners=True,
                                      half_pixel_centers=True), "cannot both be true"),
])
def test_bad_input(build, message):
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError)) as info:
        run(build())
    assert message in str(info.value)


def test_bad_size_at_run_time_names_the_node():
    size = tf.placeholder(tf.int32, [2])
    y = tf.image.resize_bilinear(np.zeros((1, 2, 2, 1), np.float32), size, name="up")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"positive.*up"):
        run(y, {size: [3, -1]})


def test_image_transpose_swaps_height_and_width():
    image = np.arange(2 * 3 * 4 * 2, dtype=np.float32).reshape(2, 3, 4, 2)
    np.testing.assert_array_equal(run(tf.image.transpose(image)), image.transpose(0, 2, 1, 3))
    np.testing.assert_array_equal(run(tf.image.transpose(image[0])), image[0].transpose(1, 0, 2))
    with pytest.raises(ValueError, match="rank 3 or 4"):
        tf.image.transpose(image[0, 0])
