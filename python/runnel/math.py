"""tf.math: the math functions under their tf.math names (see framework/api_export.py)."""
from runnel.framework.api_export import export_into
from runnel.ops import math_ops as _math_ops  # noqa: F401 - its @tf_export functions

__all__ = export_into(globals(), "math")
