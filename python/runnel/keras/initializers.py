"""Keras initializers: classes with Keras's defaults, and names ('uniform', 'glorot_uniform',
'he_normal', ...). Each returns the initial value as a graph tensor."""
import numpy as np

from runnel.framework import constant_op
from runnel.ops import init_ops
from runnel.keras._names import lookup


class Initializer:
    """Subclasses keep exactly their constructor's arguments as attributes."""

    def get_config(self):
        return dict(vars(self))

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return init_ops.Zeros()(shape, dtype)


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return init_ops.Ones()(shape, dtype)


class Constant(Initializer):
    def __init__(self, value=0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return init_ops.Constant(self.value)(shape, dtype)


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        return init_ops.RandomNormal(self.mean, self.stddev, self.seed)(shape, dtype)


class TruncatedNormal(RandomNormal):
    def __call__(self, shape, dtype=None):
        return init_ops.TruncatedNormal(self.mean, self.stddev, self.seed)(shape, dtype)


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None):
        return init_ops.RandomUniform(self.minval, self.maxval, self.seed)(shape, dtype)


class VarianceScaling(Initializer):
    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None):
        return init_ops.VarianceScaling(self.scale, self.mode, self.distribution,
                                        self.seed)(shape, dtype)


class Orthogonal(Initializer):
    """A random orthogonal matrix (of the shape's last two dims flattened to 2-D), times
    `gain`: the QR decomposition of a normal sample, drawn with numpy (from numpy's global
    generator when no seed is given, so keras.utils.set_random_seed repeats it)."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None):
        rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        cols = int(shape[-1])
        rng = np.random.default_rng(self.seed if self.seed is not None
                                    else np.random.randint(2 ** 31))
        sample = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(sample)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        value = (self.gain * q[:rows, :cols]).reshape(shape)
        return constant_op.constant(value, dtype=dtype or "float32")


def glorot_uniform(seed=None):
    return VarianceScaling(1.0, "fan_avg", "uniform", seed)


def glorot_normal(seed=None):
    return VarianceScaling(1.0, "fan_avg", "truncated_normal", seed)


def he_uniform(seed=None):
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def he_normal(seed=None):
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed=None):
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def lecun_normal(seed=None):
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


_INITIALIZERS = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "uniform": RandomUniform, "random_uniform": RandomUniform, "normal": RandomNormal,
    "random_normal": RandomNormal, "truncated_normal": TruncatedNormal,
    "orthogonal": Orthogonal, "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal, "he_uniform": he_uniform, "he_normal": he_normal,
    "lecun_uniform": lecun_uniform, "lecun_normal": lecun_normal,
}
_CLASSES = {c.__name__: c for c in (Zeros, Ones, Constant, RandomNormal, TruncatedNormal,
                                    RandomUniform, VarianceScaling, Orthogonal)}


def get(identifier):
    """An initializer for a name, a serialized {'class_name', 'config'}, or an initializer."""
    if isinstance(identifier, dict):
        cls = lookup("initializer class", _CLASSES, identifier["class_name"])
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        return lookup("initializer", _INITIALIZERS, identifier)()
    return identifier


def serialize(initializer):
    if hasattr(initializer, "get_config"):
        return {"class_name": type(initializer).__name__, "config": initializer.get_config()}
    raise ValueError(f"cannot serialize the initializer {initializer!r}: give a Keras "
                     "initializer or a name")
