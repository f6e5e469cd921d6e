"""DType objects (tf.float32, ...) wrapping the DataType enum shared with GraphDef."""
import numpy as np

from runnel.framework.api_export import tf_export


@tf_export("DType")
class DType:
    """An element type: `tf.float32.name == "float32"`, `.as_numpy_dtype`, `.is_floating`."""

    def __init__(self, enum, name, numpy_dtype):
        self._enum = enum
        self._name = name
        self._numpy = numpy_dtype

    @property
    def name(self):
        return self._name

    @property
    def as_datatype_enum(self):
        return self._enum

    @property
    def as_numpy_dtype(self):
        return self._numpy

    @property
    def base_dtype(self):
        return _BY_ENUM[self._enum - 100] if self._enum > 100 else self

    @property
    def is_floating(self):
        return self._numpy is not None and np.issubdtype(self._numpy, np.floating)

    @property
    def is_integer(self):
        return self._numpy is not None and np.issubdtype(self._numpy, np.integer)

    @property
    def is_bool(self):
        return self._numpy is np.bool_

    @property
    def is_unsigned(self):
        return self._numpy is not None and np.issubdtype(self._numpy, np.unsignedinteger)

    @property
    def size(self):
        return np.dtype(self._numpy).itemsize if self._numpy is not None else 0

    @property
    def min(self):
        return np.finfo(self._numpy).min if self.is_floating else np.iinfo(self._numpy).min

    @property
    def max(self):
        return np.finfo(self._numpy).max if self.is_floating else np.iinfo(self._numpy).max

    def __eq__(self, other):
        try:
            return self._enum == as_dtype(other)._enum
        except TypeError:
            return False

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return self._enum

    def __repr__(self):
        return f"tf.{self._name}"

    def __str__(self):
        return f"<dtype: '{self._name}'>"


float16 = half = DType(19, "float16", np.float16)
float32 = DType(1, "float32", np.float32)
float64 = double = DType(2, "float64", np.float64)
int8 = DType(6, "int8", np.int8)
int16 = DType(5, "int16", np.int16)
int32 = DType(3, "int32", np.int32)
int64 = DType(9, "int64", np.int64)
uint8 = DType(4, "uint8", np.uint8)
uint16 = DType(17, "uint16", np.uint16)
bool = DType(10, "bool", np.bool_)  # noqa: A001 - TensorFlow's name
string = DType(7, "string", np.object_)
bfloat16 = DType(14, "bfloat16", None)
resource = DType(20, "resource", None)  # a handle (a TensorArray's)

_ALL = [float16, float32, float64, int8, int16, int32, int64, uint8, uint16, bool, string,
        bfloat16, resource]
_BY_ENUM = {d.as_datatype_enum: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update({"float": float32, "double": float64, "half": float16})
_BY_NUMPY = {np.dtype(d.as_numpy_dtype): d for d in _ALL if d.as_numpy_dtype is not None
             and d is not string}


@tf_export("as_dtype")
def as_dtype(value):
    """Converts a DType, enum value, name, numpy dtype or Python type to a DType."""
    if isinstance(value, DType):
        return value
    if isinstance(value, int) and not isinstance(value, type(True)):
        if value in _BY_ENUM:
            return _BY_ENUM[value]
        if value - 100 in _BY_ENUM:  # reference types read as their base type
            return _BY_ENUM[value - 100]
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    if value is float:
        return float32
    if value is int:
        return int32
    if value is type(True):
        return bool
    try:
        return _BY_NUMPY[np.dtype(value)]
    except (TypeError, KeyError):
        pass
    raise TypeError(f"cannot convert {value!r} to a dtype")
