"""tf.layers: TensorFlow 1.x's functional layers (see framework/api_export.py)."""
from runnel.ops import layers_impl as _layers_impl  # noqa: F401 - their @tf_export functions
from runnel.ops.exports import export_into as _export_into

__all__ = _export_into(globals(), "layers")
