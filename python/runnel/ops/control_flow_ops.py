"""Control flow: tf.cond and tf.case (Switch/Merge with dead tensors), tf.group, tf.tuple."""
import builtins

import numpy as np

from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework.api_export import tf_export
from runnel.ops import gen_ops


class _CondContext:
    """One branch of a tf.cond while it is being built. Every tensor from outside the branch
    enters it through a Switch on the predicate (one per tensor), so that the untaken
    branch's ops see dead inputs and do not run; ops without inputs hang on the pivot, a
    tensor that is live only when the branch is taken."""

    def __init__(self, graph, pred, pivot, branch, scope):
        self.graph = graph
        self.pred = pred
        self.pivot = pivot
        self.branch = branch  # 1: the true branch, 0: the false one
        self.scope = scope
        self.outer = graph._cond_context
        self.ops = {pivot.op}
        self._entered = {}

    def enter(self, tensor):
        # A variable's reference passes as is: the op using it has other inputs (or the
        # pivot) that make it dead, and a Switch would turn the reference into a value.
        if tensor.op in self.ops or tensor._is_ref:
            return tensor
        switched = self._entered.get(tensor.name)
        if switched is None:
            # Built in the enclosing context, so that it in turn switches what it needs.
            with self.graph._in_cond_context(self.outer), self.graph.name_scope(self.scope):
                switched = gen_ops.switch(tensor, self.pred, name="Switch")[self.branch]
            self._entered[tensor.name] = switched
        return switched

    def output(self, value):
        """A branch's result as a tensor of this branch."""
        if isinstance(value, ops.Operation):
            with ops.control_dependencies([value]):
                return gen_ops.identity(self.pivot)
        if value is None:
            raise ValueError("a tf.cond branch returned None; return a tensor or an op")
        return self.enter(ops.convert_to_tensor(value))


def _flatten(structure):
    if isinstance(structure, (list, builtins.tuple)):
        return [leaf for item in structure for leaf in _flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in _flatten(structure[key])]
    return [structure]


def _pack_like(structure, leaves):
    """`structure` with its leaves replaced, in _flatten's order, by `leaves` (consumed)."""
    if isinstance(structure, (list, builtins.tuple)):
        items = [_pack_like(item, leaves) for item in structure]
        if hasattr(structure, "_fields"):  # a namedtuple
            return type(structure)(*items)
        return type(structure)(items)
    if isinstance(structure, dict):
        return {key: _pack_like(structure[key], leaves) for key in sorted(structure)}
    return leaves.pop(0)


def _same_structure(a, b):
    if isinstance(a, (list, builtins.tuple)) or isinstance(b, (list, builtins.tuple)):
        return (isinstance(a, (list, builtins.tuple)) and isinstance(b, (list, builtins.tuple))
                and len(a) == len(b) and all(_same_structure(x, y) for x, y in zip(a, b)))
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and sorted(a) == sorted(b)
                and all(_same_structure(a[k], b[k]) for k in a))
    return True


@tf_export("cond")
def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """`true_fn()` if `pred` else `false_fn()`, deciding when the graph runs: only the taken
    branch's ops run. Both functions return the same structure of tensors (or ops); with
    `strict=False` a one-element list comes back as its element, as in TensorFlow 1.x."""
    true_fn = true_fn if true_fn is not None else fn1
    false_fn = false_fn if false_fn is not None else fn2
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("tf.cond needs callable true_fn and false_fn")
    if isinstance(pred, (bool, np.bool_)):  # known while building: no graph needed
        return true_fn() if pred else false_fn()
    pred = ops.convert_to_tensor(pred)
    if pred.dtype.base_dtype != dtypes.bool:
        raise TypeError(f"tf.cond's pred must be a bool tensor, got {pred.dtype.name}")
    if pred.shape.ndims not in (None, 0):
        raise ValueError(f"tf.cond's pred must be a scalar, got shape {pred.shape}")
    graph = pred.graph
    with ops.name_scope(name, "cond", [pred]) as scope:
        pivot_f, pivot_t = gen_ops.switch(pred, pred)
        pivots = {1: gen_ops.identity(pivot_t, name="switch_t"),
                  0: gen_ops.identity(pivot_f, name="switch_f")}
        pred_id = gen_ops.identity(pred, name="pred_id")
        results = {}
        for branch, fn in ((1, true_fn), (0, false_fn)):
            context = _CondContext(graph, pred_id, pivots[branch], branch, scope)
            with graph._in_cond_context(context):
                structure = fn()
                leaves = [context.output(v) for v in _flatten(structure)]
            results[branch] = (structure, leaves)
        (t_structure, t_leaves), (f_structure, f_leaves) = results[1], results[0]
        if not _same_structure(t_structure, f_structure) or len(t_leaves) != len(f_leaves):
            raise ValueError("tf.cond's branches must return the same structure: "
                             f"true_fn gave {t_structure!r}, false_fn gave {f_structure!r}")
        merged = []
        for t, f, value in zip(t_leaves, f_leaves, _flatten(t_structure)):
            if t.dtype.base_dtype != f.dtype.base_dtype:
                raise TypeError(f"tf.cond's branches return different dtypes: "
                                f"{t.dtype.name} (true_fn) and {f.dtype.name} (false_fn)")
            out = gen_ops.merge([f, t], name="Merge")[0]
            merged.append(out.op if isinstance(value, ops.Operation) else out)
        result = _pack_like(t_structure, merged)
    if not strict and isinstance(result, (list, builtins.tuple)) and len(result) == 1:
        return result[0]
    return result


@tf_export("case")
def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """The result of the first `fn` in `pred_fn_pairs` whose `pred` holds, else of
    `default()` (nested tf.conds; only the chosen function's ops run). Without `default`,
    the last function runs when no earlier predicate holds."""
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(pred_fn_pairs)
    for pair in pairs:
        if not isinstance(pair, builtins.tuple) or len(pair) != 2 or not callable(pair[1]):
            raise TypeError(f"tf.case takes (predicate, callable) pairs, got {pair!r}")
    if not pairs and default is None:
        raise ValueError("tf.case needs at least one (predicate, callable) pair or a default")
    if default is None:
        pairs, default = pairs[:-1], pairs[-1][1]
    if exclusive and len(pairs) > 1:
        raise NotImplementedError("tf.case(exclusive=True) is not supported yet (it needs "
                                  "a runtime Assert op)")
    with ops.name_scope(name, "case"):
        fn = default
        for pred, branch_fn in reversed(pairs):
            fn = (lambda p, t, f: lambda: cond(p, t, f, strict=strict))(pred, branch_fn, fn)
        return fn()


@tf_export("group")
def group(*inputs, name=None):
    """An op that runs after all of `inputs` (ops or tensors) and outputs nothing."""
    if len(inputs) == 1 and isinstance(inputs[0], (list, builtins.tuple)):
        inputs = builtins.tuple(inputs[0])
    deps = [x.op if isinstance(x, ops.Tensor) else x for x in inputs if x is not None]
    with ops.control_dependencies(deps):
        return gen_ops.no_op(name=name or "group_deps")


@tf_export("tuple")
def tuple(tensors, name=None, control_inputs=None):  # noqa: A001 - TensorFlow's name
    """The same tensors, each available only once all of them (and `control_inputs`) are."""
    tensors = list(tensors)
    gate = group(*[t for t in tensors if t is not None], *(control_inputs or []),
                 name=name or "tuple")
    with ops.control_dependencies([gate]):
        return [None if t is None else gen_ops.identity(t) for t in tensors]
