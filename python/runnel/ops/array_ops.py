"""Array functions under TensorFlow's names, composed from the generated op functions."""
import builtins

import numpy as np

from runnel.framework import constant_op
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework import tensor_shape
from runnel.framework.api_export import tf_export
from runnel.ops import gen_ops


@tf_export("placeholder")
def placeholder(dtype, shape=None, name=None):
    """A value fed at run time; `shape=None` accepts any shape."""
    return gen_ops.placeholder(dtype=dtypes.as_dtype(dtype),
                               shape=tensor_shape.TensorShape(shape), name=name)


@tf_export("placeholder_with_default")
def placeholder_with_default(input, shape, name=None):  # noqa: A002 - TensorFlow's name
    return gen_ops.placeholder_with_default(input, shape=tensor_shape.TensorShape(shape),
                                            name=name)


@tf_export("identity_n")
def identity_n(input, name=None):  # noqa: A002
    return list(gen_ops.identity_n(list(input), name=name))


@tf_export("transpose")
def transpose(a, perm=None, name="transpose", conjugate=False):
    a = ops.convert_to_tensor(a)
    if perm is None:
        rank = a.shape.ndims
        if rank is not None:
            perm = list(range(rank - 1, -1, -1))
        else:
            r = gen_ops.rank(a)
            perm = gen_ops.range(r - 1, -1, -1)
    return gen_ops.transpose(a, perm, name=name)


@tf_export("shape")
def shape(input, name=None, out_type=dtypes.int32):  # noqa: A002
    return gen_ops.shape(input, out_type=out_type, name=name)


@tf_export("shape_n")
def shape_n(input, out_type=dtypes.int32, name=None):  # noqa: A002
    return list(gen_ops.shape_n(list(input), out_type=out_type, name=name))


@tf_export("size")
def size(input, name=None, out_type=dtypes.int32):  # noqa: A002
    return gen_ops.size(input, out_type=out_type, name=name)


@tf_export("expand_dims")
def expand_dims(input, axis=None, name=None, dim=None):  # noqa: A002
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("expand_dims needs `axis`")
    return gen_ops.expand_dims(input, axis, name=name)


@tf_export("squeeze")
def squeeze(input, axis=None, name=None, squeeze_dims=None):  # noqa: A002
    axis = squeeze_dims if axis is None else axis
    if isinstance(axis, int):
        axis = [axis]
    return gen_ops.squeeze(input, squeeze_dims=list(axis or []), name=name)


@tf_export("concat")
def concat(values, axis, name="concat"):
    values = list(values)
    if len(values) == 1:
        return gen_ops.identity(values[0], name=name)
    return gen_ops.concat_v2(values, axis, name=name)


@tf_export("stack")
def stack(values, axis=0, name="stack"):
    return gen_ops.pack(list(values), axis=axis, name=name)


@tf_export("unstack")
def unstack(value, num=None, axis=0, name="unstack"):
    value = ops.convert_to_tensor(value)
    if num is None:
        if value.shape.ndims is None or value.shape[axis].value is None:
            raise ValueError(f"cannot infer num from shape {value.shape}")
        num = value.shape[axis].value
    result = gen_ops.unpack(value, num=num, axis=axis, name=name)
    return list(result) if isinstance(result, (list, tuple)) else [result]


@tf_export("split")
def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    if isinstance(num_or_size_splits, int):
        return list(gen_ops.split(axis, value, num_split=num_or_size_splits, name=name))
    sizes = ops.convert_to_tensor(num_or_size_splits)
    if num is None:
        if sizes.shape.ndims != 1 or sizes.shape[0].value is None:
            raise ValueError("cannot infer the number of splits; pass `num`")
        num = sizes.shape[0].value
    return list(gen_ops.split_v(value, sizes, axis, num_split=num, name=name))


@tf_export("slice")
def slice(input_, begin, size, name=None):  # noqa: A001 - TensorFlow's name
    return gen_ops.slice(input_, begin, size, name=name)


@tf_export("strided_slice")
def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    if strides is None:
        strides = [1] * len(begin)
    return gen_ops.strided_slice(input_, begin, end, strides, begin_mask=begin_mask,
                                 end_mask=end_mask, ellipsis_mask=ellipsis_mask,
                                 new_axis_mask=new_axis_mask,
                                 shrink_axis_mask=shrink_axis_mask, name=name)


def _filled(value, shape, dtype, name):
    """A constant when small; else Fill, as TensorFlow does, so a large tensor of one value
    is never spelled out element by element in the graph."""
    dtype = dtypes.as_dtype(dtype)
    if not isinstance(shape, ops.Tensor):
        dims = [int(d) for d in (shape.as_list() if hasattr(shape, "as_list") else shape)]
        if int(np.prod(dims, dtype=np.int64)) < 1000:
            return constant_op.constant(value, dtype=dtype, shape=dims, name=name)
        shape = constant_op.constant(dims, dtype=dtypes.int32)
    return gen_ops.fill(shape, constant_op.constant(value, dtype=dtype), name=name)


@tf_export("zeros")
def zeros(shape, dtype=dtypes.float32, name=None):
    return _filled(0, shape, dtype, name or "zeros")


@tf_export("ones")
def ones(shape, dtype=dtypes.float32, name=None):
    return _filled(1, shape, dtype, name or "ones")


@tf_export("zeros_like")
def zeros_like(tensor, dtype=None, name=None, optimize=True):
    tensor = ops.convert_to_tensor(tensor)
    if dtype is not None and dtypes.as_dtype(dtype) != tensor.dtype:
        return zeros(shape(tensor), dtype=dtype, name=name)
    return gen_ops.zeros_like(tensor, name=name)


@tf_export("ones_like")
def ones_like(tensor, dtype=None, name=None, optimize=True):
    tensor = ops.convert_to_tensor(tensor)
    if dtype is not None and dtypes.as_dtype(dtype) != tensor.dtype:
        return ones(shape(tensor), dtype=dtype, name=name)
    return gen_ops.ones_like(tensor, name=name)


@tf_export("gather")
def gather(params, indices, validate_indices=None, name=None, axis=None, batch_dims=0):
    return gen_ops.gather_v2(params, indices, 0 if axis is None else axis,
                             batch_dims=batch_dims, name=name)


@tf_export("one_hot")
def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    if dtype is None:
        dtype = (ops.convert_to_tensor(on_value).dtype if on_value is not None
                 else dtypes.float32)
    dtype = dtypes.as_dtype(dtype)
    on = constant_op.constant(1 if on_value is None else on_value, dtype=dtype) \
        if not isinstance(on_value, ops.Tensor) else on_value
    off = constant_op.constant(0 if off_value is None else off_value, dtype=dtype) \
        if not isinstance(off_value, ops.Tensor) else off_value
    return gen_ops.one_hot(indices, depth, on, off, axis=-1 if axis is None else axis,
                           name=name)


@tf_export("pad")
def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    if mode.upper() != "CONSTANT":
        raise NotImplementedError(f"pad mode {mode} is not supported yet (only CONSTANT)")
    if isinstance(constant_values, (int, float)) and constant_values == 0:
        return gen_ops.pad(tensor, paddings, name=name)
    tensor = ops.convert_to_tensor(tensor)
    return gen_ops.pad_v2(tensor, paddings, ops.convert_to_tensor(constant_values, tensor.dtype),
                          name=name)


@tf_export("where")
def where(condition, x=None, y=None, name=None):
    """Elementwise x where condition else y (TF1 `tf.where`: condition matches x's shape,
    or is a vector over its first dim). With only `condition`: the coordinates of its true
    elements, an int64 tensor [number true, rank]."""
    if x is None and y is None:
        return gen_ops.where(condition, name=name)
    if x is None or y is None:
        raise ValueError("tf.where needs both x and y, or neither")
    return gen_ops.select(condition, x, y, name=name)


@tf_export("where_v2")
def where_v2(condition, x=None, y=None, name=None):
    if x is None and y is None:
        return gen_ops.where(condition, name=name)
    if x is None or y is None:
        raise ValueError("tf.where_v2 needs both x and y, or neither")
    return gen_ops.select_v2(condition, x, y, name=name)


@tf_export("cast")
def cast(x, dtype, name=None):
    x = ops.convert_to_tensor(x)
    dtype = dtypes.as_dtype(dtype)
    if x.dtype.base_dtype == dtype:
        return x
    return gen_ops.cast(x, DstT=dtype, name=name)


def slice_helper(tensor, slice_spec):
    """tensor[...] as one StridedSlice: ints, slices with steps, Ellipsis, None/newaxis."""
    if not isinstance(slice_spec, tuple):
        slice_spec = (slice_spec,)
    begin, end, strides = [], [], []
    begin_mask = end_mask = ellipsis_mask = new_axis_mask = shrink_axis_mask = 0
    for i, s in enumerate(slice_spec):
        if isinstance(s, builtins.slice):
            begin.append(0 if s.start is None else s.start)
            end.append(0 if s.stop is None else s.stop)
            strides.append(1 if s.step is None else s.step)
            if s.start is None:
                begin_mask |= 1 << i
            if s.stop is None:
                end_mask |= 1 << i
        elif s is Ellipsis:
            begin.append(0)
            end.append(0)
            strides.append(1)
            ellipsis_mask |= 1 << i
        elif s is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            new_axis_mask |= 1 << i
        else:
            if isinstance(s, (bool, np.bool_)):
                raise TypeError("tensor indices must be ints, slices, Ellipsis or None")
            begin.append(s)
            end.append(s + 1)
            strides.append(1)
            shrink_axis_mask |= 1 << i

    def pack(values):
        if any(isinstance(v, ops.Tensor) for v in values):
            return stack([cast(v, dtypes.int32) if isinstance(v, ops.Tensor) else v
                          for v in values])
        return constant_op.constant(values, dtype=dtypes.int32)

    return strided_slice(tensor, pack(begin), pack(end), pack(strides),
                         begin_mask=begin_mask, end_mask=end_mask, ellipsis_mask=ellipsis_mask,
                         new_axis_mask=new_axis_mask, shrink_axis_mask=shrink_axis_mask,
                         name="strided_slice")
