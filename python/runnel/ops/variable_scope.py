"""tf.variable_scope and tf.get_variable: named variables shared by name, with reuse."""
import contextlib

from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework import tensor_shape
from runnel.framework.api_export import tf_export
from runnel.ops import init_ops
from runnel.ops import variables


class _ReuseMode:
    def __repr__(self):
        return "tf.AUTO_REUSE"


AUTO_REUSE = _ReuseMode()


@tf_export("VariableScope")
class VariableScope:
    def __init__(self, name, reuse=None, initializer=None, regularizer=None, dtype=None,
                 custom_getter=None):
        self.name = name
        self.reuse = reuse
        self.initializer = initializer
        self.regularizer = regularizer
        self.dtype = dtype
        # custom_getter(getter, name, **kwargs) makes the scope's new variables (it may call
        # `getter` to make the usual one); nested scopes' getters wrap the outer ones.
        self.custom_getter = custom_getter

    @property
    def original_name_scope(self):
        return self.name + "/" if self.name else ""

    def reuse_variables(self):
        self.reuse = True


def _state(graph):
    if not hasattr(graph, "_variable_scope_stack"):
        graph._variable_scope_stack = [VariableScope("")]
        graph._variable_store = {}
    return graph._variable_scope_stack, graph._variable_store


@tf_export("get_variable_scope")
def get_variable_scope():
    return _state(ops.get_default_graph())[0][-1]


@tf_export("variable_scope")
@contextlib.contextmanager
def variable_scope(name_or_scope, default_name=None, values=None, initializer=None,
                   regularizer=None, reuse=None, dtype=None, auxiliary_name_scope=True,
                   custom_getter=None, **_):
    """Prefixes get_variable names with the scope; `reuse=True` (or AUTO_REUSE) shares."""
    graph = ops.get_default_graph()
    stack, _ = _state(graph)
    parent = stack[-1]
    if isinstance(name_or_scope, VariableScope):
        full = name_or_scope.name
    else:
        name = name_or_scope if name_or_scope is not None else default_name
        if name is None:
            raise ValueError("variable_scope needs a name or a default_name")
        if name_or_scope is None:  # default names are made unique like name scopes
            name = graph.unique_name(name, mark_as_used=False).split("/")[-1]
        full = f"{parent.name}/{name}" if parent.name else name
    inherited = reuse if reuse is not None else parent.reuse
    if parent.reuse is True:
        inherited = True
    getter = parent.custom_getter
    if custom_getter is not None:
        getter = custom_getter if getter is None else _compose(custom_getter, getter)
    scope = VariableScope(full, inherited, initializer or parent.initializer,
                          regularizer or parent.regularizer, dtype or parent.dtype, getter)
    stack.append(scope)
    try:
        if auxiliary_name_scope:
            with graph.name_scope(full.split("/")[-1] if parent.name else full):
                yield scope
        else:
            yield scope
    finally:
        stack.pop()


def _compose(inner, outer):
    """A getter that runs `inner` with `outer` (wrapping the true getter) as its getter."""
    return lambda getter, *args, **kwargs: inner(
        lambda *a, **k: outer(getter, *a, **k), *args, **kwargs)


@tf_export("get_variable")
def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=True, collections=None, caching_device=None, partitioner=None,
                 validate_shape=True, use_resource=None, custom_getter=None, constraint=None,
                 **_):
    """The variable `scope/name`: created on first use, returned again under reuse."""
    graph = ops.get_default_graph()
    stack, _ = _state(graph)
    getter = stack[-1].custom_getter
    if custom_getter is not None:
        getter = custom_getter if getter is None else _compose(custom_getter, getter)
    full = f"{stack[-1].name}/{name}" if stack[-1].name else name
    if getter is not None:
        return getter(_true_getter, full, shape=shape, dtype=dtype, initializer=initializer,
                      regularizer=regularizer, trainable=trainable, collections=collections,
                      validate_shape=validate_shape)
    return _true_getter(full, shape, dtype, initializer, regularizer, trainable, collections,
                        validate_shape)


def _true_getter(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=True, collections=None, validate_shape=True, **_):
    """get_variable without custom getters, for a full `name` (what a getter receives)."""
    graph = ops.get_default_graph()
    stack, store = _state(graph)
    scope = stack[-1]
    full = name
    dtype = dtypes.as_dtype(dtype or scope.dtype or dtypes.float32)
    if full in store:
        if scope.reuse is None or scope.reuse is False:
            raise ValueError(f"Variable {full} already exists, disallowed. Did you mean to set "
                             "reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
        var = store[full]
        if shape is not None and not var.shape.is_compatible_with(shape):
            raise ValueError(f"trying to share variable {full}, but the specified shape "
                             f"{tensor_shape.as_shape(shape)} and found shape {var.shape} differ")
        return var
    if scope.reuse is True:
        raise ValueError(f"Variable {full} does not exist, or was not created with "
                         "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in VarScope?")
    initializer = initializer or scope.initializer
    if initializer is None:
        initializer = init_ops.glorot_uniform_initializer() if dtype.is_floating else \
            init_ops.zeros_initializer()
    if callable(initializer) and not isinstance(initializer, ops.Tensor):
        if shape is None:
            raise ValueError(f"the shape of new variable {full} must be fully defined")
        shape = tensor_shape.as_shape(shape).as_list()
        init_value = lambda: initializer(shape, dtype=dtype)  # noqa: E731
    else:
        init_value = initializer
    with graph.name_scope(""):  # get_variable names ignore the current name scope
        var = variables.Variable(init_value, trainable=trainable, collections=collections,
                                 validate_shape=validate_shape, name=full, dtype=dtype)
    store[full] = var
    regularizer = regularizer or scope.regularizer
    if regularizer is not None:
        with graph.name_scope(full + "/Regularizer/"):
            loss = regularizer(var.value())
        if loss is not None:
            graph.add_to_collection(variables.GraphKeys.REGULARIZATION_LOSSES, loss)
    return var
