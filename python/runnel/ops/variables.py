"""tf.Variable and the variable collections. A Variable is a VariableV2 op (holding the
value across runs), an Assign op that initializes it (`initializer`) and an Identity that
reads it (`<name>/read`), which is what the variable stands for in expressions."""
from runnel.framework import ops
from runnel.framework import tensor_shape
from runnel.framework import tensor_util
from runnel.framework.api_export import tf_export
from runnel.ops import gen_ops


@tf_export("GraphKeys")
class GraphKeys:
    GLOBAL_VARIABLES = "variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    LOCAL_VARIABLES = "local_variables"
    MODEL_VARIABLES = "model_variables"
    GLOBAL_STEP = "global_step"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    REGULARIZATION_LOSSES = "regularization_losses"
    SUMMARIES = "summaries"


@tf_export("Variable")
class Variable:
    """A tensor whose value persists across runs of a session."""

    def __init__(self, initial_value=None, trainable=True, collections=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None,
                 expected_shape=None, import_scope=None, constraint=None, use_resource=None,
                 synchronization=None, aggregation=None, shape=None):
        if initial_value is None:
            raise ValueError("initial_value must be specified")
        graph = ops.get_default_graph()
        # The variable and its initializer belong to no control context: an optimizer's
        # slot made under control_dependencies(UPDATE_OPS), or a variable made in a cond
        # branch, must still initialize on its own (as in TensorFlow).
        with graph.control_dependencies(None), graph._in_cond_context(None), \
                graph.name_scope(name or "Variable") as scope:
            if callable(initial_value):
                with graph.name_scope("Initializer"):
                    initial_value = initial_value()
            self._initial_value = ops.convert_to_tensor(initial_value, dtype=dtype,
                                                        name="initial_value")
            value_shape = self._initial_value.shape
            if shape is not None:
                var_shape = tensor_shape.as_shape(shape)
            else:
                var_shape = value_shape if validate_shape else tensor_shape.TensorShape(None)
            attrs = {"shape": tensor_util.attr_value(var_shape, "shape"),
                     "dtype": tensor_util.attr_value(self._initial_value.dtype, "type")}
            self._variable = graph.create_op("VariableV2", [], attrs, name=scope).outputs[0]
            # Its initializer and its read live with it, as in TensorFlow (loc:@ the variable).
            with graph.colocate_with(self._variable.op):
                self._initializer_op = gen_ops.assign(self._variable, self._initial_value,
                                                      validate_shape=validate_shape,
                                                      name="Assign").op
                self._snapshot = gen_ops.identity(self._variable, name="read")
        self._trainable = trainable
        collections = list(collections) if collections is not None else \
            [GraphKeys.GLOBAL_VARIABLES]
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(GraphKeys.TRAINABLE_VARIABLES)
        graph.add_to_collections(collections, self)

    # --- identity ---------------------------------------------------------------------
    @property
    def name(self):
        return self._variable.name

    @property
    def op(self):
        return self._variable.op

    @property
    def graph(self):
        return self._variable.graph

    @property
    def dtype(self):
        return self._variable.dtype

    @property
    def shape(self):
        return self._variable.shape

    def get_shape(self):
        return self.shape

    @property
    def device(self):
        return self._variable.device

    @property
    def trainable(self):
        return self._trainable

    @property
    def initializer(self):
        return self._initializer_op

    @property
    def initial_value(self):
        return self._initial_value

    def _ref(self):
        """The VariableV2 output: a reference that Assign and optimizers write through."""
        return self._variable

    def value(self):
        return self._snapshot

    def read_value(self):
        return gen_ops.identity(self._variable, name="read")

    def _as_graph_element(self):
        return self._snapshot

    # --- updates ----------------------------------------------------------------------
    def assign(self, value, use_locking=None, name=None, read_value=True):
        out = gen_ops.assign(self._variable, value, name=name)
        return out if read_value else out.op

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        out = gen_ops.assign_add(self._variable, delta, name=name)
        return out if read_value else out.op

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        out = gen_ops.assign_sub(self._variable, delta, name=name)
        return out if read_value else out.op

    def eval(self, session=None):
        return self._snapshot.eval(session=session)

    def load(self, value, session=None):
        """Sets the value from Python (feeds the initial value and runs the initializer)."""
        session = session or ops.get_default_session()
        if session is None:
            raise ValueError("Variable.load() needs a session: pass one, or use it inside "
                             "`with tf.Session():`")
        session.run(self._initializer_op, {self._initial_value: value})

    def __repr__(self):
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}>"

    def __hash__(self):
        return id(self)


def _variable_to_tensor(v, dtype=None, name=None):
    if dtype is not None and dtype != v.dtype:
        raise ValueError(f"cannot convert variable {v.name} of dtype {v.dtype.name} to {dtype}")
    return v.value()


ops.register_tensor_conversion_function(Variable, _variable_to_tensor)

# Variables take part in expressions through their value.
for _name in ["__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
              "__rmod__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__neg__",
              "__abs__", "__lt__", "__le__", "__gt__", "__ge__", "__getitem__"]:
    def _forward(self, *args, _name=_name):
        return getattr(self.value(), _name)(*args)
    setattr(Variable, _name, _forward)


def _ref_of(ref):
    return ref._ref() if isinstance(ref, Variable) else ref


@tf_export("assign")
def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    """Stores `value` in the variable `ref`; returns the new value."""
    return gen_ops.assign(_ref_of(ref), value, name=name)


@tf_export("assign_add")
def assign_add(ref, value, use_locking=None, name=None):
    return gen_ops.assign_add(_ref_of(ref), value, name=name)


@tf_export("assign_sub")
def assign_sub(ref, value, use_locking=None, name=None):
    return gen_ops.assign_sub(_ref_of(ref), value, name=name)


@tf_export("global_variables")
def global_variables(scope=None):
    return ops.get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


@tf_export("trainable_variables")
def trainable_variables(scope=None):
    return ops.get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


@tf_export("local_variables")
def local_variables(scope=None):
    return ops.get_collection(GraphKeys.LOCAL_VARIABLES, scope)


@tf_export("variables_initializer", "initializers.variables")
def variables_initializer(var_list, name="init"):
    from runnel.ops import control_flow_ops
    return control_flow_ops.group(*[v.initializer for v in var_list], name=name)


@tf_export("global_variables_initializer", "initializers.global_variables")
def global_variables_initializer():
    return variables_initializer(global_variables(), name="init")


@tf_export("local_variables_initializer", "initializers.local_variables")
def local_variables_initializer():
    return variables_initializer(local_variables(), name="init")


@tf_export("is_variable_initialized")
def is_variable_initialized(variable):
    return gen_ops.is_variable_initialized(variable._ref())
