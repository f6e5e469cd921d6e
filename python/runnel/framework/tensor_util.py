"""numpy <-> TensorProto, and NodeDef attribute values from Python values."""
import numpy as np

from runnel.framework import dtypes
from runnel.framework import tensor_shape
from runnel.proto import attr_value_pb2
from runnel.proto import tensor_pb2
from runnel.proto import tensor_shape_pb2


def _is_strings(value, dtype):
    if dtype is not None:
        return dtypes.as_dtype(dtype) == dtypes.string
    if isinstance(value, (bytes, str)):
        return True
    array = np.asarray(value) if not isinstance(value, np.ndarray) else value
    return array.dtype.kind in "SU" or (array.dtype == object and array.size > 0 and
                                        isinstance(array.flat[0], (bytes, str)))


def string_array(value):
    """`value` (bytes, str or nested lists/arrays of them) as an object array of bytes."""
    array = np.asarray(value, dtype=object)
    out = np.empty(array.shape, dtype=object)
    for index, item in np.ndenumerate(array):
        if isinstance(item, str):
            item = item.encode()
        if not isinstance(item, (bytes, np.bytes_)):
            raise TypeError(f"expected bytes or str in a string tensor, got {item!r}")
        out[index] = bytes(item)
    return out


def _infer_numpy(value, dtype):
    """The numpy array for `value`, with TensorFlow's defaults (float32, int32)."""
    if _is_strings(value, dtype):
        return string_array(value)
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
        array = np.asarray(value)
        if array.dtype.kind in "fc" and dtype.is_integer and array.size and \
                not np.all(np.mod(array, 1) == 0):
            raise TypeError(f"cannot convert {value!r} to {dtype.name} without losing the "
                            "fractional part")
        return np.asarray(value, dtype=dtype.as_numpy_dtype)
    array = np.asarray(value)
    if array.dtype == np.float64 and not isinstance(value, np.ndarray) and \
            not isinstance(value, np.generic):
        return array.astype(np.float32)
    if array.dtype == np.int64 and not isinstance(value, (np.ndarray, np.generic)):
        if array.size == 0 or (array.min() >= -2**31 and array.max() < 2**31):
            return array.astype(np.int32)
    if array.dtype.kind in "US" or array.dtype == object:
        raise TypeError(f"cannot convert {value!r} to a numeric tensor")
    return array


def make_tensor_proto(value, dtype=None, shape=None):
    """A TensorProto holding `value` (a number, nested list or numpy array)."""
    array = _infer_numpy(value, dtype)
    if shape is not None:
        shape = [int(d) for d in tensor_shape.as_shape(shape).as_list()]
        if array.size == 1 and int(np.prod(shape)) != 1:
            array = np.full(shape, array.reshape(()), dtype=array.dtype)
        elif array.size != int(np.prod(shape)):
            raise ValueError(f"cannot make a tensor of shape {shape} from {array.size} values")
        array = array.reshape(shape)
    proto = tensor_pb2.TensorProto()
    strings = array.dtype == object
    proto.dtype = (dtypes.string if strings else dtypes.as_dtype(array.dtype)).as_datatype_enum
    for d in array.shape:
        proto.tensor_shape.dim.add().size = d
    if strings:
        proto.string_val.extend(array.reshape(-1).tolist())
    else:
        proto.tensor_content = np.ascontiguousarray(array).tobytes()
    return proto


def make_ndarray(proto):
    """The numpy array a TensorProto holds."""
    dtype = dtypes.as_dtype(proto.dtype)
    shape = [d.size for d in proto.tensor_shape.dim]
    count = int(np.prod(shape)) if shape else 1
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, dtype=dtype.as_numpy_dtype).reshape(shape).copy()
    field = {dtypes.float32: proto.float_val, dtypes.float64: proto.double_val,
             dtypes.int64: proto.int64_val, dtypes.bool: proto.bool_val,
             dtypes.float16: proto.half_val}.get(dtype, proto.int_val)
    values = list(field)
    if dtype == dtypes.float16:
        values = np.array(values, dtype=np.uint16).view(np.float16)
    if not values:
        return np.zeros(shape, dtype=dtype.as_numpy_dtype)
    array = np.empty(count, dtype=dtype.as_numpy_dtype)
    array[:len(values)] = values
    array[len(values):] = values[-1]
    return array.reshape(shape)


def shape_proto(shape):
    proto = tensor_shape_pb2.TensorShapeProto()
    shape = tensor_shape.as_shape(shape)
    if shape.ndims is None:
        proto.unknown_rank = True
    else:
        for d in shape.as_list():
            proto.dim.add().size = -1 if d is None else d
    return proto


def attr_value(value, attr_type):
    """An AttrValue of OpDef type `attr_type` ("int", "list(type)", ...) for `value`."""
    a = attr_value_pb2.AttrValue()
    if attr_type.startswith("list("):
        elem = attr_type[5:-1]
        items = list(value)
        if elem == "int":
            a.list.i.extend(int(v) for v in items)
        elif elem == "float":
            a.list.f.extend(float(v) for v in items)
        elif elem == "bool":
            a.list.b.extend(bool(v) for v in items)
        elif elem == "string":
            a.list.s.extend(v.encode() if isinstance(v, str) else v for v in items)
        elif elem == "type":
            a.list.type.extend(dtypes.as_dtype(v).as_datatype_enum for v in items)
        elif elem == "shape":
            a.list.shape.extend(shape_proto(v) for v in items)
        else:
            raise TypeError(f"unsupported attr type {attr_type}")
        if not items:
            a.list.SetInParent()
        return a
    if attr_type == "int":
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"expected an int, got {value!r}")
        a.i = int(value)
    elif attr_type == "float":
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"expected a float, got {value!r}")
        a.f = float(value)
    elif attr_type == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"expected a bool, got {value!r}")
        a.b = bool(value)
    elif attr_type == "string":
        if not isinstance(value, (str, bytes)):
            raise TypeError(f"expected a string, got {value!r}")
        a.s = value.encode() if isinstance(value, str) else value
    elif attr_type == "type":
        a.type = dtypes.as_dtype(value).as_datatype_enum
    elif attr_type == "shape":
        a.shape.CopyFrom(shape_proto(value))
    elif attr_type == "tensor":
        a.tensor.CopyFrom(value if isinstance(value, tensor_pb2.TensorProto)
                          else make_tensor_proto(value))
    else:
        raise TypeError(f"unsupported attr type {attr_type}")
    return a


def attr_to_python(a):
    """The Python value an AttrValue holds (Operation.get_attr)."""
    kind = a.WhichOneof("value")
    if kind == "list":
        lst = a.list
        if lst.type:
            return [dtypes.as_dtype(t) for t in lst.type]
        if lst.shape:
            return [tensor_shape.TensorShape(None if s.unknown_rank else [d.size for d in s.dim])
                    for s in lst.shape]
        for field in ("i", "f", "b", "s"):
            if getattr(lst, field):
                return list(getattr(lst, field))
        return []
    if kind == "type":
        return dtypes.as_dtype(a.type)
    if kind == "shape":
        return tensor_shape.TensorShape(None if a.shape.unknown_rank
                                        else [d.size for d in a.shape.dim])
    if kind is None:
        return []
    return getattr(a, kind)
