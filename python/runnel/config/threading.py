"""tf.config.threading: the thread counts of sessions made without a config."""
from runnel.client import session as _session  # noqa: F401 - its @tf_export functions
from runnel.ops.exports import export_into as _export_into

__all__ = _export_into(globals(), "config.threading")
