"""tf.map_fn, tf.scan, tf.foldl and tf.foldr: a while loop over the first dimension of
`elems` (a tensor or a nested structure of tensors of the same length), reading each
element from a TensorArray and, for map_fn and scan, writing each result to another."""
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework import tensor_shape
from runnel.framework.api_export import tf_export
from runnel.ops import array_ops
from runnel.ops import control_flow_ops
from runnel.ops import tensor_array_ops

_flatten = control_flow_ops._flatten
_pack_like = control_flow_ops._pack_like


def _elements(elems, name):
    """The flat tensors of `elems`, TensorArrays over their rows, and their row count."""
    flat = [ops.convert_to_tensor(e, name="elem") for e in _flatten(elems)]
    if not flat:
        raise ValueError(f"{name}'s elems must hold at least one tensor")
    for e in flat:
        if e.shape.ndims == 0:
            raise ValueError(f"{name}'s elems must have a first dimension to iterate over, "
                             f"got the scalar {e.name}")
    static = tensor_shape.dimension_value(flat[0].shape[0]) if flat[0].shape.ndims else None
    n = static if static is not None else array_ops.shape(flat[0])[0]
    arrays = [tensor_array_ops.TensorArray(e.dtype, size=n, infer_shape=True,
                                           element_shape=e.shape[1:]
                                           if e.shape.ndims is not None else None)
              .unstack(e) for e in flat]
    return flat, arrays, n, static


def _results(output, dtypes_out, structure, name):
    """fn's `output` as flat tensors, checked against the structure and dtypes expected."""
    results = [ops.convert_to_tensor(v) for v in _flatten(output)]
    if len(results) != len(dtypes_out) or not control_flow_ops._same_structure(structure,
                                                                               output):
        raise ValueError(f"{name}'s fn returned {len(results)} tensors where "
                         f"{len(dtypes_out)} were expected (pass `dtype` when fn's output "
                         "differs from elems)")
    for value, dtype in zip(results, dtypes_out):
        if value.dtype.base_dtype != dtype:
            raise TypeError(f"{name}'s fn returned {value.dtype.name} where {dtype.name} "
                            "was expected (pass `dtype` when fn's output differs from elems)")
    return results


def _stacked(arrays, static):
    """The results written to `arrays`, stacked, with the static row count."""
    out = []
    for ta in arrays:
        value = ta.stack()
        value.set_shape(tensor_shape.TensorShape([static]).concatenate(ta.element_shape))
        out.append(value)
    return out


@tf_export("map_fn")
def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True,
           swap_memory=False, infer_shape=True, name=None):
    """`fn` applied to each row of `elems`, the results stacked. `elems` may be a nested
    structure, which `fn` receives row by row; `dtype` gives fn's output structure and
    types where they differ from elems'."""
    if not callable(fn):
        raise TypeError("tf.map_fn's fn must be callable")
    parallel_iterations = parallel_iterations or 10
    with ops.name_scope(name, "map", _flatten(elems)):
        flat, arrays, n, static = _elements(elems, "tf.map_fn")
        out_structure = dtype if dtype is not None else elems
        out_dtypes = ([dtypes.as_dtype(d).base_dtype for d in _flatten(dtype)]
                      if dtype is not None else [e.dtype.base_dtype for e in flat])
        results = [tensor_array_ops.TensorArray(d, size=n, infer_shape=infer_shape)
                   for d in out_dtypes]

        def body(i, results):
            row = _pack_like(elems, [ta.read(i) for ta in arrays])
            value = _results(fn(row), out_dtypes, out_structure, "tf.map_fn")
            return i + 1, [ta.write(i, v) for ta, v in zip(results, value)]

        _, results = control_flow_ops.while_loop(
            lambda i, _: i < n, body, [0, results],
            parallel_iterations=parallel_iterations, back_prop=back_prop)
        return _pack_like(out_structure, _stacked(results, static))


@tf_export("scan")
def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
         swap_memory=False, infer_shape=True, reverse=False, name=None):
    """The running results `a = fn(a, x)` over the rows `x` of `elems`, stacked; `a`
    starts at `initializer` (a structure of tensors), or, without it, at the first row
    (which is then the first result). With `reverse` the rows are taken last first and
    each result stays at its row's position."""
    if not callable(fn):
        raise TypeError("tf.scan's fn must be callable")
    with ops.name_scope(name, "scan", _flatten(elems)):
        flat, arrays, n, static = _elements(elems, "tf.scan")
        structure, start, first = _start(elems, initializer, arrays, n, reverse)
        acc_dtypes = [a.dtype.base_dtype for a in start]
        results = [tensor_array_ops.TensorArray(d, size=n, infer_shape=infer_shape)
                   for d in acc_dtypes]
        if first:
            results = [ta.write(n - 1 if reverse else 0, a) for ta, a in zip(results, start)]

        def body(i, acc, results):
            position = n - 1 - i if reverse else i
            row = _pack_like(elems, [ta.read(position) for ta in arrays])
            value = _results(fn(_pack_like(structure, list(acc)), row), acc_dtypes,
                             structure, "tf.scan")
            return i + 1, value, [ta.write(position, v) for ta, v in zip(results, value)]

        _, _, results = control_flow_ops.while_loop(
            lambda i, *_: i < n, body, [first, start, results],
            parallel_iterations=parallel_iterations, back_prop=back_prop)
        return _pack_like(structure, _stacked(results, static))


def _start(elems, initializer, arrays, n, reverse):
    """The accumulator's structure, its first value and the first row left to take:
    `initializer`, else the first row taken (the last one with `reverse`)."""
    if initializer is None:
        return elems, [ta.read(n - 1 if reverse else 0) for ta in arrays], 1
    return initializer, [ops.convert_to_tensor(v) for v in _flatten(initializer)], 0


def _fold(fn, elems, initializer, parallel_iterations, back_prop, reverse, name):
    if not callable(fn):
        raise TypeError(f"{name}'s fn must be callable")
    flat, arrays, n, _ = _elements(elems, name)
    structure, start, first = _start(elems, initializer, arrays, n, reverse)
    acc_dtypes = [a.dtype.base_dtype for a in start]

    def body(i, acc):
        row = _pack_like(elems, [ta.read(n - 1 - i if reverse else i) for ta in arrays])
        value = _results(fn(_pack_like(structure, list(acc)), row), acc_dtypes, structure,
                         name)
        return i + 1, value

    _, acc = control_flow_ops.while_loop(lambda i, _: i < n, body, [first, start],
                                         parallel_iterations=parallel_iterations,
                                         back_prop=back_prop)
    return _pack_like(structure, list(acc))


@tf_export("foldl")
def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """`fn(fn(fn(a, x0), x1), ...)` over the rows of `elems`, first to last; `a` is
    `initializer`, or the first row when there is none."""
    with ops.name_scope(name, "foldl", _flatten(elems)):
        return _fold(fn, elems, initializer, parallel_iterations, back_prop, False,
                     "tf.foldl")


@tf_export("foldr")
def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    """As tf.foldl, over the rows last to first."""
    with ops.name_scope(name, "foldr", _flatten(elems)):
        return _fold(fn, elems, initializer, parallel_iterations, back_prop, True,
                     "tf.foldr")
