"""tf.losses: scalar losses added to the LOSSES collection (see framework/api_export.py)."""
from runnel.ops import losses_impl as _losses_impl  # noqa: F401 - their @tf_export functions
from runnel.ops.exports import export_into as _export_into

__all__ = _export_into(globals(), "losses")
