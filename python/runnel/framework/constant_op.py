"""tf.constant."""
import numpy as np

from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework import tensor_util
from runnel.framework.api_export import tf_export


@tf_export("constant")
def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """A Const op holding `value` (converted to `dtype`, broadcast to `shape`)."""
    if verify_shape and shape is not None and list(np.shape(value)) != list(shape):
        raise TypeError(f"expected shape {list(shape)}, got {list(np.shape(value))}")
    proto = tensor_util.make_tensor_proto(value, dtype=dtype, shape=shape)
    attrs = {"value": tensor_util.attr_value(proto, "tensor"),
             "dtype": tensor_util.attr_value(dtypes.as_dtype(proto.dtype), "type")}
    return ops.get_default_graph().create_op("Const", [], attrs, name=name).outputs[0]


def _constant_tensor_conversion(value, dtype=None, name=None):
    return constant(value, dtype=dtype, name=name)


# Numbers, lists and arrays become constants: the last resort of ops.convert_to_tensor.
ops.register_tensor_conversion_function(object, _constant_tensor_conversion, priority=200)
