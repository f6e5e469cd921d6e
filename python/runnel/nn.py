"""tf.nn: neural-network functions (see framework/api_export.py), and tf.nn.rnn_cell."""
import sys as _sys
import types as _types

from runnel.ops import nn_impl as _nn_impl  # noqa: F401 - their @tf_export functions
from runnel.ops import nn_ops as _nn_ops  # noqa: F401
from runnel.ops import rnn as _rnn  # noqa: F401
from runnel.ops import rnn_cell_impl as _rnn_cell_impl  # noqa: F401
from runnel.ops.exports import export_into as _export_into

__all__ = _export_into(globals(), "nn")

rnn_cell = _types.ModuleType(__name__ + ".rnn_cell", "tf.nn.rnn_cell: the recurrent cells.")
rnn_cell.__all__ = _export_into(vars(rnn_cell), "nn.rnn_cell")
_sys.modules[rnn_cell.__name__] = rnn_cell
