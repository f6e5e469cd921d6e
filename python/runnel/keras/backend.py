"""The Keras backend: one session over the default graph, the learning phase, and values
of variables read and written from numpy. Keras models build into the default graph; a
variable is initialized the first time a model runs after it was created."""
import contextlib

import numpy as np

from runnel.client import session as session_lib
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.ops import array_ops

_session = None
_initialized = set()        # variables whose initializer has run in _session
_learning_phase = {}        # graph -> the boolean placeholder
_uids = {}                  # (graph, prefix) -> last number used


def get_session():
    """The session Keras models run in (made on first use, over the default graph), with
    every variable made so far initialized."""
    global _session
    graph = ops.get_default_graph()
    if _session is None or _session.graph is not graph or _session._closed:
        _session = session_lib.Session(graph=graph)
        _initialized.clear()
    _initialize_new_variables(_session)
    return _session


def set_session(session):
    """Makes Keras run in `session` (its variables are taken as initialized)."""
    global _session
    _session = session
    _initialized.clear()
    _initialized.update(id(v) for v in session.graph.get_collection("variables"))


def clear_session():
    """Forgets every model: a new default graph and, on next use, a new session."""
    global _session
    if _session is not None:
        _session.close()
    _session = None
    _initialized.clear()
    _learning_phase.clear()
    _uids.clear()
    ops.reset_default_graph()


@contextlib.contextmanager
def isolated_session():
    """A new default graph, with a Keras session of its own, for the block; the caller's
    graph and session (with its variables' values) come back after it."""
    global _session
    saved = (_session, set(_initialized))
    try:
        with ops.Graph().as_default():
            yield
    finally:
        if _session is not None and _session is not saved[0]:
            _session.close()
        _session = saved[0]
        _initialized.clear()
        _initialized.update(saved[1])


def _initialize_new_variables(session):
    fresh = [v for v in session.graph.get_collection("variables") if id(v) not in _initialized]
    if fresh:
        session.run([v.initializer for v in fresh])
        _initialized.update(id(v) for v in fresh)


def learning_phase():
    """A boolean tensor, True while training (fed by fit), False otherwise (Dropout and
    BatchNormalization read it)."""
    graph = ops.get_default_graph()
    if graph not in _learning_phase:
        with graph.name_scope(""), graph.control_dependencies(None):
            _learning_phase[graph] = array_ops.placeholder_with_default(
                False, [], name="keras_learning_phase")
    return _learning_phase[graph]


def get_uid(prefix):
    """1, 2, ... for successive calls with `prefix` in the default graph (layer names)."""
    key = (ops.get_default_graph(), prefix)
    _uids[key] = _uids.get(key, 0) + 1
    return _uids[key]


def unique_layer_name(prefix):
    """'dense', 'dense_1', 'dense_2', ... as Keras names layers."""
    uid = get_uid(prefix)
    return prefix if uid == 1 else f"{prefix}_{uid - 1}"


def floatx():
    return "float32"


def epsilon():
    return 1e-7


def batch_get_value(variables):
    return get_session().run(list(variables)) if variables else []


def get_value(variable):
    return batch_get_value([variable])[0]


def batch_set_value(pairs):
    """Sets each (variable, value): one session.run of the variables' initializers, fed
    (another run where two variables share an initial-value tensor)."""
    session = get_session()
    initializers, feed = [], {}
    for variable, value in pairs:
        value = np.asarray(value, dtype=variable.dtype.base_dtype.as_numpy_dtype)
        shape = tuple(variable.shape.as_list())
        if shape != value.shape:
            raise ValueError(f"cannot set {variable.name} of shape {shape} to a value of shape "
                             f"{value.shape}")
        if variable._initial_value in feed:
            session.run(initializers, feed)
            initializers, feed = [], {}
        initializers.append(variable.initializer)
        feed[variable._initial_value] = value
    if initializers:
        session.run(initializers, feed)


def set_value(variable, value):
    batch_set_value([(variable, value)])


def cast_to_floatx(x):
    return np.asarray(x, dtype=np.float32)


def int_shape(x):
    return tuple(x.shape.as_list()) if x.shape.ndims is not None else None


def as_float(x):
    return x if x.dtype == dtypes.float32 else array_ops.cast(x, dtypes.float32)
