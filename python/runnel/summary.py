"""tf.summary: summary ops and the FileWriter of TensorBoard's event files (see
framework/api_export.py)."""
from runnel.ops import summary_ops as _summary_ops  # noqa: F401 - their @tf_export functions
from runnel.training import summary_io as _summary_io  # noqa: F401
from runnel.ops.exports import export_into as _export_into

__all__ = _export_into(globals(), "summary")
