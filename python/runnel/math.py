"""tf.math: the math functions under their tf.math names (see framework/api_export.py)."""
from runnel.ops import math_ops as _math_ops  # noqa: F401 - their @tf_export functions
from runnel.ops import nn_impl as _nn_impl  # noqa: F401
from runnel.ops import nn_ops as _nn_ops  # noqa: F401
from runnel.ops.exports import export_into as _export_into

__all__ = _export_into(globals(), "math")
