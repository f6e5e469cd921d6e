"""One function per registered op, generated from the C++ registry at import:
`gen_ops.mat_mul(a, b, transpose_a=False, transpose_b=False, name=None)`."""
from runnel.framework import op_def_library as _lib


def _populate():
    names = []
    for op_name, op_def in sorted(_lib.registered_op_defs().items()):
        if op_name.startswith("_"):
            continue  # runtime-internal ops (_Send, _Arg, ...)
        fn = _lib.make_op_function(op_def)
        globals()[fn.__name__] = fn
        names.append(fn.__name__)
    return names


__all__ = _populate()
