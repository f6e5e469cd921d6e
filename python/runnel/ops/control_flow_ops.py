"""Grouping ops: tf.group, tf.tuple."""
import builtins

from runnel.framework import ops
from runnel.ops import array_ops
from runnel.ops import gen_ops


def group(*inputs, name=None):
    """An op that runs after all of `inputs` (ops or tensors) and outputs nothing."""
    if len(inputs) == 1 and isinstance(inputs[0], (list, builtins.tuple)):
        inputs = builtins.tuple(inputs[0])
    deps = [x.op if isinstance(x, ops.Tensor) else x for x in inputs if x is not None]
    with ops.control_dependencies(deps):
        return gen_ops.no_op(name=name or "group_deps")


def tuple(tensors, name=None, control_inputs=None):  # noqa: A001 - TensorFlow's name
    """The same tensors, each available only once all of them (and `control_inputs`) are."""
    tensors = list(tensors)
    gate = group(*[t for t in tensors if t is not None], *(control_inputs or []),
                 name=name or "tuple")
    with ops.control_dependencies([gate]):
        return [None if t is None else array_ops.identity(t) for t in tensors]
