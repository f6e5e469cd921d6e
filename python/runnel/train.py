"""tf.train: optimizers, learning-rate schedules, the global step, checkpoints, writing graphs,
clusters and servers, synchronous replicas, monitored sessions and their hooks (see
framework/api_export.py)."""
from runnel.framework import importer as _importer  # noqa: F401 - their @tf_export functions
from runnel.training import basic_session_run_hooks as _basic_hooks  # noqa: F401
from runnel.training import coordinator as _coordinator  # noqa: F401
from runnel.training import device_setter as _device_setter  # noqa: F401
from runnel.training import learning_rate_decay as _learning_rate_decay  # noqa: F401
from runnel.training import model_average_optimizer as _model_average  # noqa: F401
from runnel.training import monitored_session as _monitored_session  # noqa: F401
from runnel.training import optimizer as _optimizer  # noqa: F401
from runnel.training import saver as _saver  # noqa: F401
from runnel.training import server_lib as _server_lib  # noqa: F401
from runnel.training import session_run_hook as _session_run_hook  # noqa: F401
from runnel.training import summary_io as _summary_io  # noqa: F401
from runnel.training import sync_replicas_optimizer as _sync_replicas  # noqa: F401
from runnel.ops.exports import export_into as _export_into

__all__ = _export_into(globals(), "train")
