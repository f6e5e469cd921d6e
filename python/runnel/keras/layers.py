"""Keras layers. Each builds its weights under its name ('dense/kernel', 'dense/bias') and
its ops under a name scope of the same name, with TensorFlow's standard ops, so a trained
model freezes into a graph TensorFlow can read."""
import base64
import marshal
import sys
import types

import numpy as np

from runnel.framework import constant_op
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.ops import array_ops
from runnel.ops import control_flow_ops
from runnel.ops import gen_ops
from runnel.ops import layers_impl as tf_layers
from runnel.ops import math_ops
from runnel.ops import nn_ops
from runnel.ops import tensor_array_ops
from runnel.keras import activations
from runnel.keras import backend
from runnel.keras import initializers
from runnel.keras import regularizers
from runnel.keras.base_layer import Input, InputLayer, Layer  # noqa: F401 (keras.layers.Input)
from runnel.keras.base_layer import to_list


def _pair(value, name):
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value}")
    return value


def _check_channels_last(layer, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{type(layer).__name__}: only data_format='channels_last' is "
                         f"supported, got {data_format!r}")


def _check_rank(layer, input_shape, rank, what):
    if input_shape is None or len(input_shape) != rank:
        raise ValueError(f"Input 0 of layer {layer.name!r} ({type(layer).__name__}) is "
                         f"incompatible: expected {what} (rank {rank}), got shape "
                         f"{input_shape}")


def _training(training):
    """A call's `training` argument (True/False, as `layer(x, training=False)` gives), or
    the learning phase when the call left it out."""
    return backend.learning_phase() if training is None else training


def _padding(padding):
    if padding.lower() not in ("same", "valid"):
        raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
    return padding.upper()


class _WeightedLayer(Layer):
    """A layer with a kernel, an optional bias and an activation (Dense, Conv2D)."""

    def __init__(self, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def _add_kernel_and_bias(self, kernel_shape, units):
        self.kernel = self.add_weight("kernel", kernel_shape, self.kernel_initializer,
                                      self.kernel_regularizer)
        self.bias = self.add_weight("bias", [units], self.bias_initializer,
                                    self.bias_regularizer) if self.use_bias else None

    def get_config(self):
        config = super().get_config()
        config.update(
            activation=activations.serialize(self.activation), use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer))
        return config


class Dense(_WeightedLayer):
    """activation(inputs @ kernel + bias), over the last axis of inputs of any rank >= 2."""

    supports_masking = True

    def __init__(self, units, activation=None, input_dim=None, **kwargs):
        if input_dim is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_dim,)
        super().__init__(activation=activation, **kwargs)
        self.units = int(units)

    def build(self, input_shape):
        if input_shape is None or len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"Input 0 of layer {self.name!r} (Dense) is incompatible: "
                             f"expected rank >= 2 with a known last dim, got shape "
                             f"{input_shape}")
        self._add_kernel_and_bias([input_shape[-1], self.units], self.units)

    def call(self, inputs):
        outputs = tf_layers.matmul_last_axis(inputs, self.kernel.value())
        if self.use_bias:
            outputs = nn_ops.bias_add(outputs, self.bias.value())
        return self.activation(outputs)

    def get_config(self):
        return dict(super().get_config(), units=self.units)


class Conv2D(_WeightedLayer):
    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), activation=None, **kwargs):
        super().__init__(activation=activation, **kwargs)
        _check_channels_last(self, data_format)
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.padding = padding
        _padding(padding)
        self.dilation_rate = _pair(dilation_rate, "dilation_rate")

    def build(self, input_shape):
        _check_rank(self, input_shape, 4, "images (batch, height, width, channels)")
        if input_shape[-1] is None:
            raise ValueError(f"layer {self.name!r}: the channel dim of the input must be known")
        self._add_kernel_and_bias(list(self.kernel_size) + [input_shape[-1], self.filters],
                                  self.filters)

    def call(self, inputs):
        outputs = nn_ops.conv2d(inputs, self.kernel.value(), [1, *self.strides, 1],
                                _padding(self.padding),
                                dilations=[1, *self.dilation_rate, 1])
        if self.use_bias:
            outputs = nn_ops.bias_add(outputs, self.bias.value())
        return self.activation(outputs)

    def get_config(self):
        return dict(super().get_config(), filters=self.filters,
                    kernel_size=list(self.kernel_size), strides=list(self.strides),
                    padding=self.padding, dilation_rate=list(self.dilation_rate))


class _Pooling2D(Layer):
    _POOL = None

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        _check_channels_last(self, data_format)
        self.pool_size = _pair(pool_size, "pool_size")
        self.strides = _pair(strides, "strides") if strides is not None else self.pool_size
        self.padding = padding
        _padding(padding)

    def build(self, input_shape):
        _check_rank(self, input_shape, 4, "images (batch, height, width, channels)")

    def call(self, inputs):
        return type(self)._POOL(inputs, [1, *self.pool_size, 1], [1, *self.strides, 1],
                                _padding(self.padding))

    def get_config(self):
        return dict(super().get_config(), pool_size=list(self.pool_size),
                    strides=list(self.strides), padding=self.padding)


class MaxPooling2D(_Pooling2D):
    _POOL = nn_ops.max_pool


class AveragePooling2D(_Pooling2D):
    _POOL = nn_ops.avg_pool


class _GlobalPooling2D(Layer):
    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_channels_last(self, data_format)

    def build(self, input_shape):
        _check_rank(self, input_shape, 4, "images (batch, height, width, channels)")


class GlobalAveragePooling2D(_GlobalPooling2D):
    def call(self, inputs):
        return math_ops.reduce_mean(inputs, axis=[1, 2])


class GlobalMaxPooling2D(_GlobalPooling2D):
    def call(self, inputs):
        return math_ops.reduce_max(inputs, axis=[1, 2])


def _single(value, name):
    if isinstance(value, int):
        return value
    value = tuple(value)
    if len(value) != 1:
        raise ValueError(f"{name} must be an int or a 1-tuple, got {value}")
    return value[0]


class Conv1D(_WeightedLayer):
    """A convolution over the steps of [batch, steps, channels] inputs (a Conv2D over a
    height of 1); padding 'valid', 'same' or 'causal' (zeros before the first step)."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, **kwargs):
        super().__init__(activation=activation, **kwargs)
        _check_channels_last(self, data_format)
        self.filters = int(filters)
        self.kernel_size = _single(kernel_size, "kernel_size")
        self.strides = _single(strides, "strides")
        self.dilation_rate = _single(dilation_rate, "dilation_rate")
        if padding.lower() not in ("valid", "same", "causal"):
            raise ValueError(f"padding must be 'valid', 'same' or 'causal', got {padding!r}")
        self.padding = padding

    def build(self, input_shape):
        _check_rank(self, input_shape, 3, "sequences (batch, steps, channels)")
        if input_shape[-1] is None:
            raise ValueError(f"layer {self.name!r}: the channel dim of the input must be known")
        self._add_kernel_and_bias([self.kernel_size, input_shape[-1], self.filters],
                                  self.filters)

    def call(self, inputs):
        padding = self.padding.upper()
        if padding == "CAUSAL":
            before = (self.kernel_size - 1) * self.dilation_rate
            inputs = array_ops.pad(inputs, [[0, 0], [before, 0], [0, 0]])
            padding = "VALID"
        kernel = array_ops.expand_dims(self.kernel.value(), 0)
        outputs = nn_ops.conv2d(array_ops.expand_dims(inputs, 1), kernel,
                                [1, 1, self.strides, 1], padding,
                                dilations=[1, 1, self.dilation_rate, 1])
        outputs = array_ops.squeeze(outputs, [1])
        if self.use_bias:
            outputs = nn_ops.bias_add(outputs, self.bias.value())
        return self.activation(outputs)

    def get_config(self):
        return dict(super().get_config(), filters=self.filters, kernel_size=[self.kernel_size],
                    strides=[self.strides], padding=self.padding,
                    dilation_rate=[self.dilation_rate])


class _Pooling1D(Layer):
    _POOL = None

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        _check_channels_last(self, data_format)
        self.pool_size = _single(pool_size, "pool_size")
        self.strides = _single(strides, "strides") if strides is not None else self.pool_size
        self.padding = padding
        _padding(padding)

    def build(self, input_shape):
        _check_rank(self, input_shape, 3, "sequences (batch, steps, channels)")

    def call(self, inputs):
        pooled = type(self)._POOL(array_ops.expand_dims(inputs, 1), [1, 1, self.pool_size, 1],
                                  [1, 1, self.strides, 1], _padding(self.padding))
        return array_ops.squeeze(pooled, [1])

    def get_config(self):
        return dict(super().get_config(), pool_size=[self.pool_size], strides=[self.strides],
                    padding=self.padding)


class MaxPooling1D(_Pooling1D):
    _POOL = nn_ops.max_pool


class AveragePooling1D(_Pooling1D):
    _POOL = nn_ops.avg_pool


class _GlobalPooling1D(Layer):
    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_channels_last(self, data_format)

    def build(self, input_shape):
        _check_rank(self, input_shape, 3, "sequences (batch, steps, channels)")


class GlobalAveragePooling1D(_GlobalPooling1D):
    def call(self, inputs):
        return math_ops.reduce_mean(inputs, axis=[1])


class GlobalMaxPooling1D(_GlobalPooling1D):
    def call(self, inputs):
        return math_ops.reduce_max(inputs, axis=[1])


class Activation(Layer):
    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        return dict(super().get_config(), activation=activations.serialize(self.activation))


class Dropout(Layer):
    """Zeroes a `rate` fraction of its inputs (scaling the rest up) while training, and
    passes them through otherwise."""

    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate}")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed

    def call(self, inputs, training=None):
        if self.rate == 0:
            return gen_ops.identity(inputs)
        return tf_layers.dropout(inputs, self.rate, self.noise_shape, self.seed,
                                 training=_training(training))

    def get_config(self):
        return dict(super().get_config(), rate=self.rate, noise_shape=self.noise_shape,
                    seed=self.seed)


class Flatten(Layer):
    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_channels_last(self, data_format)

    def call(self, inputs):
        return tf_layers.flatten(inputs)


class Reshape(Layer):
    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def build(self, input_shape):
        known = [d for d in self.target_shape if d != -1]
        if input_shape and None not in input_shape[1:] and -1 not in self.target_shape:
            have, want = int(np.prod(input_shape[1:])), int(np.prod(known))
            if have != want:
                raise ValueError(f"layer {self.name!r}: cannot reshape {input_shape[1:]} "
                                 f"({have} values) to {self.target_shape} ({want} values)")

    def call(self, inputs):
        return gen_ops.reshape(inputs, [-1, *self.target_shape])

    def get_config(self):
        return dict(super().get_config(), target_shape=list(self.target_shape))


class BatchNormalization(Layer):
    """Normalizes each feature of the last axis: with the batch's mean and variance while
    training (updating the moving averages), with the moving averages otherwise."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = center, scale
        self.initializers = {"beta": beta_initializer, "gamma": gamma_initializer,
                             "moving_mean": moving_mean_initializer,
                             "moving_variance": moving_variance_initializer}
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def build(self, input_shape):
        if input_shape is None:
            raise ValueError(f"layer {self.name!r}: BatchNormalization needs inputs of known "
                             "rank")
        axis = self.axis % len(input_shape)
        if axis != len(input_shape) - 1:
            raise ValueError(f"layer {self.name!r}: only the last axis can be normalized, "
                             f"got axis={self.axis}")
        channels = input_shape[axis]
        init = self.initializers
        self.gamma = self.add_weight("gamma", [channels], init["gamma"],
                                     self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight("beta", [channels], init["beta"],
                                    self.beta_regularizer) if self.center else None
        self.moving_mean = self.add_weight("moving_mean", [channels], init["moving_mean"],
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", [channels],
                                               init["moving_variance"], trainable=False)

    def call(self, inputs, training=None):
        outputs, updates = tf_layers.normalize_batch(
            inputs, inputs.shape.ndims - 1, _training(training), self.gamma, self.beta,
            self.moving_mean, self.moving_variance, self.momentum, self.epsilon)
        self.add_update([u.op for u in updates])
        return outputs

    def get_config(self):
        config = dict(super().get_config(), axis=self.axis, momentum=self.momentum,
                      epsilon=self.epsilon, center=self.center, scale=self.scale,
                      beta_regularizer=regularizers.serialize(self.beta_regularizer),
                      gamma_regularizer=regularizers.serialize(self.gamma_regularizer))
        for name, init in self.initializers.items():
            config[f"{name}_initializer"] = initializers.serialize(initializers.get(init))
        return config


class Masking(Layer):
    """Marks the time steps whose features all equal `mask_value` as padding (a mask the
    recurrent layers skip them by) and zeroes them."""

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def compute_mask(self, inputs, mask=None):
        return math_ops.reduce_any(gen_ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = self.compute_mask(inputs)
        return inputs * array_ops.cast(array_ops.expand_dims(keep, -1), inputs.dtype)

    def get_config(self):
        return dict(super().get_config(), mask_value=self.mask_value)


class Embedding(Layer):
    """Rows of a trained [input_dim, output_dim] table looked up by integer ids."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, input_length=None, mask_zero=False, **kwargs):
        if input_length is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        self.mask_zero = mask_zero
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.input_length = input_length

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", [self.input_dim, self.output_dim],
                                          self.embeddings_initializer,
                                          self.embeddings_regularizer)

    def call(self, inputs):
        ids = inputs if inputs.dtype in (dtypes.int32, dtypes.int64) \
            else array_ops.cast(inputs, dtypes.int32)
        return array_ops.gather(self.embeddings.value(), ids)

    def compute_mask(self, inputs, mask=None):
        """With mask_zero, id 0 is padding: masked."""
        return gen_ops.not_equal(inputs, 0) if self.mask_zero else None

    def get_config(self):
        return dict(super().get_config(), input_dim=self.input_dim, output_dim=self.output_dim,
                    mask_zero=self.mask_zero,
                    embeddings_initializer=initializers.serialize(self.embeddings_initializer),
                    embeddings_regularizer=regularizers.serialize(self.embeddings_regularizer),
                    input_length=self.input_length)


class _Recurrent(_WeightedLayer):
    """A recurrent layer over [batch, time, features] inputs, run by a while loop over the
    time steps (so their number may change between runs). The input's projection for
    every step is one matrix product before the loop; each step adds the previous
    output's (`_step`, which gives the new state; its first tensor, h, is the step's
    output). `return_sequences` gives every step's output, `return_state` the
    final state too, `go_backwards` runs the steps last first. While training, `dropout`
    and `recurrent_dropout` drop inputs and previous outputs with one mask per sequence
    (the same for every step), as Keras does."""

    _GATES = 1

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, dropout=0.0,
                 recurrent_dropout=0.0, **kwargs):
        super().__init__(activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, **kwargs)
        if stateful:
            raise ValueError(f"layer {self.name!r}: stateful=True is not supported yet")
        self.units = int(units)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0 <= rate < 1:
                raise ValueError(f"layer {self.name!r}: {name} must be in [0, 1), got {rate}")
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)

    def build(self, input_shape):
        _check_rank(self, input_shape, 3, "sequences (batch, time, features)")
        if input_shape[2] is None:
            raise ValueError(f"layer {self.name!r}: the number of features must be known, "
                             f"got {input_shape}")
        width = self._GATES * self.units
        self.kernel = self.add_weight("kernel", [input_shape[2], width],
                                      self.kernel_initializer, self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", [self.units, width],
                                                self.recurrent_initializer,
                                                self.recurrent_regularizer)
        self.bias = self.add_weight("bias", self._bias_shape(), self._bias_initializer(),
                                    self.bias_regularizer) if self.use_bias else None

    def _bias_shape(self):
        return [self._GATES * self.units]

    def _bias_initializer(self):
        return self.bias_initializer

    def _input_bias(self):
        return self.bias.value() if self.use_bias else None

    def _state_size(self):
        return 1

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        return [output_mask] + [None] * self._state_size() if self.return_state else output_mask

    def _dropout_mask(self, like, rate, training):
        """A [batch, width] mask of `like`'s rows: kept units scaled by 1 / (1 - rate) while
        training, ones otherwise (only the taken branch runs)."""
        ones = array_ops.ones_like(like)
        return tf_layers.dropout(ones, rate, training=_training(training))

    def call(self, inputs, mask=None, training=None, initial_state=None):
        """With `mask` ([batch, time], False for padding), a masked step leaves the state
        (and so the output) as it was."""
        inputs = ops.convert_to_tensor(inputs)
        features = inputs.shape.as_list()[2]
        width = self._GATES * self.units
        batch, steps = array_ops.shape(inputs)[0], array_ops.shape(inputs)[1]
        if self.dropout:
            inputs = inputs * array_ops.expand_dims(
                self._dropout_mask(inputs[:, 0, :], self.dropout, training), 1)
        projected = math_ops.matmul(gen_ops.reshape(inputs, [-1, features]),
                                    self.kernel.value())
        bias = self._input_bias()
        if bias is not None:
            projected = nn_ops.bias_add(projected, bias)
        time_major = array_ops.transpose(
            gen_ops.reshape(projected, array_ops.stack([batch, steps, width])), [1, 0, 2])
        if self.go_backwards:
            time_major = gen_ops.reverse_v2(time_major, [0])
        per_step = tensor_array_ops.TensorArray(inputs.dtype, size=steps,
                                                element_shape=[None, width]).unstack(time_major)
        if mask is not None:
            mask = array_ops.transpose(ops.convert_to_tensor(mask), [1, 0])
            if self.go_backwards:
                mask = gen_ops.reverse_v2(mask, [0])
            per_step_mask = tensor_array_ops.TensorArray(dtypes.bool, size=steps).unstack(mask)
        if initial_state is None:
            zeros = gen_ops.fill(array_ops.stack([batch, self.units]),
                                 ops.convert_to_tensor(0.0, inputs.dtype))
            zeros.set_shape([None, self.units])
            state = [zeros] * self._state_size()
        else:
            state = [ops.convert_to_tensor(s) for s in
                     (initial_state if isinstance(initial_state, (list, tuple))
                      else [initial_state])]
            if len(state) != self._state_size():
                raise ValueError(f"layer {self.name!r} has {self._state_size()} state "
                                 f"tensors, got an initial_state of {len(state)}")
        recurrent = self.recurrent_kernel.value()
        outputs = tensor_array_ops.TensorArray(inputs.dtype, size=steps)
        recurrent_mask = self._dropout_mask(state[0], self.recurrent_dropout, training) \
            if self.recurrent_dropout else None

        def body(t, state, outputs):
            # The recurrent product takes the previous output dropped; the state carries it whole.
            h_in = state[0] if recurrent_mask is None else state[0] * recurrent_mask
            new_state = self._step(per_step.read(t), state, recurrent, h_in)
            if mask is not None:  # a masked step keeps the state, so its output is the last
                live = array_ops.expand_dims(per_step_mask.read(t), 1)
                new_state = [array_ops.where_v2(live, new, old)
                             for new, old in zip(new_state, state)]
            for old, new in zip(state, new_state):
                new.set_shape(old.shape)
            return t + 1, new_state, outputs.write(t, new_state[0]) \
                if self.return_sequences else outputs

        _, state, outputs = control_flow_ops.while_loop(
            lambda t, *_: t < steps, body, [constant_op.constant(0), state, outputs])
        if self.return_sequences:
            result = array_ops.transpose(outputs.stack(), [1, 0, 2])
            result.set_shape([inputs.shape[0], inputs.shape[1], self.units])
        else:
            result = state[0]
        return [result] + list(state) if self.return_state else result

    def get_config(self):
        return dict(
            super().get_config(), units=self.units,
            recurrent_initializer=initializers.serialize(self.recurrent_initializer),
            recurrent_regularizer=regularizers.serialize(self.recurrent_regularizer),
            return_sequences=self.return_sequences, return_state=self.return_state,
            go_backwards=self.go_backwards, dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout)


class SimpleRNN(_Recurrent):
    """h_t = activation(x_t W + h_{t-1} U + b)."""

    def _step(self, x, state, recurrent, h_in):
        h = self.activation(x + math_ops.matmul(h_in, recurrent))
        return [h]


class LSTM(_Recurrent):
    """Keras's LSTM: gates in the order input, forget, cell, output; the forget gate's bias
    starts at 1 (unit_forget_bias). The state is [h, c]."""

    _GATES = 4

    def __init__(self, units, recurrent_activation="sigmoid", unit_forget_bias=True,
                 **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, base = self.units, self.bias_initializer

        def init(shape, dtype=None):
            return array_ops.concat([base([units], dtype), initializers.Ones()([units], dtype),
                                     base([2 * units], dtype)], 0)
        return init

    def _state_size(self):
        return 2

    def _step(self, x, state, recurrent, h_in):
        _, c = state
        i, f, g, o = array_ops.split(x + math_ops.matmul(h_in, recurrent), 4, axis=1)
        gate = self.recurrent_activation
        c = gate(f) * c + gate(i) * self.activation(g)
        h = gate(o) * self.activation(c)
        return [h, c]

    def get_config(self):
        return dict(super().get_config(),
                    recurrent_activation=activations.serialize(self.recurrent_activation),
                    unit_forget_bias=self.unit_forget_bias)


class GRU(_Recurrent):
    """Keras's GRU: gates in the order update (z), reset (r), candidate (h). With
    reset_after (Keras 2's default) the reset gate applies after the recurrent product
    and the bias is [2, 3 * units] (input's, recurrent's); without, before it, as in
    Keras 1 and TensorFlow 1's tf.keras."""

    _GATES = 3

    def __init__(self, units, recurrent_activation="sigmoid", reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = reset_after

    def _bias_shape(self):
        return [2, 3 * self.units] if self.reset_after else [3 * self.units]

    def _input_bias(self):
        if not self.use_bias:
            return None
        return self.bias.value()[0] if self.reset_after else self.bias.value()

    def _step(self, x, state, recurrent, h_in):
        h = state[0]
        units = self.units
        x_z, x_r, x_h = array_ops.split(x, 3, axis=1)
        gate = self.recurrent_activation
        if self.reset_after:
            inner = math_ops.matmul(h_in, recurrent)
            if self.use_bias:
                inner = nn_ops.bias_add(inner, self.bias.value()[1])
            r_z, r_r, r_h = array_ops.split(inner, 3, axis=1)
            z, r = gate(x_z + r_z), gate(x_r + r_r)
            candidate = self.activation(x_h + r * r_h)
        else:
            r_z, r_r = array_ops.split(math_ops.matmul(h_in, recurrent[:, :2 * units]), 2,
                                       axis=1)
            z, r = gate(x_z + r_z), gate(x_r + r_r)
            candidate = self.activation(x_h + math_ops.matmul(r * h_in,
                                                              recurrent[:, 2 * units:]))
        h = z * h + (1 - z) * candidate
        return [h]

    def get_config(self):
        return dict(super().get_config(),
                    recurrent_activation=activations.serialize(self.recurrent_activation),
                    reset_after=self.reset_after)


def _layer_config(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _layer_from(entry):
    """A layer, or one made from its {'class_name', 'config'}."""
    if isinstance(entry, Layer):
        return entry
    from runnel.keras.base_layer import LAYER_CLASSES
    return LAYER_CLASSES[entry["class_name"]].from_config(dict(entry["config"]))


class _Wrapper(Layer):
    """A layer that runs other layers: their weights are its own."""

    def _adopt(self, *layers):
        for layer in layers:
            for weight in layer.weights:
                if all(weight is not w for w in self._weights):
                    self._weights.append(weight)
            self._losses.extend(l for l in layer.losses if l not in self._losses)


class Bidirectional(_Wrapper):
    """Runs a recurrent layer over the sequence forward and (a copy of it) backward, and
    merges the two outputs ('concat', 'sum', 'mul', 'ave', or None for both). Returned
    sequences of the backward layer are put back in the input's time order."""

    _MERGES = {"concat": lambda a, b: array_ops.concat([a, b], -1),
               "sum": lambda a, b: a + b, "mul": lambda a, b: a * b,
               "ave": lambda a, b: (a + b) / 2.0, None: lambda a, b: [a, b]}

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        if merge_mode not in self._MERGES:
            raise ValueError(f"merge_mode must be one of 'concat', 'sum', 'mul', 'ave' or None, "
                             f"got {merge_mode!r}")
        layer = _layer_from(layer)
        if not isinstance(layer, _Recurrent):
            raise ValueError(f"Bidirectional wraps a recurrent layer, got {layer!r}")
        config = layer.get_config()
        self._layer_config = _layer_config(layer)
        self.forward_layer = type(layer).from_config(dict(config,
                                                          name="forward_" + config["name"]))
        self.backward_layer = _layer_from(backward_layer) if backward_layer is not None else \
            type(layer).from_config(dict(config, name="backward_" + config["name"],
                                         go_backwards=not config.get("go_backwards", False)))
        self.merge_mode = merge_mode
        self.return_sequences = config["return_sequences"]
        self.return_state = config["return_state"]

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            states = self.forward_layer._state_size() * 2
            merged = 2 if self.merge_mode is None else 1
            return [output_mask] * merged + [None] * states
        return [output_mask] * 2 if self.merge_mode is None else output_mask

    def call(self, inputs):
        forward = to_list(self.forward_layer(inputs))
        backward = to_list(self.backward_layer(inputs))
        self._adopt(self.forward_layer, self.backward_layer)
        if self.return_sequences:
            backward[0] = gen_ops.reverse_v2(backward[0], [1])
        merged = self._MERGES[self.merge_mode](forward[0], backward[0])
        merged = merged if isinstance(merged, list) else [merged]
        if self.return_state:
            return merged + forward[1:] + backward[1:]
        return merged if len(merged) > 1 else merged[0]

    def get_config(self):
        return dict(super().get_config(), layer=self._layer_config, merge_mode=self.merge_mode)


class TimeDistributed(_Wrapper):
    """Applies `layer` to every time step of [batch, time, ...] inputs (one call over the
    steps folded into the batch)."""

    supports_masking = True

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = _layer_from(layer)

    def call(self, inputs):
        static = inputs.shape.as_list()
        if len(static) < 3:
            raise ValueError(f"layer {self.name!r} (TimeDistributed) needs inputs of rank >= "
                             f"3 (batch, time, ...), got shape {inputs.shape}")
        shape = array_ops.shape(inputs)
        folded = gen_ops.reshape(inputs, array_ops.concat([[-1], shape[2:]], 0))
        folded.set_shape([None] + static[2:])
        outputs = self.layer(folded)
        self._adopt(self.layer)
        out_static = outputs.shape.as_list()[1:]
        result = gen_ops.reshape(outputs, array_ops.concat(
            [shape[:2], array_ops.shape(outputs)[1:]], 0))
        result.set_shape(static[:2] + out_static)
        return result

    def get_config(self):
        return dict(super().get_config(), layer=_layer_config(self.layer))


class Lambda(Layer):
    """Wraps an expression: Lambda(lambda x: x ** 2). Saved with the function's bytecode,
    as Keras does (loading it needs the same Python version)."""

    def __init__(self, function, output_shape=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(function, dict):
            function = _function_from_config(function)
        self.function, self.arguments = function, arguments or {}

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def get_config(self):
        code = self.function.__code__
        if self.function.__closure__:
            raise ValueError(f"Lambda layer {self.name!r}: a function with a closure cannot "
                             "be saved; pass what it captures through arguments=")
        return dict(super().get_config(), arguments=self.arguments,
                    function={"bytecode": base64.b64encode(marshal.dumps(code)).decode()})


def _function_from_config(config):
    code = marshal.loads(base64.b64decode(config["bytecode"]))
    runnel = sys.modules["runnel"]  # the package this module is part of, already imported
    return types.FunctionType(code, {"tf": runnel, "K": backend, "np": np,
                                     "__builtins__": __builtins__})


class _Merge(Layer):
    def build(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) must be called on "
                             "a list of at least 2 tensors")

    def call(self, inputs):
        result = inputs[0]
        for x in inputs[1:]:
            result = self._merge(result, x)
        return result


class Add(_Merge):
    _merge = staticmethod(math_ops.add)


class Subtract(_Merge):
    _merge = staticmethod(math_ops.subtract)


class Multiply(_Merge):
    _merge = staticmethod(math_ops.multiply)


class Maximum(_Merge):
    _merge = staticmethod(math_ops.maximum)


class Average(_Merge):
    def call(self, inputs):
        return math_ops.add_n(list(inputs)) / float(len(inputs))


class Concatenate(_Merge):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        return array_ops.concat(list(inputs), self.axis)

    def get_config(self):
        return dict(super().get_config(), axis=self.axis)


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


