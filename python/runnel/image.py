"""tf.image: decoding, encoding, resizing (see framework/api_export.py)."""
from runnel.ops import image_ops as _image_ops  # noqa: F401 - their @tf_export functions
from runnel.ops.exports import export_into as _export_into

__all__ = _export_into(globals(), "image")
