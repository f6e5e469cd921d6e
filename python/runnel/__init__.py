"""Runnel: a dataflow-graph runtime with TensorFlow 1.x's Python API.

    import runnel as tf
    x = tf.placeholder(tf.float32, [None, 784])
    y = tf.nn.relu(tf.matmul(x, w) + b)
    with tf.Session() as sess:
        print(sess.run(y, feed_dict={x: batch}))
"""
from runnel import errors
from runnel.client.session import ConfigProto
from runnel.client.session import InteractiveSession
from runnel.client.session import Session
from runnel.client.session import get_default_session
from runnel.framework.constant_op import constant
from runnel.framework.dtypes import DType, as_dtype
from runnel.framework.dtypes import (bfloat16, bool, double, float16, float32, float64, half,
                                     int8, int16, int32, int64, string, uint8, uint16)
from runnel.framework.importer import import_graph_def
from runnel.framework.ops import (Graph, Operation, Tensor, add_to_collection,
                                  control_dependencies, convert_to_tensor, device,
                                  get_collection, get_default_graph, name_scope,
                                  register_tensor_conversion_function, reset_default_graph)
from runnel.framework.tensor_shape import Dimension, TensorShape
from runnel.ops.control_flow_ops import case, cond, group, tuple
from runnel.ops.gradients import gradients
from runnel.ops.init_ops import (constant_initializer, glorot_normal_initializer,
                                 glorot_uniform_initializer, ones_initializer,
                                 random_normal_initializer, random_uniform_initializer,
                                 truncated_normal_initializer, variance_scaling_initializer,
                                 zeros_initializer)
from runnel.ops.random_ops import (multinomial, random_normal, random_shuffle, random_uniform,
                                   set_random_seed, truncated_normal)
from runnel.ops.variable_scope import (AUTO_REUSE, VariableScope, get_variable,
                                       get_variable_scope, variable_scope)
from runnel.ops.variables import (GraphKeys, Variable, assign, assign_add, assign_sub,
                                  global_variables,
                                  global_variables_initializer, is_variable_initialized,
                                  local_variables, local_variables_initializer,
                                  trainable_variables, variables_initializer)
from runnel.proto.graph_pb2 import GraphDef
from runnel.proto.node_def_pb2 import NodeDef
from runnel import image
from runnel.framework import graph_util
from runnel import io
from runnel.io import decode_raw, read_file
from runnel import layers
from runnel import math
from runnel import nn
from runnel import train
from runnel import compat
from runnel import datasets
from runnel import initializers
from runnel import losses
from runnel import raw_ops
from runnel import keras
from runnel.ops.gen_ops import no_op

from runnel.framework.api_export import export_into as _export_into
from runnel.ops import array_ops as _array_ops  # noqa: F401 - their @tf_export functions
from runnel.ops import math_ops as _math_ops  # noqa: F401
from runnel.ops import nn_impl as _nn_impl  # noqa: F401
from runnel.ops import nn_ops as _nn_ops  # noqa: F401

_export_into(globals(), "")  # the functions declared under top-level names (array, math, nn so far)
newaxis = None
__version__ = "0.1.0"
