"""Every kernel against numpy: several shapes (broadcasting, empty tensors, scalars) and
dtypes per op. `test_every_op_is_covered` fails when an op is registered without a test, or
when the test named for it does not run it."""
import pathlib

import numpy as np
import pytest

import conftest
import runnel as tf
from runnel import _runnel
from runnel.framework import op_def_library

FLOATS = [np.float32, np.float64]
INTS = [np.int32, np.int64]
SIGNED = FLOATS + INTS + [np.int16, np.int8]
REAL = SIGNED + [np.uint8]
RNG = np.random.default_rng(0)


def run(fn, *arrays, feed=True):
    """Builds fn(*placeholders) in a fresh graph and runs it on `arrays`."""
    with tf.Graph().as_default() as g:
        if feed:
            phs = [tf.placeholder(tf.as_dtype(a.dtype), a.shape) for a in arrays]
            out = fn(*phs)
            feeds = dict(zip(phs, arrays))
        else:
            out, feeds = fn(*[tf.constant(a) for a in arrays]), {}
        with tf.Session(graph=g) as sess:
            return sess.run(out, feeds)


def kernel_dtypes(op):
    """The dtypes `op`'s CPU kernels take, from the kernel registry (an op without a type
    attribute takes its first input's fixed type)."""
    names = _runnel.kernel_types(op)
    if not names:
        names = [tf.as_dtype(op_def_library.registered_op_defs()[op].input_arg[0].type).name]
    return [tf.as_dtype(name).as_numpy_dtype for name in names]


def data(shape, dtype, low=-5, high=5):
    if np.dtype(dtype) == np.bool_:
        return RNG.random(shape) < 0.5
    if np.issubdtype(dtype, np.unsignedinteger):
        low = max(low, 0)
    values = RNG.uniform(low, high, size=shape)
    if np.issubdtype(dtype, np.integer):
        values = np.round(values)
    return np.asarray(values, dtype=dtype)


def check(got, want, dtype, atol=None):
    want = np.asarray(want)
    assert got.shape == want.shape
    if np.issubdtype(np.dtype(dtype), np.floating):
        rtol = 1e-5 if np.dtype(dtype) == np.float32 else 1e-10
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol if atol is None else atol)
    else:
        np.testing.assert_array_equal(got, want)


# --- elementwise ------------------------------------------------------------------------
def _trunc_div(x, y):
    return np.trunc(x / y).astype(x.dtype) if np.issubdtype(x.dtype, np.integer) else x / y


def _selu(x):
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return np.where(x > 0, scale * x, scale * alpha * np.expm1(x))


UNARY = {
    "Neg": (tf.negative, np.negative, None),
    "Abs": (tf.abs, np.abs, None),
    "Square": (tf.square, np.square, None),
    "Sign": (tf.sign, np.sign, None),
    "Round": (tf.round, np.round, None),
    "Sqrt": (tf.sqrt, np.sqrt, (0.1, 9)),
    "Rsqrt": (tf.math.rsqrt, lambda x: 1 / np.sqrt(x), (0.1, 9)),
    "Reciprocal": (tf.math.reciprocal, np.reciprocal, (0.5, 9)),
    "Exp": (tf.exp, np.exp, None),
    "Expm1": (tf.math.expm1, np.expm1, None),
    "Log": (tf.log, np.log, (0.1, 9)),
    "Log1p": (tf.math.log1p, np.log1p, (-0.9, 9)),
    "Floor": (tf.floor, np.floor, None),
    "Ceil": (tf.ceil, np.ceil, None),
    "Sigmoid": (tf.sigmoid, lambda x: 1 / (1 + np.exp(-x)), None),
    "Tanh": (tf.tanh, np.tanh, None),
    "Relu": (tf.nn.relu, lambda x: np.maximum(x, 0), None),
    "Relu6": (tf.nn.relu6, lambda x: np.clip(x, 0, 6), (-3, 9)),
    "Elu": (tf.nn.elu, lambda x: np.where(x > 0, x, np.expm1(x)), None),
    "Selu": (tf.nn.selu, _selu, None),
    "LeakyRelu": (lambda x: tf.nn.leaky_relu(x, alpha=0.3),
                  lambda x: np.where(x > 0, x, np.float32(0.3).astype(x.dtype) * x), None),
    "Softplus": (tf.nn.softplus, lambda x: np.logaddexp(0, x), (-30, 30)),
    "Softsign": (tf.nn.softsign, lambda x: x / (np.abs(x) + 1), None),
    "LogicalNot": (tf.logical_not, np.logical_not, None),
}
UNARY_SHAPES = [(), (7,), (2, 3, 4), (0,), (3, 0, 2), (2049,)]


@pytest.mark.parametrize("op", sorted(UNARY))
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_unary(op, shape):
    fn, ref, value_range = UNARY[op]
    for dtype in kernel_dtypes(op):
        x = data(shape, dtype, *(value_range or (-5, 5)))
        with np.errstate(all="ignore"):
            want = ref(x).astype(dtype)
        check(run(fn, x), want, dtype)


def _floordiv(x, y):
    return np.floor_divide(x, y)


BINARY = {
    "AddV2": (tf.add, np.add),
    "Add": (tf.raw_ops.add, np.add),
    "Sub": (tf.subtract, np.subtract),
    "Mul": (tf.multiply, np.multiply),
    "RealDiv": (tf.realdiv, _trunc_div),
    "Div": (tf.div, lambda x, y: np.floor_divide(x, y) if x.dtype.kind in "iu" else x / y),
    "FloorDiv": (tf.floordiv, _floordiv),
    "FloorMod": (tf.floormod, np.mod),
    "Pow": (tf.pow, np.power),
    "Maximum": (tf.maximum, np.maximum),
    "Minimum": (tf.minimum, np.minimum),
    "SquaredDifference": (tf.squared_difference, lambda x, y: (x - y) ** 2),
    "Equal": (tf.equal, np.equal),
    "NotEqual": (tf.not_equal, np.not_equal),
    "Less": (tf.less, np.less),
    "LessEqual": (tf.less_equal, np.less_equal),
    "Greater": (tf.greater, np.greater),
    "GreaterEqual": (tf.greater_equal, np.greater_equal),
    "LogicalAnd": (tf.logical_and, np.logical_and),
    "LogicalOr": (tf.logical_or, np.logical_or),
}
BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((), (2, 3)),
                 ((2, 3), ()), ((0, 3), (3,)), ((2, 1, 3), (4, 1)), ((), ()),
                 ((64, 65), (64, 65)), ((5, 1, 7), (1, 6, 1))]


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
def test_binary(op, shapes):
    fn, ref = BINARY[op]
    for dtype in kernel_dtypes(op):
        x = data(shapes[0], dtype)
        y = data(shapes[1], dtype)
        if op in ("RealDiv", "Div", "FloorDiv", "FloorMod"):
            y = np.where(y == 0, np.asarray(3, dtype), y).astype(dtype)
        if op == "Pow":
            x = np.abs(x) + np.asarray(0.5, dtype)
            if np.issubdtype(dtype, np.integer):  # no negative powers; no int8 overflow
                y = (np.abs(y) % 3).astype(dtype)
        want = np.asarray(ref(x, y))
        if want.dtype != np.bool_:
            want = want.astype(dtype)
        check(run(fn, x, y), want, dtype)


def test_integer_division_by_zero_raises():
    with pytest.raises(tf.errors.InvalidArgumentError, match="division by zero"):
        run(tf.floordiv, np.array([1, 2], np.int32), np.array([0, 1], np.int32))


def test_add_n():
    for dtype in REAL:
        xs = [data((3, 4), dtype) for _ in range(4)]
        check(run(lambda *t: tf.add_n(list(t)), *xs), sum(xs).astype(dtype), dtype)
    check(run(lambda *t: tf.add_n(list(t)), *[data((0, 2), np.float32)] * 2),
          np.zeros((0, 2)), np.float32)


# --- matrix products --------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("m,k,n", [(3, 4, 5), (1, 7, 1), (0, 3, 2), (2, 0, 3), (67, 129, 33)])
def test_matmul(dtype, ta, tb, m, k, n):
    a = data((k, m) if ta else (m, k), dtype, -3, 3)
    b = data((n, k) if tb else (k, n), dtype, -3, 3)
    want = (a.T if ta else a) @ (b.T if tb else b)
    # Sums of k products of values up to 3 lose about k * 9 * eps to rounding.
    atol = k * 9 * np.finfo(dtype).eps * 4 if np.dtype(dtype).kind == "f" else None
    check(run(lambda x, y: tf.matmul(x, y, transpose_a=ta, transpose_b=tb), a, b), want, dtype,
          atol)


@pytest.mark.parametrize("xs,ys", [((2, 3, 4), (2, 4, 5)), ((3, 4), (2, 4, 2)),
                                   ((2, 1, 3, 4), (5, 4, 2)), ((0, 2, 2), (0, 2, 2))])
@pytest.mark.parametrize("adj", [(False, False), (True, False), (False, True)])
def test_batch_matmul_v2(xs, ys, adj):
    x, y = data(xs, np.float32), data(ys, np.float32)
    if adj[0]:
        x = np.swapaxes(x, -1, -2).copy()
    if adj[1]:
        y = np.swapaxes(y, -1, -2).copy()
    want = (np.swapaxes(x, -1, -2) if adj[0] else x) @ (np.swapaxes(y, -1, -2) if adj[1] else y)
    got = run(lambda a, b: tf.raw_ops.batch_mat_mul_v2(a, b, adj_x=adj[0], adj_y=adj[1]), x, y)
    check(got, want, np.float32)


def test_batch_matmul_v1_needs_equal_batches():
    x, y = data((2, 3, 4), np.float64), data((2, 4, 5), np.float64)
    check(run(tf.raw_ops.batch_mat_mul, x, y), x @ y, np.float64)
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch dims differ"):
        run(tf.raw_ops.batch_mat_mul, data((2, 3, 4), np.float32), data((3, 4, 5), np.float32))


# --- nn ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("shape,fmt", [((4, 3), "NHWC"), ((2, 5, 5, 3), "NHWC"),
                                       ((2, 3, 5, 5), "NCHW"), ((0, 3), "NHWC")])
def test_bias_add(dtype, shape, fmt):
    x = data(shape, dtype)
    c = shape[1] if fmt == "NCHW" else shape[-1]
    b = data((c,), dtype)
    want = x + (b.reshape((1, c) + (1,) * (len(shape) - 2)) if fmt == "NCHW" else b)
    check(run(lambda v, w: tf.nn.bias_add(v, w, data_format=fmt), x, b), want, dtype)
    check(run(tf.raw_ops.bias_add_v1, x, b), x + b, dtype) if fmt == "NHWC" else None


@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("shape,fmt", [((4, 3), "NHWC"), ((2, 5, 5, 3), "NHWC"),
                                       ((2, 3, 5, 5), "NCHW"), ((0, 3), "NHWC")])
def test_bias_add_grad(dtype, shape, fmt):
    dy = data(shape, dtype)
    axes = tuple(i for i in range(len(shape)) if i != (1 if fmt == "NCHW" else len(shape) - 1))
    check(run(lambda t: tf.raw_ops.bias_add_grad(t, data_format=fmt), dy), dy.sum(axis=axes),
          dtype)


@pytest.mark.parametrize("s0,s1", [((2, 3), (3,)), ((2, 1, 4), (3, 1)), ((), (2, 2)),
                                   ((5,), (5,)), ((1,), (1, 1))])
def test_broadcast_gradient_args(s0, s1):
    r0, r1 = run(lambda a, b: tf.raw_ops.broadcast_gradient_args(a, b),
                 np.array(s0, np.int32), np.array(s1, np.int32))
    # Summing an operand-shaped array broadcast to the output over r gives its shape back.
    out = np.broadcast_shapes(s0, s1)
    for shape, r in ((s0, r0), (s1, r1)):
        reduced = np.ones(out).sum(axis=tuple(r.tolist()))
        assert reduced.size == int(np.prod(shape))
        assert np.all(reduced == np.prod(out) / max(np.prod(shape), 1))


@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (0, 2)])
def test_relu_grad(dtype, shape):
    dy, x = data(shape, dtype), data(shape, dtype)
    check(run(tf.raw_ops.relu_grad, dy, x), np.where(x > 0, dy, 0).astype(dtype), dtype)


SELU_SCALE, SELU_ALPHA = 1.0507009873554805, 1.6732632423543772


@pytest.mark.parametrize("dtype", FLOATS)
def test_activation_grad_ops(dtype):
    dy, x = data((4, 5), dtype), data((4, 5), dtype) * 4
    elu, selu = np.where(x > 0, x, np.expm1(x)), SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))
    cases = [
        (tf.raw_ops.Relu6Grad(gradients=dy, features=x), np.where((x > 0) & (x < 6), dy, 0)),
        (tf.raw_ops.LeakyReluGrad(gradients=dy, features=x, alpha=0.25),
         np.where(x > 0, dy, 0.25 * dy)),
        (tf.raw_ops.EluGrad(gradients=dy, outputs=elu), np.where(x > 0, dy, dy * np.exp(x))),
        (tf.raw_ops.SeluGrad(gradients=dy, outputs=selu),
         np.where(x > 0, SELU_SCALE * dy, dy * SELU_SCALE * SELU_ALPHA * np.exp(x))),
        (tf.raw_ops.SoftplusGrad(gradients=dy, features=x), dy / (1 + np.exp(-x))),
    ]
    with tf.Session() as sess:
        for got, expected in zip(sess.run([c[0] for c in cases]), [c[1] for c in cases]):
            check(got, expected.astype(dtype), dtype)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(5,), (3, 10), (2, 3, 4), (0, 4)])
def test_softmax_and_log_softmax(dtype, shape):
    x = data(shape, dtype) * 10
    check(run(tf.nn.softmax, x), _softmax(x), dtype)
    with np.errstate(divide="ignore"):
        check(run(tf.nn.log_softmax, x), np.log(_softmax(x)), dtype)
    if len(shape) == 3:
        check(run(lambda t: tf.nn.softmax(t, axis=1), x), _softmax(x, axis=1), dtype)


# --- reductions -------------------------------------------------------------------------
REDUCTIONS = {"Sum": (tf.reduce_sum, np.sum), "Mean": (tf.reduce_mean, np.mean),
              "Max": (tf.reduce_max, np.max), "Min": (tf.reduce_min, np.min),
              "Prod": (tf.reduce_prod, np.prod)}


@pytest.mark.parametrize("op", sorted(REDUCTIONS))
@pytest.mark.parametrize("shape,axis", [((2, 3, 4), None), ((2, 3, 4), 1), ((2, 3, 4), (0, 2)),
                                        ((2, 3, 4), -1), ((5,), 0), ((), None),
                                        ((3, 0), 0), ((4, 1, 3), (0, 1)), ((1000, 3), 0)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(op, shape, axis, keepdims):
    fn, ref = REDUCTIONS[op]
    for dtype in FLOATS + INTS:
        x = data(shape, dtype, -2, 2)
        if op in ("Max", "Min") and x.size == 0:
            continue
        want = ref(x, axis=axis, keepdims=keepdims)
        if op == "Mean" and np.issubdtype(dtype, np.integer):
            want = np.trunc(np.sum(x, axis=axis, keepdims=keepdims) /
                            max(x.size // max(np.asarray(want).size, 1), 1))
        check(run(lambda t: fn(t, axis=axis, keepdims=keepdims), x),
              np.asarray(want).astype(dtype), dtype)


@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumsum_cumprod(dtype, axis, exclusive, reverse):
    x = data((3, 4), dtype, -3, 3)

    def ref(op, identity):
        y = np.flip(x, axis) if reverse else x
        out = op(y, axis=axis)
        if exclusive:
            out = np.concatenate([np.full_like(np.take(out, [0], axis), identity),
                                  np.delete(out, -1, axis)], axis)
        return np.flip(out, axis) if reverse else out
    for fn, op, identity in ((tf.cumsum, np.cumsum, 0), (tf.cumprod, np.cumprod, 1)):
        got = run(lambda t: fn(t, axis, exclusive=exclusive, reverse=reverse), x)
        check(got, ref(op, identity).astype(dtype), dtype)


@pytest.mark.parametrize("shape,axis", [((3, 4), 1), ((2, 3, 4), (0, 2)), ((), None), ((0, 2), 0)])
def test_all_any(shape, axis):
    x = data(shape, np.bool_)
    check(run(lambda t: tf.reduce_all(t, axis=axis), x), np.all(x, axis=axis), np.bool_)
    check(run(lambda t: tf.reduce_any(t, axis=axis), x), np.any(x, axis=axis), np.bool_)


@pytest.mark.parametrize("dtype", REAL)
@pytest.mark.parametrize("shape,axis", [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -2)])
def test_argmax_argmin(dtype, shape, axis):
    x = data(shape, dtype)
    check(run(lambda t: tf.argmax(t, axis=axis), x), np.argmax(x, axis=axis), np.int64)
    check(run(lambda t: tf.argmin(t, axis=axis, output_type=tf.int32), x),
          np.argmin(x, axis=axis).astype(np.int32), np.int32)


# --- casts and array ops ----------------------------------------------------------------
@pytest.mark.parametrize("src", REAL + [np.bool_])
@pytest.mark.parametrize("dst", REAL + [np.bool_])
def test_cast(src, dst):
    x = data((3, 4), src, -100, 100)
    want = x.astype(np.float64).astype(dst) if np.dtype(dst) != np.bool_ else x != 0
    if np.issubdtype(np.dtype(dst), np.integer) and np.dtype(src).kind == "f":
        x = np.clip(x, 0, 100).astype(src)
        want = np.trunc(x).astype(dst)
    elif np.dtype(dst) != np.bool_:
        want = x.astype(dst)
    check(run(lambda t: tf.cast(t, tf.as_dtype(dst)), x), want, dst)


def test_identity_family_and_placeholder_with_default():
    x = data((2, 3), np.float32)
    check(run(tf.identity, x), x, np.float32)
    check(run(tf.stop_gradient, x), x, np.float32)
    a, b = run(lambda t, u: tf.identity_n([t, u]), x, x * 2)
    check(a, x, np.float32)
    check(b, x * 2, np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        d = tf.placeholder_with_default(tf.constant([1.0, 2.0]), shape=[None])
        noop = tf.raw_ops.no_op()
        check(sess.run(d), np.array([1.0, 2.0]), np.float32)
        check(sess.run(d, {d: np.array([5.0, 6.0, 7.0], np.float32)}), [5.0, 6.0, 7.0], np.float32)
        assert sess.run(noop) is None


@pytest.mark.parametrize("dtype", REAL + [np.bool_])
def test_reshape_transpose_expand_squeeze(dtype):
    x = data((2, 3, 4), dtype)
    check(run(lambda t: tf.reshape(t, [4, -1]), x), x.reshape(4, -1), dtype)
    check(run(lambda t: tf.reshape(t, [-1]), x), x.reshape(-1), dtype)
    for perm in [(0, 1, 2), (2, 0, 1), (1, 0, 2), (2, 1, 0)]:
        check(run(lambda t: tf.transpose(t, perm), x), x.transpose(perm), dtype)
    check(run(tf.transpose, x), x.T, dtype)
    check(run(lambda t: tf.expand_dims(t, -1), x), x[..., None], dtype)
    check(run(lambda t: tf.expand_dims(t, 0), x), x[None], dtype)
    y = data((1, 3, 1), dtype)
    check(run(tf.squeeze, y), y.squeeze(), dtype)
    check(run(lambda t: tf.squeeze(t, [2]), y), y.squeeze(2), dtype)


def test_shape_size_rank():
    x = data((2, 0, 5), np.float32)
    check(run(tf.shape, x), np.array([2, 0, 5], np.int32), np.int32)
    check(run(lambda t: tf.shape(t, out_type=tf.int64), x), np.array([2, 0, 5]), np.int64)
    check(run(tf.size, x), np.int32(0), np.int32)
    check(run(tf.rank, x), np.int32(3), np.int32)
    a, b = run(lambda t: tf.shape_n([t, t[0]]), x)
    check(b, np.array([0, 5], np.int32), np.int32)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_, np.uint8])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat_stack_unstack(dtype, axis):
    xs = [data((2, 3), dtype), data((2, 3), dtype), data((2, 3), dtype)]
    check(run(lambda *t: tf.concat(list(t), axis), *xs), np.concatenate(xs, axis), dtype)
    check(run(lambda *t: tf.stack(list(t), axis), *xs), np.stack(xs, axis), dtype)
    parts = run(lambda t: tf.unstack(t, axis=axis), xs[0])
    for got, want in zip(parts, np.moveaxis(xs[0], axis, 0)):
        check(got, want, dtype)
    uneven = [data((2, 1), dtype), data((2, 0), dtype), data((2, 4), dtype)]
    check(run(lambda *t: tf.concat(list(t), 1), *uneven), np.concatenate(uneven, 1), dtype)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_split_and_split_v(axis):
    x = data((6, 6, 6), np.float32)
    for got, want in zip(run(lambda t: tf.split(t, 3, axis), x), np.split(x, 3, axis)):
        check(got, want, np.float32)
    for got, want in zip(run(lambda t: tf.split(t, [1, -1, 2], axis), x),
                         np.split(x, [1, 4], axis)):
        check(got, want, np.float32)


def test_slice_and_strided_slice():
    x = data((4, 5, 6), np.float32)
    check(run(lambda t: tf.slice(t, [1, 0, 2], [2, -1, 3]), x), x[1:3, :, 2:5], np.float32)
    cases = [lambda t: t[1], lambda t: t[-1, ::2], lambda t: t[::-1, 1:-1, ::-2],
             lambda t: t[..., 3], lambda t: t[None, 1:3, tf.newaxis, ..., 0],
             lambda t: t[:, 4:1:-1], lambda t: t[2:2], lambda t: t[1:100, -100:2]]
    for f in cases:
        check(run(f, x), f(x), np.float32)


def test_strided_slice_grad():
    dy = data((2, 2), np.float32)  # x[1:4:2, -1:0:-2] of a [4, 5] tensor
    got = run(lambda t: tf.raw_ops.strided_slice_grad([4, 5], [1, -1], [4, 0], [2, -2], t,
                                                        begin_mask=0), dy)
    want = np.zeros((4, 5), np.float32)
    want[1:4:2, -1:0:-2] = dy
    check(got, want, np.float32)


@pytest.mark.parametrize("ids_dtype", [np.int32, np.int64])
def test_unsorted_segment_sum(ids_dtype):
    x = data((5, 3), np.float64)
    ids = np.array([2, 0, 2, 4, 0], ids_dtype)
    want = np.zeros((6, 3))
    np.add.at(want, ids, x)
    check(run(lambda t, i: tf.raw_ops.unsorted_segment_sum(t, i, 6), x, ids), want, np.float64)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"segment_ids\[3\] = 4"):
        run(lambda t, i: tf.raw_ops.unsorted_segment_sum(t, i, 4), x, ids)


def test_strided_slice_out_of_range_index_raises():
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
        run(lambda t: t[7], data((3,), np.float32))


@pytest.mark.parametrize("dtype", REAL + [np.bool_])
def test_fill_zeros_ones_like(dtype):
    x = data((2, 3), dtype)
    check(run(tf.zeros_like, x), np.zeros_like(x), dtype)
    check(run(tf.ones_like, x), np.ones_like(x), dtype)
    value = x.reshape(-1)[0]
    check(run(lambda v: tf.fill([3, 2], v), np.asarray(value)), np.full((3, 2), value), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_])
@pytest.mark.parametrize("shape,multiples", [((2, 3), (2, 1)), ((3,), (4,)), ((2, 1, 2), (1, 3, 2)),
                                             ((2, 3), (0, 2))])
def test_tile(dtype, shape, multiples):
    x = data(shape, dtype)
    check(run(lambda t: tf.tile(t, multiples), x), np.tile(x, multiples), dtype)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_gather(axis, index_dtype):
    x = data((4, 5, 3), np.float32)
    idx = np.array([[3, 0], [1, 1]], index_dtype) % x.shape[axis]
    check(run(lambda p, i: tf.gather(p, i, axis=axis), x, idx), np.take(x, idx, axis=axis),
          np.float32)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_one_hot(axis):
    idx = np.array([[0, 2, -1], [1, 5, 3]], np.int64)
    depth = 4
    want = np.eye(depth, dtype=np.float32)[np.where((idx >= 0) & (idx < depth), idx, depth - 1)]
    want[(idx < 0) | (idx >= depth)] = 0
    want = np.moveaxis(want, -1, axis) if axis != -1 else want
    check(run(lambda i: tf.one_hot(i, depth, axis=axis), idx), want, np.float32)
    got = run(lambda i: tf.one_hot(i, 3, on_value=5, off_value=-1), np.array([2, 0], np.int32))
    check(got, np.array([[-1, -1, 5], [5, -1, -1]], np.int32), np.int32)


def test_range():
    check(run(lambda: tf.range(5), feed=False), np.arange(5, dtype=np.int32), np.int32)
    check(run(lambda: tf.range(2, 11, 3), feed=False), np.arange(2, 11, 3, dtype=np.int32), np.int32)
    check(run(lambda: tf.range(5, 0, -2), feed=False), np.arange(5, 0, -2, dtype=np.int32), np.int32)
    check(run(lambda: tf.range(0.0, 1.0, 0.25), feed=False), np.arange(0, 1, 0.25, np.float32),
          np.float32)
    check(run(lambda: tf.range(3, dtype=tf.int64), feed=False), np.arange(3), np.int64)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.uint8])
def test_pad(dtype):
    x = data((2, 3), dtype)
    pads = [[1, 0], [2, 1]]
    check(run(lambda t: tf.pad(t, pads), x), np.pad(x, pads), dtype)
    check(run(lambda t: tf.pad(t, pads, constant_values=7), x),
          np.pad(x, pads, constant_values=7), dtype)
    check(run(lambda t: tf.pad(t, [[0, 0], [0, 0]]), x), x, dtype)


def test_select_and_select_v2():
    c = data((3, 4), np.bool_)
    a, b = data((3, 4), np.float32), data((3, 4), np.float32)
    check(run(tf.where, c, a, b), np.where(c, a, b), np.float32)
    rows = data((3,), np.bool_)
    check(run(tf.where, rows, a, b), np.where(rows[:, None], a, b), np.float32)
    col = data((3, 1), np.bool_)
    row = data((4,), np.float32)
    check(run(tf.where_v2, col, row, np.float32(-1)), np.where(col, row, -1), np.float32)


def test_const_of_every_dtype():
    for dtype in REAL + [np.bool_]:
        x = data((2, 2), dtype)
        check(run(lambda: tf.constant(x), feed=False), x, dtype)


# Which test covers each registered op (runtime-internal ops are covered by the C++ tests).
_DATA_FLOW = "test_data_flow.py::"
COVERAGE = {
    **{op: _DATA_FLOW + "test_fifo_queue_keeps_order_and_stacks_dequeue_many"
       for op in ("FIFOQueue", "QueueEnqueue", "QueueEnqueueMany", "QueueDequeue",
                  "QueueDequeueMany", "QueueSize")},
    "QueueClose": _DATA_FLOW + "test_closed_queue_drains_then_fails",
    **{op: _DATA_FLOW + "test_conditional_accumulator_averages_and_drops_stale_gradients"
       for op in ("ConditionalAccumulator", "AccumulatorApplyGradient",
                  "AccumulatorTakeGradient", "AccumulatorNumAccumulated",
                  "AccumulatorSetGlobalStep")},
    **{op: "test_unary" for op in UNARY}, **{op: "test_binary" for op in BINARY},
    **{op: "test_reductions" for op in REDUCTIONS},
    "Cumsum": "test_cumsum_cumprod", "Cumprod": "test_cumsum_cumprod",
    "All": "test_all_any", "Any": "test_all_any", "AddN": "test_add_n",
    "MatMul": "test_matmul", "BatchMatMulV2": "test_batch_matmul_v2",
    "BatchMatMul": "test_batch_matmul_v1_needs_equal_batches",
    "BiasAdd": "test_bias_add", "BiasAddV1": "test_bias_add", "BiasAddGrad": "test_bias_add_grad",
    "BroadcastGradientArgs": "test_broadcast_gradient_args", "ReluGrad": "test_relu_grad",
    **{op: "test_activation_grad_ops"
       for op in ("Relu6Grad", "LeakyReluGrad", "EluGrad", "SeluGrad", "SoftplusGrad")},
    "Softmax": "test_softmax_and_log_softmax", "LogSoftmax": "test_softmax_and_log_softmax",
    "ArgMax": "test_argmax_argmin", "ArgMin": "test_argmax_argmin", "Cast": "test_cast",
    "Identity": "test_identity_family_and_placeholder_with_default",
    "IdentityN": "test_identity_family_and_placeholder_with_default",
    "StopGradient": "test_identity_family_and_placeholder_with_default",
    "PlaceholderWithDefault": "test_identity_family_and_placeholder_with_default",
    "NoOp": "test_identity_family_and_placeholder_with_default",
    "Placeholder": "test_graph_api.py::test_control_dependencies_order_and_feed",  # unfed
    "Const": "test_const_of_every_dtype",
    "Reshape": "test_reshape_transpose_expand_squeeze",
    "Transpose": "test_reshape_transpose_expand_squeeze",
    "ExpandDims": "test_reshape_transpose_expand_squeeze",
    "Squeeze": "test_reshape_transpose_expand_squeeze",
    "Shape": "test_shape_size_rank", "ShapeN": "test_shape_size_rank",
    "Size": "test_shape_size_rank", "Rank": "test_shape_size_rank",
    "ConcatV2": "test_concat_stack_unstack", "Pack": "test_concat_stack_unstack",
    "Unpack": "test_concat_stack_unstack", "Split": "test_split_and_split_v",
    "SplitV": "test_split_and_split_v", "Slice": "test_slice_and_strided_slice",
    "StridedSlice": "test_slice_and_strided_slice", "StridedSliceGrad": "test_strided_slice_grad",
    "UnsortedSegmentSum": "test_unsorted_segment_sum", "Fill": "test_fill_zeros_ones_like",
    "ZerosLike": "test_fill_zeros_ones_like", "OnesLike": "test_fill_zeros_ones_like",
    "Tile": "test_tile", "GatherV2": "test_gather", "OneHot": "test_one_hot",
    "Range": "test_range", "Pad": "test_pad", "PadV2": "test_pad",
    "Select": "test_select_and_select_v2", "SelectV2": "test_select_and_select_v2",
    # Stateful ops are tested where their state is: file::test.
    **{op: "test_variables.py::test_assign_family_and_persistence_across_runs"
       for op in ("VariableV2", "Assign", "AssignAdd", "AssignSub")},
    "SoftmaxCrossEntropyWithLogits": "test_losses.py::test_softmax_cross_entropy_ops",
    "SparseSoftmaxCrossEntropyWithLogits": "test_losses.py::test_softmax_cross_entropy_ops",
    "L2Loss": "test_losses.py::test_tf_losses_match_numpy",
    "IsVariableInitialized": "test_variables.py::test_uninitialized_read_names_the_variable",
    **{op: "test_optimizers.py::test_update_rule_matches_numpy"
       for op in ("ApplyGradientDescent", "ApplyMomentum", "ApplyAdagrad", "ApplyRMSProp",
                  "ApplyCenteredRMSProp", "ApplyAdam")},
    **{op: "test_variables.py::test_random_ops_statistics_and_seeds"
       for op in ("RandomUniform", "RandomStandardNormal", "TruncatedNormal", "RandomUniformInt")},
    "RandomShuffle": "test_variables.py::test_random_shuffle_and_multinomial",
    "Multinomial": "test_variables.py::test_random_shuffle_and_multinomial",
    **{op: "test_conv_pool.py::test_conv2d_and_backprops"
       for op in ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter")},
    **{op: "test_conv_pool.py::test_depthwise_conv2d_and_backprops"
       for op in ("DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
                  "DepthwiseConv2dNativeBackpropFilter")},
    **{op: "test_conv_pool.py::test_max_and_avg_pool_and_their_gradients"
       for op in ("MaxPool", "AvgPool", "MaxPoolGrad", "AvgPoolGrad")},
    **{op: "test_image_ops.py::test_bilinear_matches_numpy_and_its_gradient_is_the_adjoint"
       for op in ("ResizeBilinear", "ResizeBilinearGrad")},
    **{op: "test_image_ops.py::test_nearest_gradient_is_the_adjoint"
       for op in ("ResizeNearestNeighbor", "ResizeNearestNeighborGrad")},
    **{op: "test_image_ops.py::test_space_to_depth_and_back"
       for op in ("SpaceToDepth", "DepthToSpace")},
    **{op: "test_batch_norm.py::test_lrn_and_its_gradient" for op in ("LRN", "LRNGrad")},
    **{op: "test_batch_norm.py::test_training_and_inference_outputs"
       for op in ("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3")},
    **{op: "test_batch_norm.py::test_gradient_matches_numpy_finite_differences"
       for op in ("FusedBatchNormGrad", "FusedBatchNormGradV2", "FusedBatchNormGradV3")},
    **{op: "test_control_flow.py::test_only_the_taken_branch_runs" for op in ("Switch", "Merge")},
    **{op: "test_while_loop.py::test_while_loop_counts_like_python"
       for op in ("Enter", "Exit", "NextIteration", "LoopCond")},
    "RefEnter": "test_while_loop.py::test_a_cond_inside_the_loop_takes_one_branch_per_iteration",
    "ControlTrigger":
        "test_while_loop.py::test_gradients_through_a_cond_inside_a_loop_match_finite_differences",
    **{op: "test_tensor_array.py::test_write_read_stack_size_and_gather"
       for op in ("TensorArrayV3", "TensorArrayWriteV3", "TensorArrayReadV3",
                  "TensorArrayGatherV3", "TensorArraySizeV3")},
    **{op: "test_tensor_array.py::test_unstack_scatter_split_and_concat"
       for op in ("TensorArrayScatterV3", "TensorArraySplitV3", "TensorArrayConcatV3")},
    **{op: "test_rnn.py::test_reverse_reverse_sequence_clip_and_assert"
       for op in ("ReverseV2", "ReverseSequence", "Assert")},
    **{op: "test_tensor_array.py::test_stack_pops_last_first_and_refuses_an_empty_pop"
       for op in ("StackV2", "StackPushV2", "StackPopV2", "StackCloseV2")},
    **{op: "test_rnn.py::test_lstm_block_cell_and_its_grad_op_match_numpy"
       for op in ("LSTMBlockCell", "LSTMBlockCellGrad")},
    **{op: "test_tensor_array.py::test_close_and_gradient_arrays"
       for op in ("TensorArrayCloseV3", "TensorArrayGradV3")},
    "Where": "test_control_flow.py::test_where_with_one_argument_matches_numpy",
    **{op: "test_image_codecs.py::test_read_file_and_decode_raw" for op in ("ReadFile", "DecodeRaw")},
    **{op: "test_image_codecs.py::test_png_round_trips_and_matches_pil"
       for op in ("DecodePng", "EncodePng")},
    "DecodeJpeg": "test_image_codecs.py::test_jpeg_matches_pil",
    "ScalarSummary":
        "test_summary.py::test_scalar_summaries_take_their_name_scope_as_tag_and_join_merge_all",
    "MergeSummary":
        "test_summary.py::test_merge_all_is_none_without_summaries_and_merge_refuses_a_tag_twice",
    "HistogramSummary":
        "test_summary.py::test_histogram_matches_numpy_statistics_and_tensorflows_buckets",
    "ImageSummary":
        "test_summary.py::test_image_summaries_scale_floats_per_image_and_paint_nonfinite_pixels",
    **{op: "test_conv_pool.py::test_max_pool_v2_and_grad_v2_take_tensor_windows"
       for op in ("MaxPoolV2", "MaxPoolGradV2")},
}


@pytest.mark.after_all_tests
def test_every_op_is_covered(request):
    """Each public op has a test in COVERAGE, and that test runs the op (checked for the
    tests that ran in this session, which is all of them in the full suite)."""
    public = {op for op in op_def_library.registered_op_defs() if not op.startswith("_")}
    missing = public - set(COVERAGE)
    assert not missing, f"ops without a kernel test: {sorted(missing)}"
    here = pathlib.Path(__file__).parent
    for op, test in COVERAGE.items():
        file, _, name = test.rpartition("::")
        source = (here / file).read_text() if file else pathlib.Path(__file__).read_text()
        assert f"def {name}(" in source, f"{op} names a missing test {test}"
    ran = {f"{item.path.name}::{item.originalname}" for item in request.session.items}
    not_run = []
    for op, test in COVERAGE.items():
        key = test if "::" in test else f"{pathlib.Path(__file__).name}::{test}"
        if key in ran and op not in conftest.OPS_RUN[key]:
            not_run.append(f"{op} ({test})")
    assert not not_run, f"tests that do not run the op they cover: {', '.join(not_run)}"
