"""Builds Python op functions from the C++ op registry, as TensorFlow's op_def_library does.

Each function takes the op's inputs (positionally or by name), then its attributes that
cannot be inferred from the inputs, then `name`. Type attributes are inferred from input
dtypes, and list lengths from list inputs; plain Python values become constants of the
right dtype.
"""
import re

from runnel import _runnel
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework import tensor_util
from runnel.proto import op_def_pb2

_op_defs = None


def registered_op_defs():
    """{op name: OpDef} from the C++ registry."""
    global _op_defs
    if _op_defs is None:
        op_list = op_def_pb2.OpList()
        op_list.ParseFromString(_runnel.op_list())
        _op_defs = {op.name: op for op in op_list.op}
    return _op_defs


def camel_to_snake(name):
    """TensorFlow's Python name for an op: MatMul -> mat_mul, Conv2D -> conv2d."""
    s = re.sub(r"(?<=[a-z])([A-Z])", r"_\1", name)
    s = re.sub(r"(?<=[A-Z0-9])([A-Z])(?=[a-z])", r"_\1", s)
    return s.lower()


def _inferred_attrs(op_def):
    names = set()
    for arg in op_def.input_arg:
        names.update(a for a in (arg.type_attr, arg.number_attr, arg.type_list_attr) if a)
    return names


def _attr_def(op_def, name):
    for a in op_def.attr:
        if a.name == name:
            return a
    return None


def apply_op(op_def, inputs, attrs, name=None):
    """Adds one `op_def` op with `inputs` ({arg name: value}) and Python `attrs`."""
    attrs = dict(attrs)
    types = {}  # type attr -> DType, as learned from inputs or given
    for key, value in list(attrs.items()):
        a = _attr_def(op_def, key)
        if a is not None and a.type == "type" and value is not None:
            types[key] = dtypes.as_dtype(value)
    # Tensors fix type attrs first, so Python values convert to the same dtype.
    for arg in op_def.input_arg:
        values = inputs[arg.name]
        items = values if (arg.number_attr or arg.type_list_attr) else [values]
        for v in items:
            if isinstance(v, ops.Tensor) and arg.type_attr and arg.type_attr not in types:
                types[arg.type_attr] = v.dtype.base_dtype
    flat, attr_protos = [], {}
    for arg in op_def.input_arg:
        values = inputs[arg.name]
        is_list = bool(arg.number_attr or arg.type_list_attr)
        if is_list and not isinstance(values, (list, tuple)):
            raise TypeError(f"{op_def.name}: input '{arg.name}' must be a list of tensors, "
                            f"got {type(values).__name__}")
        items = list(values) if is_list else [values]
        converted = []
        for v in items:
            dtype = None
            if arg.type:
                dtype = dtypes.as_dtype(arg.type)
            elif arg.type_attr:
                dtype = types.get(arg.type_attr)
            preferred = None
            if dtype is None and arg.type_attr:
                a = _attr_def(op_def, arg.type_attr)
                if a is not None and a.HasField("default_value"):
                    preferred = dtypes.as_dtype(a.default_value.type)
            try:
                t = ops.convert_to_tensor(v, dtype=dtype, preferred_dtype=preferred)
            except (TypeError, ValueError) as e:
                raise TypeError(f"{op_def.name}: input '{arg.name}': {e}") from None
            if arg.type_attr and arg.type_attr not in types:
                types[arg.type_attr] = t.dtype.base_dtype
            converted.append(t)
        if arg.number_attr:
            attrs.setdefault(arg.number_attr, len(converted))
        if arg.type_list_attr:
            attrs.setdefault(arg.type_list_attr, [t.dtype for t in converted])
        flat.extend(converted)
    for key, dtype in types.items():
        attrs.setdefault(key, dtype)
    for a in op_def.attr:
        if a.name in attrs and attrs[a.name] is not None:
            try:
                attr_protos[a.name] = tensor_util.attr_value(attrs[a.name], a.type)
            except (TypeError, ValueError) as e:
                raise TypeError(f"{op_def.name}: attr '{a.name}': {e}") from None
        elif not a.HasField("default_value"):
            raise TypeError(f"{op_def.name}: missing required attr '{a.name}'")
    graph = next((t.graph for t in flat), None) or ops.get_default_graph()
    with graph.as_default():
        op = graph.create_op(op_def.name, flat, attr_protos, name=name)
    return _outputs(op_def, op)


def _outputs(op_def, op):
    if not op_def.output_arg:
        return op
    groups, pos = [], 0
    for arg in op_def.output_arg:
        if arg.number_attr:
            n = op.get_attr(arg.number_attr)
        elif arg.type_list_attr:
            n = len(op.get_attr(arg.type_list_attr))
        else:
            n = None
        if n is None:
            groups.append(op.outputs[pos])
            pos += 1
        else:
            groups.append(op.outputs[pos:pos + n])
            pos += n
    return groups[0] if len(groups) == 1 else tuple(groups)


def make_op_function(op_def):
    """A Python function for `op_def`: inputs, then non-inferred attrs, then name."""
    input_names = [a.name for a in op_def.input_arg]
    inferred = _inferred_attrs(op_def)
    attr_names = [a.name for a in op_def.attr if a.name not in inferred]
    required = [a.name for a in op_def.attr
                if a.name not in inferred and not a.HasField("default_value")]
    positional = input_names + attr_names

    def op_function(*args, **kwargs):
        name = kwargs.pop("name", None)
        if len(args) > len(positional):
            raise TypeError(f"{fn_name}() takes at most {len(positional)} positional arguments")
        bound = dict(zip(positional, args))
        for key, value in kwargs.items():
            if key in bound:
                raise TypeError(f"{fn_name}() got multiple values for argument '{key}'")
            if key not in positional and key not in inferred:
                raise TypeError(f"{fn_name}() got an unexpected keyword argument '{key}'")
            bound[key] = value
        missing = [n for n in input_names + required if n not in bound]
        if missing:
            raise TypeError(f"{fn_name}() missing required argument(s): {', '.join(missing)}")
        inputs = {n: bound.pop(n) for n in input_names}
        return apply_op(op_def, inputs, bound, name=name)

    fn_name = camel_to_snake(op_def.name)
    op_function.__name__ = fn_name
    op_function.__qualname__ = fn_name
    args_doc = ", ".join(positional + ["name=None"])
    op_function.__doc__ = f"{op_def.name}({args_doc}): {op_def.summary}"
    return op_function
