"""tf.test: the GPU queries (see framework/test_util.py)."""
from runnel.framework import test_util as _test_util  # noqa: F401 - their @tf_export functions
from runnel.ops.exports import export_into as _export_into

__all__ = _export_into(globals(), "test")
