"""`tf.raw_ops`: every registered op under its TensorFlow name, keyword arguments only, as
in TensorFlow (`tf.raw_ops.MatMul(a=x, b=w, transpose_b=True)`). The snake-case functions of
`runnel.ops.gen_ops` (`tf.raw_ops.mat_mul(x, w)`) are here too."""
import functools as _functools

from runnel.framework import op_def_library as _lib
from runnel.ops import gen_ops as _gen_ops
from runnel.ops.gen_ops import *  # noqa: F401,F403 - the snake-case functions


def _keyword_only(op_name, fn):
    @_functools.wraps(fn)
    def raw_op(*args, **kwargs):
        if args:
            raise TypeError(f"raw_ops.{op_name} accepts only keyword arguments, "
                            f"got {len(args)} positional")
        return fn(**kwargs)
    raw_op.__name__ = raw_op.__qualname__ = op_name
    return raw_op


for _op_name in _lib.registered_op_defs():
    if not _op_name.startswith("_"):
        globals()[_op_name] = _keyword_only(
            _op_name, getattr(_gen_ops, _lib.camel_to_snake(_op_name)))
