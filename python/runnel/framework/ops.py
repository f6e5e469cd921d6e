"""Graph, Operation and Tensor, with TensorFlow 1.x's names and behaviour.

A Python Graph mirrors a C++ Graph: every op is added to the C++ graph at once, which
validates it against the op registry, fills default attributes and infers output shapes.
"""
import contextlib
import re
import threading

from runnel import _runnel
from runnel.framework import device_spec
from runnel.framework import dtypes
from runnel.framework import tensor_shape
from runnel.framework import tensor_util
from runnel.framework.api_export import tf_export
from runnel.proto import graph_pb2
from runnel.proto import node_def_pb2

_VALID_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$")


@tf_export("Tensor")
class Tensor:
    """A symbolic output of an Operation: `name` is "op_name:index"."""

    # numpy must defer to our operators (ndarray + Tensor -> Tensor.__radd__).
    __array_priority__ = 100

    _is_ref = False  # set on a variable's reference output

    def __init__(self, op, value_index, dtype, shape):
        self._op = op
        self._value_index = value_index
        self._dtype = dtype
        self._shape = shape

    @property
    def op(self):
        return self._op

    @property
    def value_index(self):
        return self._value_index

    @property
    def dtype(self):
        return self._dtype

    @property
    def graph(self):
        return self._op.graph

    @property
    def name(self):
        return f"{self._op.name}:{self._value_index}"

    @property
    def device(self):
        return self._op.device

    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        return self._shape

    def set_shape(self, shape):
        """Narrows the static shape (it must be compatible with what is known); ops built
        on this tensor later infer their shapes from the narrowed one."""
        self._shape = self._shape.merge_with(shape)
        dims = None if self._shape.ndims is None else \
            [-1 if d is None else d for d in self._shape.as_list()]
        self._op.graph._c_graph.set_shape(self._op.name, self._value_index, dims)

    def consumers(self):
        return [op for op in self.graph.get_operations()
                if any(t is self for t in op.inputs)]

    def eval(self, feed_dict=None, session=None):
        session = session or get_default_session()
        if session is None:
            raise ValueError("Tensor.eval() needs a session: pass one, or use it inside "
                             "`with tf.Session():`")
        return session.run(self, feed_dict=feed_dict)

    def __repr__(self):
        return f"<tf.Tensor '{self.name}' shape={self._shape} dtype={self._dtype.name}>"

    def __hash__(self):
        return id(self)

    def __iter__(self):
        if self._shape.ndims is None or self._shape[0].value is None:
            raise TypeError("cannot iterate over a tensor whose first dim is unknown")
        return iter([self[i] for i in range(self._shape[0].value)])

    def __bool__(self):
        raise TypeError("using a tf.Tensor as a Python bool is not allowed; use tf.cond or "
                        "evaluate it in a session")

    def __len__(self):
        raise TypeError("len is not well defined for symbolic tensors; use tf.shape")


@tf_export("Operation")
class Operation:
    """A node in the graph."""

    def __init__(self, graph, node_def, output_types, output_shapes, inputs, control_inputs):
        self._graph = graph
        self._node_def = node_def
        self._inputs = list(inputs)
        self._control_inputs = list(control_inputs)
        self._outputs = [
            Tensor(self, i, dtypes.as_dtype(t), tensor_shape.TensorShape(s))
            for i, (t, s) in enumerate(zip(output_types, output_shapes))]
        for t, enum in zip(self._outputs, output_types):
            t._is_ref = enum > 100  # a variable's reference, read as its base dtype

    @property
    def name(self):
        return self._node_def.name

    @property
    def type(self):
        return self._node_def.op

    @property
    def graph(self):
        return self._graph

    @property
    def device(self):
        return self._node_def.device

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def control_inputs(self):
        return list(self._control_inputs)

    @property
    def node_def(self):
        return self._node_def

    def values(self):
        return tuple(self._outputs)

    def get_attr(self, name):
        if name not in self._node_def.attr:
            raise ValueError(f"operation '{self.name}' has no attr named '{name}'")
        return tensor_util.attr_to_python(self._node_def.attr[name])

    def run(self, feed_dict=None, session=None):
        session = session or get_default_session()
        if session is None:
            raise ValueError("Operation.run() needs a session")
        session.run(self, feed_dict=feed_dict)

    def __repr__(self):
        return f"<tf.Operation '{self.name}' type={self.type}>"


@tf_export("Graph")
class Graph:
    """A dataflow graph. Use `with g.as_default():` to build into it."""

    def __init__(self):
        self._c_graph = _runnel.Graph()
        self._ops = []
        self._ops_by_name = {}
        self._names_in_use = {}
        self._name_stack = ""
        self._control_inputs_stack = []
        self._device_stack = []  # specs, device functions, or None (a cleared scope)
        self._colocation_stack = []  # Operations: tf.colocate_with
        self._cond_context = None  # the tf.cond branch being built, if any
        self._collections = {}
        self._finalized = False
        self.seed = None

    # --- building -------------------------------------------------------------------
    def as_default(self):
        return _default_graph_stack.get_controller(self)

    def unique_name(self, name, mark_as_used=True):
        """`name` under the current name scope, suffixed _1, _2, ... if taken."""
        if self._name_stack:
            name = f"{self._name_stack}/{name}"
        key = name.lower()
        count = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = count + 1
        if count > 0:
            base = name
            while f"{base}_{count}".lower() in self._names_in_use:
                count += 1
            name = f"{base}_{count}"
            if mark_as_used:
                self._names_in_use[name.lower()] = 1
        return name

    def get_name_scope(self):
        return self._name_stack

    @contextlib.contextmanager
    def name_scope(self, name):
        old = self._name_stack
        if name is None or name == "":
            self._name_stack = ""
        elif name.endswith("/"):  # an existing scope, re-entered as is
            self._name_stack = name[:-1]
        else:
            if not _VALID_NAME.match(name):
                raise ValueError(f"'{name}' is not a valid scope name")
            self._name_stack = self.unique_name(name)
        try:
            yield (self._name_stack + "/") if self._name_stack else ""
        finally:
            self._name_stack = old

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        """Ops created inside run after `control_inputs` (None clears outer ones)."""
        if control_inputs is None:
            saved, self._control_inputs_stack = self._control_inputs_stack, []
            try:
                yield
            finally:
                self._control_inputs_stack = saved
            return
        ops = []
        for c in control_inputs:
            if isinstance(c, Tensor):
                c = c.op
            if hasattr(c, "_as_graph_element"):
                c = c._as_graph_element()
                c = c.op if isinstance(c, Tensor) else c
            if not isinstance(c, Operation):
                raise TypeError(f"control input must be an Operation or Tensor, got {c!r}")
            ops.append(c)
        self._control_inputs_stack.append(ops)
        try:
            yield
        finally:
            self._control_inputs_stack.pop()

    @contextlib.contextmanager
    def device(self, device_name_or_function):
        """Ops created inside run on this device: a spec merged with the enclosing scopes'
        (its parts win), a function of the op returning a spec (a device setter), or None,
        which clears the enclosing scopes."""
        spec = device_name_or_function
        if spec is not None and not callable(spec):
            device_spec.DeviceSpec.from_string(spec)  # a bad spec fails here, not later
        self._device_stack.append(spec)
        try:
            yield
        finally:
            self._device_stack.pop()

    @contextlib.contextmanager
    def colocate_with(self, op, ignore_existing=False):
        """Ops created inside share `op`'s device (device scopes do not apply to them)."""
        if op is None:
            saved, self._colocation_stack = self._colocation_stack, []
            try:
                yield
            finally:
                self._colocation_stack = saved
            return
        op = op.op if hasattr(op, "op") and not isinstance(op, Operation) else op
        if not isinstance(op, Operation):
            raise TypeError(f"colocate_with takes an op, tensor or variable, got {op!r}")
        saved = self._colocation_stack
        self._colocation_stack = ([] if ignore_existing else saved) + [op]
        try:
            yield
        finally:
            self._colocation_stack = saved

    @contextlib.contextmanager
    def _in_cond_context(self, context):
        """Ops created inside belong to `context` (a tf.cond branch; None: no branch)."""
        saved, self._cond_context = self._cond_context, context
        try:
            yield
        finally:
            self._cond_context = saved

    def _device_for(self, node):
        """The device for a new op: its colocation target's, else the device scopes',
        innermost first (TensorFlow's order), each filling what the inner ones left."""
        if self._colocation_stack:
            target = self._colocation_stack[-1]
            classes = [c.decode() if isinstance(c, bytes) else c
                       for c in target.node_def.attr["_class"].list.s] or \
                [f"loc:@{target.name}"]
            node.attr["_class"].list.s.extend(c.encode() for c in classes)
            return target.device
        current = ""
        for entry in reversed(self._device_stack):
            if entry is None:
                break
            if callable(entry):
                proposed = entry(_DeviceFunctionOp(node, current))
                spec = proposed.to_string() if isinstance(proposed, device_spec.DeviceSpec) \
                    else (proposed or "")
            else:
                spec = entry
            current = device_spec.merge(spec, current)
        return current

    def create_op(self, op_type, inputs, attrs=None, name=None, control_inputs=None):
        """Adds an op; `inputs` are Tensors, `attrs` maps names to AttrValue protos."""
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        if name and name.endswith("/"):  # a scope name taken as is (TensorFlow's rule)
            name = name[:-1]
        else:
            name = self.unique_name(name or op_type)
        node = node_def_pb2.NodeDef(name=name, op=op_type)
        context = self._cond_context
        if context is not None:  # tensors from outside the branch enter through a Switch
            inputs = [context.enter(t) for t in inputs]
        for t in inputs:
            if t.graph is not self:
                raise ValueError(f"tensor {t.name} is from a different graph than op '{name}'")
            node.input.append(t.name if t.value_index else t.op.name)
        controls = []
        for ops in self._control_inputs_stack:
            controls.extend(ops)
        controls.extend(control_inputs or [])
        if context is not None and all(t._is_ref for t in inputs):  # dead when not taken
            controls.append(context.pivot.op)
        seen = set()
        control_ops = []
        for c in controls:
            if c.name not in seen and all(c is not t.op for t in inputs):
                seen.add(c.name)
                control_ops.append(c)
                node.input.append("^" + c.name)
        for key, value in (attrs or {}).items():
            node.attr[key].CopyFrom(value)
        node.device = self._device_for(node)  # device functions see the op's inputs and attrs
        info = self._c_graph.add_node(node.SerializeToString())
        op = self._record_op(info, list(inputs), control_ops)
        while context is not None:  # it belongs to every branch or loop it is built in
            context.ops.add(op)
            context = context.outer
        return op

    def _record_op(self, info, inputs, control_ops):
        serialized, output_types, output_shapes, _ = info
        node = node_def_pb2.NodeDef()
        node.ParseFromString(serialized)
        op = Operation(self, node, output_types, output_shapes, inputs, control_ops)
        self._ops.append(op)
        self._ops_by_name[op.name] = op
        self._names_in_use.setdefault(op.name.lower(), 1)
        return op

    def _update_input(self, op, index, tensor):
        """Makes `op`'s input `index` read `tensor` (a while loop's back edge)."""
        self._c_graph.update_input(op.name, index, tensor.name)
        op._inputs[index] = tensor

    def _add_imported_nodes(self, names):
        """Creates Operations for nodes the C++ graph already holds (import_graph_def)."""
        new_ops, back_edges, late_controls = [], [], []
        for n in names:
            info = self._c_graph.node_info(n)
            node = node_def_pb2.NodeDef()
            node.ParseFromString(info[0])
            inputs, controls = [], []
            for i in node.input:
                if i.startswith("^"):
                    if i[1:] in self._ops_by_name:
                        controls.append(self._ops_by_name[i[1:]])
                    else:  # made later (a while loop's gradient orders its pushes so)
                        late_controls.append((len(new_ops), i[1:]))
                    continue
                src, _, port = i.partition(":")
                if src in self._ops_by_name:
                    inputs.append(self._ops_by_name[src].outputs[int(port or 0)])
                else:  # a loop's back edge (NextIteration -> Merge): its source comes later
                    back_edges.append((len(new_ops), len(inputs), src, int(port or 0)))
                    inputs.append(None)
            new_ops.append(self._record_op(info, inputs, controls))
        for op_index, input_index, src, port in back_edges:
            new_ops[op_index]._inputs[input_index] = self._ops_by_name[src].outputs[port]
        for op_index, src in late_controls:
            new_ops[op_index]._control_inputs.append(self._ops_by_name[src])
        return new_ops

    # --- lookup ---------------------------------------------------------------------
    def get_operations(self):
        return list(self._ops)

    def get_operation_by_name(self, name):
        if name not in self._ops_by_name:
            raise KeyError(f"the graph has no operation named '{name}'")
        return self._ops_by_name[name]

    def get_tensor_by_name(self, name):
        op_name, sep, index = name.rpartition(":")
        if not sep or not index.isdigit():
            raise ValueError(f"'{name}' is not a tensor name (expected 'op_name:index')")
        op = self.get_operation_by_name(op_name)
        if int(index) >= len(op.outputs):
            raise KeyError(f"operation '{op_name}' has only {len(op.outputs)} outputs")
        return op.outputs[int(index)]

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        if isinstance(obj, (Tensor, Operation)):
            if obj.graph is not self:
                raise ValueError(f"{obj} is not an element of this graph")
            return obj
        if hasattr(obj, "_as_graph_element"):
            return self.as_graph_element(obj._as_graph_element(), allow_tensor, allow_operation)
        if isinstance(obj, str):
            if ":" in obj and allow_tensor:
                return self.get_tensor_by_name(obj)
            if allow_operation:
                return self.get_operation_by_name(obj)
        raise TypeError(f"cannot interpret {obj!r} as a graph element")

    def as_graph_def(self, add_shapes=False):
        graph_def = graph_pb2.GraphDef()
        graph_def.ParseFromString(self._c_graph.to_graph_def())
        if add_shapes:
            for node, op in zip(graph_def.node, self._ops):
                shapes = node.attr["_output_shapes"].list.shape
                for t in op.outputs:
                    shapes.add().CopyFrom(tensor_util.shape_proto(t.shape))
        return graph_def

    @property
    def version(self):
        return len(self._ops)

    def finalize(self):
        self._finalized = True

    @property
    def finalized(self):
        return self._finalized

    # --- collections ----------------------------------------------------------------
    def add_to_collection(self, name, value):
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        for n in ([names] if isinstance(names, str) else names):
            self.add_to_collection(n, value)

    def get_collection(self, name, scope=None):
        items = self._collections.get(name, [])
        if scope is None:
            return list(items)
        pattern = re.compile(scope)
        return [i for i in items if hasattr(i, "name") and pattern.match(i.name)]

    def get_collection_ref(self, name):
        return self._collections.setdefault(name, [])

    def get_all_collection_keys(self):
        return list(self._collections)


class _DefaultGraphStack(threading.local):
    def __init__(self):
        super().__init__()
        self.stack = []
        self.global_default = None

    def get_default(self):
        if self.stack:
            return self.stack[-1]
        if self.global_default is None:
            self.global_default = Graph()
        return self.global_default

    def reset(self):
        if self.stack:
            raise AssertionError("do not call reset_default_graph() inside a graph's "
                                 "`with g.as_default():` block")
        self.global_default = Graph()

    @contextlib.contextmanager
    def get_controller(self, graph):
        self.stack.append(graph)
        try:
            yield graph
        finally:
            self.stack.pop()


_default_graph_stack = _DefaultGraphStack()


@tf_export("get_default_graph")
def get_default_graph():
    return _default_graph_stack.get_default()


@tf_export("reset_default_graph")
def reset_default_graph():
    _default_graph_stack.reset()


@tf_export("name_scope")
def name_scope(name, default_name=None, values=None):
    """`with tf.name_scope("layer1"):` prefixes the names of ops created inside."""
    graph = get_default_graph()
    for v in values or []:
        if isinstance(v, (Tensor, Operation)):
            graph = v.graph
            break
    return graph.name_scope(name if name is not None else default_name)


@tf_export("control_dependencies")
def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


@tf_export("device")
def device(device_name_or_function):
    return get_default_graph().device(device_name_or_function)


@tf_export("colocate_with")
def colocate_with(op, ignore_existing=False):
    return get_default_graph().colocate_with(op, ignore_existing)


class _DeviceFunctionOp:
    """What a device function sees of the op being created: type, name, node_def and the
    device the inner scopes gave it."""

    def __init__(self, node_def, device):
        self.node_def, self.device = node_def, device
        self.type, self.name = node_def.op, node_def.name


@tf_export("add_to_collection")
def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


@tf_export("get_collection")
def get_collection(name, scope=None):
    return get_default_graph().get_collection(name, scope)


# --- the default session ---------------------------------------------------------------
# Sessions live in client/session.py, which builds on this module; Tensor.eval and
# Operation.run find the innermost `with session:` through this per-thread stack.
_session_stack = threading.local()


@tf_export("get_default_session")
def get_default_session():
    stack = getattr(_session_stack, "sessions", [])
    return stack[-1] if stack else None


@contextlib.contextmanager
def default_session(session):
    """Makes `session` the default in this thread while the context lasts."""
    if not hasattr(_session_stack, "sessions"):
        _session_stack.sessions = []
    _session_stack.sessions.append(session)
    try:
        yield session
    finally:
        _session_stack.sessions.remove(session)


# --- conversion to tensors ------------------------------------------------------------
_conversion_functions = []


@tf_export("register_tensor_conversion_function")
def register_tensor_conversion_function(base_type, conversion_func, priority=100):
    """`conversion_func(value, dtype=None, name=None, as_ref=False)` makes a Tensor."""
    _conversion_functions.append((priority, base_type, conversion_func))
    _conversion_functions.sort(key=lambda entry: entry[0])


@tf_export("convert_to_tensor")
def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None):
    """A Tensor for `value`: Tensors pass through (dtype checked), numbers and arrays
    become constants."""
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype.base_dtype != dtype:
            raise ValueError(f"tensor conversion requested dtype {dtype.name} for tensor "
                             f"{value.name} of dtype {value.dtype.name}")
        return value
    for _, base_type, func in _conversion_functions:
        if not isinstance(value, base_type):
            continue
        if dtype is None and preferred_dtype is not None:
            try:
                return func(value, dtype=dtypes.as_dtype(preferred_dtype), name=name)
            except (TypeError, ValueError):
                pass
        return func(value, dtype=dtype, name=name)
    raise TypeError(f"cannot convert {value!r} of type {type(value).__name__} to a Tensor")
