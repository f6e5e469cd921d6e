"""tf.gradients: symbolic derivatives, built by the C++ core into the same graph under a
`gradients/` name scope."""
from runnel.framework import ops
from runnel.framework.api_export import tf_export


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


@tf_export("gradients")
def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None,
              unconnected_gradients="none"):
    """d(sum(ys))/d(x) for each x in `xs`: a list of Tensors, None where x does not reach
    any y. `grad_ys` weights each y's gradient (ones by default); `stop_gradients` are
    tensors to treat as constants."""
    ys, xs = _as_list(ys), _as_list(xs)
    grad_ys = _as_list(grad_ys) if grad_ys is not None else [None] * len(ys)
    if len(grad_ys) != len(ys):
        raise ValueError(f"grad_ys has {len(grad_ys)} entries for {len(ys)} ys")
    stops = _as_list(stop_gradients) if stop_gradients is not None else []
    graph = ops.get_default_graph()
    tensors = [t for t in ys + xs + stops + grad_ys if isinstance(t, ops.Tensor)]
    if tensors:
        graph = tensors[0].graph
    ys = [ops.convert_to_tensor(y) for y in ys]
    # A variable is differentiated through its reference, which covers every read of it.
    xs = [x._ref() if hasattr(x, "_ref") else graph.as_graph_element(x, allow_operation=False)
          for x in xs]
    with graph.as_default():
        grad_ys = [None if g is None else ops.convert_to_tensor(g, dtype=y.dtype)
                   for g, y in zip(grad_ys, ys)]
    with graph.name_scope(name) as scope:
        names, added = graph._c_graph.add_gradients(
            [y.name for y in ys], [x.name for x in xs],
            ["" if g is None else g.name for g in grad_ys], [s.name for s in stops],
            scope.rstrip("/"))
    graph._add_imported_nodes(added)
    result = [graph.get_tensor_by_name(n if ":" in n else n + ":0") if n else None
              for n in names]
    if unconnected_gradients == "zero":
        from runnel.ops import array_ops
        with graph.as_default():
            result = [array_ops.zeros_like(x) if g is None else g for g, x in zip(result, xs)]
    return result
