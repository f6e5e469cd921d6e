"""Fills the public modules from the declared endpoints: the ops' generated functions under
the names their C++ registrations declare, and the Python functions under their
`@tf_export` names (framework/api_export.py)."""
from runnel import _runnel
from runnel.framework import api_export
from runnel.framework.op_def_library import camel_to_snake
from runnel.ops import gen_ops


def endpoints():
    """{endpoint: function}: the Python exports and the ops' generated functions under
    the names their registrations declare; a name declared twice is an error."""
    found = api_export.python_exports()
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
