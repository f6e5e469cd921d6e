"""The tf.nn functions that compose ops (activations that are one op each come from the
op registry's endpoints)."""
from runnel.framework import ops
from runnel.framework.api_export import tf_export
from runnel.ops import gen_ops
from runnel.ops import math_ops


@tf_export("nn.leaky_relu")
def leaky_relu(features, alpha=0.2, name=None):
    return gen_ops.leaky_relu(features, alpha=alpha, name=name)


@tf_export("nn.bias_add")
def bias_add(value, bias, data_format=None, name=None):
    return gen_ops.bias_add(value, bias, data_format=data_format or "NHWC", name=name)


def _over_axis(op_fn):
    def fn(logits, axis=None, name=None, dim=None):
        axis = dim if axis is None else axis
        logits = ops.convert_to_tensor(logits)
        rank = logits.shape.ndims
        if axis is None or axis == -1 or (rank is not None and axis == rank - 1):
            return op_fn(logits, name=name)
        if rank is None:
            raise ValueError("softmax over a non-last axis needs a known rank")
        from runnel.ops import array_ops
        axis %= rank
        perm = list(range(rank))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        moved = op_fn(array_ops.transpose(logits, perm))
        return array_ops.transpose(moved, perm, name=name)
    return fn


softmax = tf_export("nn.softmax", "math.softmax")(_over_axis(gen_ops.softmax))
log_softmax = tf_export("nn.log_softmax", "math.log_softmax")(_over_axis(gen_ops.log_softmax))


@tf_export("nn.xw_plus_b")
def xw_plus_b(x, weights, biases, name=None):
    return bias_add(math_ops.matmul(x, weights), biases, name=name)


# --- sliding-window ops -----------------------------------------------------------------

def _channels_first(data_format):
    return data_format is not None and data_format.startswith("NC")


def _window_list(value, name, data_format):
    """A 4-element list in data-format order from an int, a spatial pair or the full list,
    as TensorFlow accepts them; 1 for batch and channels."""
    if value is None:
        value = 1
    if isinstance(value, int):
        value = [value]
    value = [int(v) for v in value]
    if len(value) == 1:
        value = value * 2
    if len(value) == 2:
        return [1, 1] + value if _channels_first(data_format) else [1] + value + [1]
    if len(value) == 4:
        return value
    raise ValueError(f"{name} must be an int or a list of 1, 2 or 4 ints, got {value}")


def _padding_attrs(padding):
    """(padding, explicit_paddings) from 'SAME'/'VALID' or a list of 4 [before, after] pairs
    in data-format order."""
    if isinstance(padding, (bytes, str)):
        padding = padding.decode() if isinstance(padding, bytes) else padding
        return padding.upper(), []
    pairs = [list(p) for p in padding]
    if len(pairs) != 4 or any(len(p) != 2 for p in pairs):
        raise ValueError(f"explicit padding must be 4 [before, after] pairs, got {padding}")
    return "EXPLICIT", [int(v) for p in pairs for v in p]


@tf_export("nn.conv2d")
def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,  # noqa: A002
           data_format="NHWC", dilations=None, name=None, filters=None):
    filter = filters if filter is None else filter
    if filter is None or padding is None:
        raise ValueError("conv2d needs a filter and a padding")
    data_format = data_format or "NHWC"
    padding, explicit = _padding_attrs(padding)
    return gen_ops.conv2d(input, filter, strides=_window_list(strides, "strides", data_format),
                          use_cudnn_on_gpu=use_cudnn_on_gpu, padding=padding,
                          explicit_paddings=explicit, data_format=data_format,
                          dilations=_window_list(dilations, "dilations", data_format), name=name)


@tf_export("nn.conv2d_transpose")
def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None,  # noqa: A002
                     padding="SAME", data_format="NHWC", name=None, input=None, filters=None,
                     dilations=None):
    """The gradient of conv2d for its input: maps value [N, H, W, M] to output_shape
    through filter [KH, KW, C, M]."""
    value = input if value is None else value
    filter = filters if filter is None else filter
    data_format = data_format or "NHWC"
    padding, explicit = _padding_attrs(padding)
    with ops.name_scope(name, "conv2d_transpose", [value, filter, output_shape]) as scope:
        from runnel.framework import dtypes
        sizes = ops.convert_to_tensor(output_shape, dtype=dtypes.int32, name="output_shape")
        return gen_ops.conv2d_backprop_input(
            sizes, filter, value, strides=_window_list(strides, "strides", data_format),
            padding=padding, explicit_paddings=explicit, data_format=data_format,
            dilations=_window_list(dilations, "dilations", data_format), name=scope)


@tf_export("nn.depthwise_conv2d_native")
def depthwise_conv2d_native(input, filter, strides, padding, data_format="NHWC",  # noqa: A002
                            dilations=None, name=None):
    data_format = data_format or "NHWC"
    padding, explicit = _padding_attrs(padding)
    return gen_ops.depthwise_conv2d_native(
        input, filter, strides=_window_list(strides, "strides", data_format), padding=padding,
        explicit_paddings=explicit, data_format=data_format,
        dilations=_window_list(dilations, "dilations", data_format), name=name)


@tf_export("nn.depthwise_conv2d")
def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None,  # noqa: A002
                     data_format=None, dilations=None):
    """Depthwise convolution; `rate` (or `dilations`) is the spatial dilation pair."""
    dilations = rate if dilations is None else dilations
    return depthwise_conv2d_native(input, filter, strides, padding, data_format=data_format,
                                   dilations=dilations, name=name)


def _pool(op, value, ksize, strides, padding, data_format, name, input):  # noqa: A002
    value = input if value is None else value
    data_format = data_format or "NHWC"
    padding, explicit = _padding_attrs(padding)
    attrs = dict(ksize=_window_list(ksize, "ksize", data_format),
                 strides=_window_list(strides, "strides", data_format), padding=padding,
                 data_format=data_format, name=name)
    if explicit:
        if op is not gen_ops.max_pool:
            raise ValueError("only max_pool takes explicit padding")
        attrs["explicit_paddings"] = explicit
    return op(value, **attrs)


@tf_export("nn.max_pool")
def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):  # noqa: A002
    return _pool(gen_ops.max_pool, value, ksize, strides, padding, data_format, name, input)


@tf_export("nn.avg_pool")
def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):  # noqa: A002
    return _pool(gen_ops.avg_pool, value, ksize, strides, padding, data_format, name, input)


@tf_export("nn.space_to_depth", "space_to_depth")
def space_to_depth(input, block_size, name=None, data_format="NHWC"):  # noqa: A002
    return gen_ops.space_to_depth(input, block_size=block_size, data_format=data_format,
                                  name=name)


@tf_export("nn.depth_to_space", "depth_to_space")
def depth_to_space(input, block_size, name=None, data_format="NHWC"):  # noqa: A002
    return gen_ops.depth_to_space(input, block_size=block_size, data_format=data_format,
                                  name=name)


@tf_export("nn.local_response_normalization", "nn.lrn")
def local_response_normalization(input, depth_radius=5, bias=1, alpha=1, beta=0.5,  # noqa: A002
                                 name=None):
    return gen_ops.lrn(input, depth_radius=depth_radius, bias=bias, alpha=alpha, beta=beta,
                       name=name)
