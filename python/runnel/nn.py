"""tf.nn: neural-network functions (see framework/api_export.py)."""
from runnel.framework.api_export import export_into
from runnel.ops import nn_impl as _nn_impl  # noqa: F401 - their @tf_export functions
from runnel.ops import nn_ops as _nn_ops  # noqa: F401

__all__ = export_into(globals(), "nn")
