"""Where each public function appears in the runnel package, under TensorFlow's names.

An op whose generated function is its public API declares its names where it is
registered, in C++ (`.Endpoints({"math.rsqrt", "rsqrt"})`); a hand-written Python function
or class declares them with `@tf_export("math.add_n", "add_n")`. A public module then fills
itself with `ops/exports.py`'s `export_into(globals(), "math")` (the top level with ""), so
no module re-lists another's names. This module imports nothing, so any module may
declare its exports.
"""
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


def python_exports():
    """{endpoint: function or class} of everything `tf_export` declared so far."""
    return dict(_python_exports)
