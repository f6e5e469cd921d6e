"""Control flow: tf.cond and tf.case (Switch/Merge with dead tensors), tf.while_loop
(frames: Enter, Merge, LoopCond, Switch, NextIteration, Exit), tf.Assert, tf.group,
tf.tuple."""
import builtins

import numpy as np

from runnel.framework import constant_op
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework import tensor_shape
from runnel.framework.api_export import tf_export
from runnel.ops import gen_ops
from runnel.ops import math_ops
from runnel.ops import tensor_array_ops


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
        if tensor.op in self.ops:
            return tensor
        # A variable's reference passes as is (into an enclosing loop through its RefEnter):
        # the op using it has other inputs (or the pivot) that make it dead, and a Switch
        # would turn the reference into a value.
        if tensor._is_ref:
            return self.outer.enter(tensor) if self.outer is not None else tensor
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


class _WhileContext:
    """The condition and body of a tf.while_loop while they are being built. Every tensor
    from outside enters the loop's frame once, through an Enter with is_constant (a
    variable's reference through a RefEnter); ops without inputs hang on the pivot, so that
    they run in each iteration."""

    def __init__(self, graph, frame_name, parallel_iterations):
        self.graph = graph
        self.frame_name = frame_name
        self.parallel_iterations = parallel_iterations
        self.outer = graph._cond_context
        self.pivot = None
        self.ops = set()
        self._entered = {}

    def enter(self, tensor):
        if tensor.op in self.ops:
            return tensor
        entered = self._entered.get(tensor.name)
        if entered is None:
            with self.graph._in_cond_context(self.outer), \
                    self.graph.name_scope(self.frame_name.rstrip("/") + "/"):
                enter = gen_ops.ref_enter if tensor._is_ref else gen_ops.enter
                entered = enter(tensor, frame_name=self.frame_name, is_constant=True,
                                parallel_iterations=self.parallel_iterations)
            self.ops.add(entered.op)
            self._entered[tensor.name] = entered
        return entered


@tf_export("while_loop")
def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, maximum_iterations=None, name=None,
               return_same_structure=False):
    """Repeats `loop_vars = body(*loop_vars)` while `cond(*loop_vars)`; returns the final
    loop variables (a one-element list as its element unless return_same_structure, as in
    TensorFlow 1.x). Up to `parallel_iterations` iterations run at once; with
    `maximum_iterations` the loop stops after that many. The graph holds the loop once
    (a frame, see the executor); tf.gradients builds a backward loop that runs the
    iterations last first, with the forward values it needs kept in stacks (with
    back_prop=False no gradient flows through the loop)."""
    if not callable(cond) or not callable(body):
        raise TypeError("tf.while_loop needs callable cond and body")
    if not isinstance(parallel_iterations, int) or parallel_iterations < 1:
        raise ValueError(f"parallel_iterations must be a positive int, got "
                         f"{parallel_iterations!r}")
    if maximum_iterations is not None:
        user_cond, user_body = cond, body

        def cond(counter, *values):  # noqa: F811 - the counted condition
            within = math_ops.less(counter, maximum_iterations)
            return math_ops.logical_and(within, user_cond(*values))

        def body(counter, *values):  # noqa: F811
            out = user_body(*values)
            out = list(out) if isinstance(out, (list, builtins.tuple)) and len(values) > 1 \
                else [out]
            return [counter + 1] + out

        inner = list(loop_vars) if isinstance(loop_vars, (list, builtins.tuple)) \
            else [loop_vars]
        result = while_loop(cond, body, [constant_op.constant(0, dtypes.int32)] + inner,
                            shape_invariants=None if shape_invariants is None else
                            [None] + list(shape_invariants),
                            parallel_iterations=parallel_iterations, back_prop=back_prop,
                            name=name, return_same_structure=True)[1:]
        if isinstance(loop_vars, (list, builtins.tuple)):
            result = type(loop_vars)(result) if not hasattr(loop_vars, "_fields") \
                else type(loop_vars)(*result)
            if not return_same_structure and len(result) == 1:
                return result[0]
            return result
        return result[0]
    graph = ops.get_default_graph()
    structure = loop_vars
    leaves = _flatten(loop_vars)
    flat = [_loop_tensor(v) for v in leaves]

    def pack(tensors):  # the loop variables over `tensors`, TensorArrays over their flows
        return _pack_like(structure, [
            leaf._with_flow(t) if isinstance(leaf, tensor_array_ops.TensorArray) else t
            for leaf, t in zip(leaves, tensors)])

    if not flat:
        raise ValueError("tf.while_loop needs at least one loop variable")
    invariants = _flatten(shape_invariants) if shape_invariants is not None else \
        [None] * len(flat)
    with ops.name_scope(name, "while", flat) as scope:
        frame = scope
        enters = [gen_ops.enter(v, frame_name=frame, is_constant=False,
                                parallel_iterations=parallel_iterations, name="Enter")
                  for v in flat]
        context = _WhileContext(graph, frame, parallel_iterations)
        context.ops.update(e.op for e in enters)
        with graph._in_cond_context(context):
            merges = [gen_ops.merge([e, e], name="Merge")[0] for e in enters]
            context.pivot = merges[0]
            pred = ops.convert_to_tensor(cond(*_as_args(pack(merges))))
            if pred.dtype.base_dtype != dtypes.bool or pred.shape.ndims not in (None, 0):
                raise TypeError(f"tf.while_loop's cond must return a bool scalar, got "
                                f"{pred.dtype.name} of shape {pred.shape}")
            pred = gen_ops.loop_cond(pred, name="LoopCond")
            switches = [gen_ops.switch(m, pred, name="Switch") for m in merges]
            exits = [gen_ops.exit(sw[0], name="Exit") for sw in switches]
            body_in = [gen_ops.identity(sw[1], name="Identity") for sw in switches]
            context.pivot = body_in[0]
            out = body(*_as_args(pack(body_in)))
            sequence = (list, builtins.tuple)
            if not isinstance(structure, sequence) and isinstance(out, sequence) and \
                    len(out) == 1:
                out = out[0]
            elif isinstance(structure, sequence) and len(structure) == 1 and \
                    not isinstance(out, sequence):
                out = [out]
            out_flat = [_loop_tensor(v) for v in _flatten(out)]
            if len(out_flat) != len(flat) or not _same_structure(structure, out):
                raise ValueError(f"tf.while_loop's body must return the structure of "
                                 f"loop_vars ({len(flat)} tensors), got {out!r}")
            out_flat = [context.enter(t) for t in out_flat]
            for before, after, invariant in zip(flat, out_flat, invariants):
                _check_loop_var(before, after, invariant)
            nexts = [gen_ops.next_iteration(t, name="NextIteration") for t in out_flat]
        for merge, nxt in zip(merges, nexts):
            graph._update_input(merge.op, 1, nxt)
    if not back_prop:  # as TensorFlow's: no gradient flows back through the loop
        exits = [gen_ops.stop_gradient(e) for e in exits]
    result = pack(exits)
    if not return_same_structure and isinstance(result, (list, builtins.tuple)) and \
            len(result) == 1:
        return result[0]
    return result


def _loop_tensor(value):
    """The tensor a loop variable carries: a TensorArray's flow, else the value."""
    if isinstance(value, tensor_array_ops.TensorArray):
        return value.flow
    return ops.convert_to_tensor(value)


def _as_args(packed):
    """The loop variables as cond's and body's arguments (TensorFlow calls them with
    *loop_vars for a list or tuple, else with the one structure)."""
    if isinstance(packed, (list, builtins.tuple)) and not hasattr(packed, "_fields"):
        return list(packed)
    return [packed]


def _check_loop_var(before, after, invariant):
    if before.dtype.base_dtype != after.dtype.base_dtype:
        raise TypeError(f"loop variable {before.name} enters the loop as {before.dtype.name} "
                        f"and leaves the body as {after.dtype.name}")
    shape = before.shape if invariant is None else tensor_shape.as_shape(invariant)
    if not shape.is_compatible_with(after.shape) and invariant is None:
        raise ValueError(f"Input tensor '{before.name}' enters the loop with shape "
                         f"{before.shape}, but has shape {after.shape} after one iteration. "
                         "To allow the shape to vary across iterations, use the "
                         "`shape_invariants` argument of tf.while_loop to specify a less-"
                         "specific shape.")
    if invariant is not None and not shape.is_compatible_with(after.shape):
        raise ValueError(f"loop variable {before.name}: its shape after one iteration, "
                         f"{after.shape}, does not fit its shape invariant {shape}")


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


@tf_export("Assert")
def Assert(condition, data, summarize=None, name=None):  # noqa: N802 - TensorFlow's name
    """An op that fails the step, showing `data` (a list of tensors; `summarize` entries of
    each), when `condition` is false."""
    data = [ops.convert_to_tensor(d) for d in data]
    return getattr(gen_ops, "assert")(condition, data, summarize=3 if summarize is None
                                      else summarize, name=name or "Assert")


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
