"""tf.initializers: the initializers under their short names (see framework/api_export.py)."""
from runnel.ops import init_ops as _init_ops  # noqa: F401 - their @tf_export functions
from runnel.ops import variables as _variables  # noqa: F401
from runnel.ops.exports import export_into as _export_into

__all__ = _export_into(globals(), "initializers")
