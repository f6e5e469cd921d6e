"""Initializers: callables `init(shape, dtype=None, partition_info=None)` that build the
tensor a variable starts from, as in tf.initializers (TF1 names)."""
import math

import numpy as np

from runnel.framework import constant_op
from runnel.framework import dtypes
from runnel.framework.api_export import tf_export
from runnel.ops import random_ops


class Initializer:
    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)

    def _dtype(self, dtype):
        return dtypes.as_dtype(dtype) if dtype is not None else self.dtype


@tf_export("zeros_initializer", "initializers.zeros")
class Zeros(Initializer):
    def __call__(self, shape, dtype=None, partition_info=None):
        return constant_op.constant(0, dtype=self._dtype(dtype), shape=shape)


@tf_export("ones_initializer", "initializers.ones")
class Ones(Initializer):
    def __call__(self, shape, dtype=None, partition_info=None):
        return constant_op.constant(1, dtype=self._dtype(dtype), shape=shape)


@tf_export("constant_initializer", "initializers.constant")
class Constant(Initializer):
    def __init__(self, value=0, dtype=dtypes.float32, verify_shape=False):
        super().__init__(dtype)
        self.value = value

    def __call__(self, shape, dtype=None, partition_info=None):
        value = np.asarray(self.value)
        if value.size == 1 or value.shape == tuple(shape):
            return constant_op.constant(value, dtype=self._dtype(dtype), shape=shape)
        raise ValueError(f"constant initializer value of shape {value.shape} does not fit "
                         f"shape {list(shape)}")


@tf_export("random_normal_initializer", "initializers.random_normal")
class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        super().__init__(dtype)
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_normal(shape, self.mean, self.stddev, self._dtype(dtype), self.seed)


@tf_export("truncated_normal_initializer", "initializers.truncated_normal")
class TruncatedNormal(RandomNormal):
    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.truncated_normal(shape, self.mean, self.stddev, self._dtype(dtype),
                                           self.seed)


@tf_export("random_uniform_initializer", "initializers.random_uniform")
class RandomUniform(Initializer):
    def __init__(self, minval=0.0, maxval=None, seed=None, dtype=dtypes.float32):
        super().__init__(dtype)
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_uniform(shape, self.minval, self.maxval, self._dtype(dtype),
                                         self.seed)


def _fans(shape):
    shape = list(shape)
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


@tf_export("variance_scaling_initializer", "initializers.variance_scaling")
class VarianceScaling(Initializer):
    """Values with variance scale / n, n being fan_in, fan_out or their mean."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=dtypes.float32):
        super().__init__(dtype)
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"mode must be fan_in, fan_out or fan_avg, got {mode!r}")
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"unknown distribution {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None, partition_info=None):
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        dtype = self._dtype(dtype)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return random_ops.random_uniform(shape, -limit, limit, dtype, self.seed)
        if self.distribution == "truncated_normal":
            # The stddev of a unit normal truncated at 2 stddevs.
            stddev = math.sqrt(variance) / 0.87962566103423978
            return random_ops.truncated_normal(shape, 0.0, stddev, dtype, self.seed)
        return random_ops.random_normal(shape, 0.0, math.sqrt(variance), dtype, self.seed)


@tf_export("glorot_uniform_initializer", "initializers.glorot_uniform")
def glorot_uniform_initializer(seed=None, dtype=dtypes.float32):
    return VarianceScaling(1.0, "fan_avg", "uniform", seed, dtype)


@tf_export("glorot_normal_initializer", "initializers.glorot_normal")
def glorot_normal_initializer(seed=None, dtype=dtypes.float32):
    return VarianceScaling(1.0, "fan_avg", "truncated_normal", seed, dtype)


@tf_export("initializers.he_normal")
def he_normal(seed=None):
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


@tf_export("initializers.he_uniform")
def he_uniform(seed=None):
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
random_uniform_initializer = RandomUniform
variance_scaling_initializer = VarianceScaling
