"""Runnel: a dataflow-graph runtime with TensorFlow 1.x's Python API.

    import runnel as tf
    x = tf.placeholder(tf.float32, [None, 784])
    y = tf.nn.relu(tf.matmul(x, w) + b)
    with tf.Session() as sess:
        print(sess.run(y, feed_dict={x: batch}))

Every public function and class declares its names where it is defined (`@tf_export`, or
`.Endpoints(...)` on a C++ op registration); the modules below fill themselves from those
declarations (framework/api_export.py). Only values are listed here: dtypes and constants.
"""
from runnel.framework.dtypes import (bfloat16, bool, double, float16, float32, float64, half,
                                     int8, int16, int32, int64, resource, string, uint8,
                                     uint16)
from runnel.ops.variable_scope import AUTO_REUSE
from runnel.proto.graph_pb2 import GraphDef
from runnel.proto.node_def_pb2 import NodeDef
from runnel.ops.exports import export_into as _export_into

# The modules whose functions declare top-level names.
from runnel.client import session as _session  # noqa: F401
from runnel.framework import constant_op as _constant_op  # noqa: F401
from runnel.framework import importer as _importer  # noqa: F401
from runnel.framework import ops as _ops  # noqa: F401
from runnel.framework import tensor_shape as _tensor_shape  # noqa: F401
from runnel.ops import array_ops as _array_ops  # noqa: F401
from runnel.ops import control_flow_ops as _control_flow_ops  # noqa: F401
from runnel.ops import data_flow_ops as _data_flow_ops  # noqa: F401
from runnel.ops import functional_ops as _functional_ops  # noqa: F401
from runnel.ops import gradients as _gradients  # noqa: F401
from runnel.ops import init_ops as _init_ops  # noqa: F401
from runnel.ops import io_ops as _io_ops  # noqa: F401
from runnel.ops import math_ops as _math_ops  # noqa: F401
from runnel.ops import nn_impl as _nn_impl  # noqa: F401
from runnel.ops import nn_ops as _nn_ops  # noqa: F401
from runnel.ops import random_ops as _random_ops  # noqa: F401
from runnel.ops import rnn as _rnn  # noqa: F401
from runnel.ops import rnn_cell_impl as _rnn_cell_impl  # noqa: F401
from runnel.ops import summary_ops as _summary_ops  # noqa: F401
from runnel.ops import tensor_array_ops as _tensor_array_ops  # noqa: F401
from runnel.ops import variable_scope as _variable_scope  # noqa: F401
from runnel.ops import variables as _variables  # noqa: F401

# The public submodules.
from runnel import compat
from runnel import config
from runnel import datasets
from runnel import errors
from runnel import image
from runnel import initializers
from runnel import io
from runnel import keras
from runnel import layers
from runnel import losses
from runnel import math
from runnel import nn
from runnel import raw_ops
from runnel import summary
from runnel import test
from runnel import train
from runnel.framework import graph_util

_export_into(globals(), "")
newaxis = None
__version__ = "0.1.0"
