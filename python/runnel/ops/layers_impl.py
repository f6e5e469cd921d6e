"""tf.layers: TensorFlow 1.x's functional layers. Each call makes a variable scope
('conv2d', 'conv2d_1', ... unless named) holding the layer's variables ('kernel', 'bias',
'gamma', 'beta', 'moving_mean', 'moving_variance'), so checkpoints and frozen graphs use
TensorFlow's names. `training` may be a Python bool or a boolean tensor."""
from runnel.framework import ops
from runnel.framework.api_export import tf_export
from runnel.ops import array_ops
from runnel.ops import control_flow_ops
from runnel.ops import gen_ops
from runnel.ops import init_ops
from runnel.ops import math_ops
from runnel.ops import nn_impl
from runnel.ops import nn_ops
from runnel.ops import variable_scope as vs
from runnel.ops.variables import GraphKeys


def _pair(value, name):
    if isinstance(value, int):
        return [value, value]
    value = list(value)
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value}")
    return value


def _data_format(data_format):
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}")
    return "NHWC" if data_format == "channels_last" else "NCHW"


def _padding(padding):
    if padding.lower() not in ("same", "valid"):
        raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
    return padding.upper()


def _finish(outputs, activation, activity_regularizer):
    if activation is not None:
        outputs = activation(outputs)
    if activity_regularizer is not None:
        ops.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, activity_regularizer(outputs))
    return outputs


def matmul_last_axis(inputs, kernel):
    """inputs @ kernel over the last dim of inputs of any rank >= 2 (kernel [in, units])."""
    if inputs.shape.ndims == 2:
        return math_ops.matmul(inputs, kernel)
    in_dim, units = kernel.shape.as_list()
    flat = math_ops.matmul(gen_ops.reshape(inputs, [-1, in_dim]), kernel)
    outer = array_ops.strided_slice(array_ops.shape(inputs), [0], [-1], [1])
    return gen_ops.reshape(flat, array_ops.concat([outer, [units]], 0))


@tf_export("layers.dense")
def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=init_ops.zeros_initializer(), kernel_regularizer=None,
          bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
          bias_constraint=None, trainable=True, name=None, reuse=None):
    """activation(inputs @ kernel + bias) over the last dim of inputs of any rank >= 2."""
    inputs = ops.convert_to_tensor(inputs)
    in_dim = inputs.shape[-1].value if inputs.shape.ndims else None
    if in_dim is None:
        raise ValueError("the last dimension of the inputs to dense must be known, got shape "
                         f"{inputs.shape}")
    with vs.variable_scope(name, default_name="dense", reuse=reuse):
        kernel = vs.get_variable("kernel", [in_dim, units], dtype=inputs.dtype,
                                 initializer=kernel_initializer, regularizer=kernel_regularizer,
                                 trainable=trainable)
        outputs = matmul_last_axis(inputs, kernel)
        if use_bias:
            bias = vs.get_variable("bias", [units], dtype=inputs.dtype,
                                   initializer=bias_initializer, regularizer=bias_regularizer,
                                   trainable=trainable)
            outputs = nn_ops.bias_add(outputs, bias)
        return _finish(outputs, activation, activity_regularizer)


@tf_export("layers.conv2d")
def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
           data_format="channels_last", dilation_rate=(1, 1), activation=None, use_bias=True,
           kernel_initializer=None, bias_initializer=init_ops.zeros_initializer(),
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
           kernel_constraint=None, bias_constraint=None, trainable=True, name=None, reuse=None):
    inputs = ops.convert_to_tensor(inputs)
    fmt = _data_format(data_format)
    if inputs.shape.ndims != 4:
        raise ValueError(f"conv2d takes 4-D inputs, got shape {inputs.shape}")
    in_channels = inputs.shape[1 if fmt == "NCHW" else 3].value
    if in_channels is None:
        raise ValueError(f"the channel dimension of the inputs must be known, got {inputs.shape}")
    kh, kw = _pair(kernel_size, "kernel_size")
    with vs.variable_scope(name, default_name="conv2d", reuse=reuse):
        kernel = vs.get_variable("kernel", [kh, kw, in_channels, filters], dtype=inputs.dtype,
                                 initializer=kernel_initializer, regularizer=kernel_regularizer,
                                 trainable=trainable)
        outputs = nn_ops.conv2d(inputs, kernel, strides=_pair(strides, "strides"),
                                padding=_padding(padding), data_format=fmt,
                                dilations=_pair(dilation_rate, "dilation_rate"))
        if use_bias:
            bias = vs.get_variable("bias", [filters], dtype=inputs.dtype,
                                   initializer=bias_initializer, regularizer=bias_regularizer,
                                   trainable=trainable)
            outputs = nn_ops.bias_add(outputs, bias, data_format=fmt)
        return _finish(outputs, activation, activity_regularizer)


def _pooling(pool, default_name, inputs, pool_size, strides, padding, data_format, name):
    fmt = _data_format(data_format)
    with ops.name_scope(name, default_name, [inputs]) as scope:
        return pool(inputs, _pair(pool_size, "pool_size"), _pair(strides, "strides"),
                    _padding(padding), data_format=fmt, name=scope)


@tf_export("layers.max_pooling2d")
def max_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                  name=None):
    return _pooling(nn_ops.max_pool, "max_pooling2d", inputs, pool_size, strides, padding,
                    data_format, name)


@tf_export("layers.average_pooling2d")
def average_pooling2d(inputs, pool_size, strides, padding="valid",
                      data_format="channels_last", name=None):
    return _pooling(nn_ops.avg_pool, "average_pooling2d", inputs, pool_size, strides, padding,
                    data_format, name)


@tf_export("layers.flatten")
def flatten(inputs, name=None, data_format="channels_last"):
    """[N, ...] -> [N, product of the rest]; channels_first inputs are moved to
    channels_last order first, as TensorFlow does."""
    with ops.name_scope(name, "flatten", [inputs]):
        inputs = ops.convert_to_tensor(inputs)
        if data_format == "channels_first" and inputs.shape.ndims and inputs.shape.ndims > 2:
            rank = inputs.shape.ndims
            inputs = array_ops.transpose(inputs, [0] + list(range(2, rank)) + [1])
        rest = inputs.shape[1:].num_elements() if inputs.shape.ndims else None
        return gen_ops.reshape(inputs, [-1, rest if rest is not None else -1])


def _is_tensor(value):
    return isinstance(value, ops.Tensor)


@tf_export("layers.dropout")
def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """Drops with probability `rate` when training, passes inputs through otherwise."""
    with ops.name_scope(name, "dropout", [inputs]):
        if not _is_tensor(training):
            if not training or rate == 0:
                return gen_ops.identity(inputs)
            return nn_impl.dropout(inputs, rate=rate, noise_shape=noise_shape, seed=seed)
        inputs = ops.convert_to_tensor(inputs)
        return control_flow_ops.cond(  # only the taken branch runs
            training, lambda: nn_impl.dropout(inputs, rate=rate, noise_shape=noise_shape,
                                              seed=seed),
            lambda: gen_ops.identity(inputs))


@tf_export("layers.batch_normalization")
def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                        beta_initializer=init_ops.zeros_initializer(),
                        gamma_initializer=init_ops.ones_initializer(),
                        moving_mean_initializer=init_ops.zeros_initializer(),
                        moving_variance_initializer=init_ops.ones_initializer(),
                        beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                        gamma_constraint=None, training=False, trainable=True, name=None,
                        reuse=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99,
                        fused=None, virtual_batch_size=None, adjustment=None):
    """Normalizes over every axis but `axis` with the batch's moments when training (and
    adds the moving averages' updates to tf.GraphKeys.UPDATE_OPS, as TensorFlow does), with
    the moving averages otherwise."""
    if renorm or virtual_batch_size is not None or adjustment is not None:
        raise NotImplementedError("batch_normalization: renorm, virtual_batch_size and "
                                  "adjustment are not supported")
    inputs = ops.convert_to_tensor(inputs)
    rank = inputs.shape.ndims
    if rank is None:
        raise ValueError("batch_normalization needs inputs of known rank")
    axis = axis % rank
    channels = inputs.shape[axis].value
    if channels is None:
        raise ValueError(f"the normalized axis {axis} of {inputs.shape} must be known")
    with vs.variable_scope(name, default_name="batch_normalization", reuse=reuse):
        param = lambda n, init, reg, train: vs.get_variable(  # noqa: E731
            n, [channels], dtype=inputs.dtype, initializer=init, regularizer=reg,
            trainable=train and trainable)
        gamma = param("gamma", gamma_initializer, gamma_regularizer, True) if scale else None
        beta = param("beta", beta_initializer, beta_regularizer, True) if center else None
        moving_mean = param("moving_mean", moving_mean_initializer, None, False)
        moving_variance = param("moving_variance", moving_variance_initializer, None, False)
        outputs, updates = normalize_batch(inputs, axis, training, gamma, beta, moving_mean,
                                           moving_variance, momentum, epsilon)
        for update in updates:
            ops.add_to_collection(GraphKeys.UPDATE_OPS, update)
        return outputs


def normalize_batch(inputs, axis, training, gamma, beta, moving_mean, moving_variance,
                    momentum, epsilon):
    """(outputs, the moving averages' update ops) of batch normalization over every axis
    but `axis`: with the batch's moments when `training` (a bool or a boolean tensor), with
    the moving averages otherwise. gamma and beta may be None."""
    rank = inputs.shape.ndims
    broadcast = [1] * rank
    broadcast[axis] = inputs.shape[axis].value
    shaped = lambda t: None if t is None else gen_ops.reshape(t, broadcast)  # noqa: E731
    if not _is_tensor(training) and not training:
        return nn_impl.batch_normalization(inputs, shaped(moving_mean),
                                           shaped(moving_variance), shaped(beta),
                                           shaped(gamma), epsilon), []
    axes = [a for a in range(rank) if a != axis]

    def normalized(mean, variance):
        return nn_impl.batch_normalization(inputs, shaped(mean), shaped(variance),
                                           shaped(beta), shaped(gamma), epsilon)

    def with_batch_moments():
        mean, variance = nn_impl.moments(inputs, axes)
        return normalized(mean, variance), mean, variance

    decay = ops.convert_to_tensor(1.0 - momentum, inputs.dtype)
    if _is_tensor(training):
        # Only the taken branch runs: the batch's moments only when training. Otherwise
        # the "moments" are the moving averages themselves and the update adds nothing.
        outputs, mean, variance = control_flow_ops.cond(
            training, with_batch_moments,
            lambda: (normalized(moving_mean.value(), moving_variance.value()),
                     moving_mean.value(), moving_variance.value()))
        decay = array_ops.where_v2(training, decay, array_ops.zeros_like(decay))
    else:
        outputs, mean, variance = with_batch_moments()
    updates = [var.assign_sub((var.value() - value) * decay)
               for var, value in ((moving_mean, mean), (moving_variance, variance))]
    return outputs, updates
