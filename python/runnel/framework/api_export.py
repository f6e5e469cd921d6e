"""Where each public function appears in the runnel package, under TensorFlow's names.

An op whose generated function is its public API declares its names where it is
registered, in C++ (`.Endpoints({"math.rsqrt", "rsqrt"})`); a hand-written Python function
declares them with `@tf_export("math.add_n", "add_n")`. A public module then fills itself
with `export_into(globals(), "math")` (the top level with ""), so no module re-lists
another's names.
"""
from runnel import _runnel

_python_exports = {}  # endpoint -> function


def tf_export(*endpoints):
    """Exports the decorated function under each endpoint ("module.name" or "name")."""
    def decorate(fn):
        for endpoint in endpoints:
            if endpoint in _python_exports:
                raise ValueError(f"{endpoint} is exported twice: by "
                                 f"{_python_exports[endpoint].__qualname__} and {fn.__qualname__}")
            _python_exports[endpoint] = fn
        return fn
    return decorate


def endpoints():
    """{endpoint: function}: the Python exports and the ops' generated functions under
    the names their registrations declare; a name declared twice is an error."""
    from runnel.ops import gen_ops
    from runnel.framework.op_def_library import camel_to_snake
    found = dict(_python_exports)
    for op, names in _runnel.op_endpoints().items():
        for endpoint in names:
            if endpoint in found:
                raise ValueError(f"{endpoint} is exported twice: by op {op} and by "
                                 f"{found[endpoint].__qualname__}")
            found[endpoint] = getattr(gen_ops, camel_to_snake(op))
    return found


def export_into(namespace, module):
    """Sets namespace[name] for every endpoint "module.name" (module "" is the top level);
    returns the names."""
    names = []
    for endpoint, fn in endpoints().items():
        path, _, name = endpoint.rpartition(".")
        if path == module:
            namespace[name] = fn
            names.append(name)
    return sorted(names)
