"""The math functions that compose ops (the ops' own functions come from gen_ops under the
names their registrations declare), and the Tensor operator overloads."""
import builtins

from runnel.framework import dtypes
from runnel.framework.api_export import tf_export
from runnel.framework import ops
from runnel.ops import array_ops
from runnel.ops import gen_ops
from runnel.ops.exports import export_into

@tf_export("math.truediv", "truediv", "math.divide", "divide")
def truediv(x, y, name=None):
    """x / y; integers are first cast to floats (int8/16 and uint8 to float32, int32/64 to
    float64), as in TensorFlow."""
    x = ops.convert_to_tensor(x) if isinstance(x, ops.Tensor) or not isinstance(y, ops.Tensor) \
        else ops.convert_to_tensor(x, dtype=y.dtype)
    y = ops.convert_to_tensor(y, dtype=x.dtype)
    if x.dtype.is_integer:
        target = dtypes.float64 if x.dtype in (dtypes.int32, dtypes.int64) else dtypes.float32
        x, y = array_ops.cast(x, target), array_ops.cast(y, target)
    return gen_ops.real_div(x, y, name=name)


@tf_export("div_no_nan")
def div_no_nan(x, y, name=None):
    """x / y, and 0 where y is 0."""
    x = ops.convert_to_tensor(x)
    y = ops.convert_to_tensor(y, dtype=x.dtype)
    zero = ops.convert_to_tensor(0, dtype=x.dtype)
    safe = gen_ops.select_v2(gen_ops.equal(y, zero), gen_ops.ones_like(y), y)
    return gen_ops.select_v2(gen_ops.equal(y, zero), gen_ops.zeros_like(x * y),
                             gen_ops.real_div(x, safe), name=name)


@tf_export("math.add_n", "add_n")
def add_n(inputs, name=None):
    inputs = list(inputs)
    if len(inputs) == 1:
        return gen_ops.identity(inputs[0], name=name)
    return gen_ops.add_n(inputs, name=name)


@tf_export("matmul")
def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None):
    a = ops.convert_to_tensor(a)
    b = ops.convert_to_tensor(b, dtype=a.dtype)
    ta, tb = transpose_a or adjoint_a, transpose_b or adjoint_b
    if (a.shape.ndims or 2) > 2 or (b.shape.ndims or 2) > 2:
        return gen_ops.batch_mat_mul_v2(a, b, adj_x=ta, adj_y=tb, name=name)
    return gen_ops.mat_mul(a, b, transpose_a=ta, transpose_b=tb, name=name)


def _reduction(op_fn, default_name):
    """tf.reduce_<op> over `axis` (all axes when None), exported as tf.math.reduce_<op> and
    tf.reduce_<op>."""
    def reduce(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
        input_tensor = ops.convert_to_tensor(input_tensor)
        axis = reduction_indices if axis is None else axis
        keepdims = keep_dims if keepdims is None else keepdims
        if axis is None:
            rank = input_tensor.shape.ndims
            axis = list(builtins.range(rank)) if rank is not None else \
                gen_ops.range(0, gen_ops.rank(input_tensor), 1)
        return op_fn(input_tensor, axis, keep_dims=bool(keepdims), name=name or default_name)
    reduce.__name__ = default_name
    api_name = f"reduce_{default_name.lower()}"
    return tf_export(f"math.{api_name}", api_name)(reduce)


reduce_sum = _reduction(gen_ops.sum, "Sum")
reduce_mean = _reduction(gen_ops.mean, "Mean")
reduce_max = _reduction(gen_ops.max, "Max")
reduce_min = _reduction(gen_ops.min, "Min")
reduce_prod = _reduction(gen_ops.prod, "Prod")
reduce_all = _reduction(gen_ops.all, "All")
reduce_any = _reduction(gen_ops.any, "Any")


@tf_export("clip_by_value")
def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """`t` with every element below clip_value_min raised to it and every one above
    clip_value_max lowered to it (Minimum then Maximum, as TensorFlow 1.x builds it)."""
    with ops.name_scope(name, "clip_by_value", [t, clip_value_min, clip_value_max]):
        t = ops.convert_to_tensor(t, name="t")
        lowered = gen_ops.minimum(t, ops.convert_to_tensor(clip_value_max, dtype=t.dtype))
        return gen_ops.maximum(lowered, ops.convert_to_tensor(clip_value_min, dtype=t.dtype))


@tf_export("math.cumsum", "cumsum")
def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    return gen_ops.cumsum(x, axis, exclusive=exclusive, reverse=reverse, name=name)


@tf_export("math.cumprod", "cumprod")
def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    return gen_ops.cumprod(x, axis, exclusive=exclusive, reverse=reverse, name=name)


@tf_export("math.argmax", "argmax")
def argmax(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):  # noqa: A002
    axis = dimension if axis is None else axis
    return gen_ops.arg_max(input, 0 if axis is None else axis, output_type=output_type,
                           name=name)


@tf_export("math.argmin", "argmin")
def argmin(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):  # noqa: A002
    axis = dimension if axis is None else axis
    return gen_ops.arg_min(input, 0 if axis is None else axis, output_type=output_type,
                           name=name)


@tf_export("range")
def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001
    if limit is None:
        start, limit = 0, start
    values = [start, limit, delta]
    if dtype is None:
        tensors = [v for v in values if isinstance(v, ops.Tensor)]
        if tensors:
            dtype = tensors[0].dtype
        elif any(isinstance(v, float) for v in values):
            dtype = dtypes.float32
        else:
            dtype = dtypes.int32
    start, limit, delta = (array_ops.cast(ops.convert_to_tensor(v), dtype)
                           if isinstance(v, ops.Tensor) else ops.convert_to_tensor(v, dtype)
                           for v in values)
    return gen_ops.range(start, limit, delta, name=name)


# The ops' functions under their tf.math names (add, square, log, ...), for this module's
# users as for tf.math.
export_into(globals(), "math")


def _binary(fn, reverse=False):
    def operator(self, other):
        try:
            other = ops.convert_to_tensor(other, dtype=self.dtype)
        except (TypeError, ValueError):
            return NotImplemented
        return fn(other, self) if reverse else fn(self, other)
    return operator


def _override_operators():
    T = ops.Tensor
    for name, fn in [("add", add), ("sub", subtract), ("mul", multiply),
                     ("truediv", truediv), ("floordiv", floordiv), ("mod", floormod),
                     ("pow", pow), ("matmul", matmul)]:
        setattr(T, f"__{name}__", _binary(fn))
        setattr(T, f"__r{name}__", _binary(fn, reverse=True))
    T.__lt__ = _binary(less)
    T.__le__ = _binary(less_equal)
    T.__gt__ = _binary(greater)
    T.__ge__ = _binary(greater_equal)
    T.__and__ = _binary(logical_and)
    T.__rand__ = _binary(logical_and, reverse=True)
    T.__or__ = _binary(logical_or)
    T.__ror__ = _binary(logical_or, reverse=True)
    T.__neg__ = lambda self: negative(self)
    T.__abs__ = lambda self: abs(self)
    T.__invert__ = lambda self: logical_not(self)
    T.__getitem__ = array_ops.slice_helper


_override_operators()
