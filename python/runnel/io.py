"""tf.io: reading files, writing graphs, decoding (see framework/api_export.py)."""
from runnel.framework import importer as _importer  # noqa: F401 - their @tf_export functions
from runnel.ops import io_ops as _io_ops  # noqa: F401
from runnel.ops.exports import export_into as _export_into

__all__ = _export_into(globals(), "io")
