"""tf.Session: runs the default (or a given) graph with the C++ DirectSession."""
import collections

import numpy as np

from runnel import _runnel
from runnel import errors
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework import tensor_util
from runnel.framework.api_export import tf_export
from runnel.proto import config_pb2

get_default_session = ops.get_default_session


# Session and run configuration: TensorFlow's messages, field for field (a ConfigProto
# serialized by TensorFlow parses). Runnel's own session options (runtime/session_options.h)
# go in ConfigProto.runnel_options, by key.
for _message in (config_pb2.ConfigProto, config_pb2.GPUOptions, config_pb2.GraphOptions,
                 config_pb2.OptimizerOptions, config_pb2.RunOptions, config_pb2.RunMetadata):
    tf_export(_message.__name__)(_message)
ConfigProto = config_pb2.ConfigProto
RunOptions = config_pb2.RunOptions


# tf.config.threading: the thread counts of sessions made without a config (0: one thread
# per core), as TensorFlow's sessions take them from its context. One process running one
# trial of a parallel search sets 1, so that trials side by side do not fight over cores.
_default_threads = {"intra_op_parallelism_threads": 0, "inter_op_parallelism_threads": 0}


def _set_default_threads(key, num_threads):
    if not isinstance(num_threads, int) or isinstance(num_threads, bool) or num_threads < 0:
        raise ValueError(f"{key} must be a count >= 0 (0: one per core), got {num_threads!r}")
    _default_threads[key] = num_threads


@tf_export("config.threading.set_intra_op_parallelism_threads")
def set_intra_op_parallelism_threads(num_threads):
    """Threads that split one big kernel, for sessions made from now on without a
    config (0: one per core)."""
    _set_default_threads("intra_op_parallelism_threads", num_threads)


@tf_export("config.threading.get_intra_op_parallelism_threads")
def get_intra_op_parallelism_threads():
    return _default_threads["intra_op_parallelism_threads"]


@tf_export("config.threading.set_inter_op_parallelism_threads")
def set_inter_op_parallelism_threads(num_threads):
    """Threads that run independent nodes, for sessions made from now on without a config
    (0: one per core)."""
    _set_default_threads("inter_op_parallelism_threads", num_threads)


@tf_export("config.threading.get_inter_op_parallelism_threads")
def get_inter_op_parallelism_threads():
    return _default_threads["inter_op_parallelism_threads"]


def _default_options():
    """The session options of a session made without a config: Runnel's defaults (soft
    placement on) and the thread counts set above."""
    return {key: str(value) for key, value in _default_threads.items() if value}


class DeviceAttributes(collections.namedtuple(
        "DeviceAttributes", ["name", "device_type", "memory_limit_bytes", "incarnation"])):
    """One device of a session, as `Session.list_devices()` lists it."""


class _FetchMapper:
    """Flattens nested fetches (lists, tuples, dicts, namedtuples) and rebuilds them."""

    def __init__(self, graph, fetches):
        self.leaves = []
        self._structure = self._flatten(graph, fetches)

    def _flatten(self, graph, f):
        if isinstance(f, (list, tuple)) and not hasattr(f, "_fields"):
            return (type(f), [self._flatten(graph, x) for x in f])
        if isinstance(f, tuple):  # namedtuple
            return (type(f), [self._flatten(graph, x) for x in f], "namedtuple")
        if isinstance(f, collections.abc.Mapping):
            return (type(f), {k: self._flatten(graph, v) for k, v in f.items()})
        try:
            element = graph.as_graph_element(f)
        except (KeyError, ValueError) as e:
            raise ValueError(f"fetch argument {f!r} cannot be interpreted: {e}") from None
        except TypeError as e:
            raise TypeError(f"fetch argument {f!r} has invalid type {type(f).__name__}: {e}") \
                from None
        self.leaves.append(element)
        return len(self.leaves) - 1

    def build(self, values):
        return self._build(self._structure, values)

    def _build(self, s, values):
        if isinstance(s, int):
            return values[s]
        if len(s) == 3:
            return s[0](*[self._build(x, values) for x in s[1]])
        kind, inner = s
        if isinstance(inner, dict):
            return kind((k, self._build(v, values)) for k, v in inner.items())
        built = [self._build(x, values) for x in inner]
        return built if kind is list else kind(built)


def _feed_array(tensor, value):
    """`value` as an array of `tensor`'s dtype. Like TensorFlow, float64 data feeds a
    float32 tensor; unlike it, conversions that lose data (fractions into integers, values
    out of an integer type's range, strings) are refused."""
    if tensor.dtype.base_dtype == dtypes.string:
        try:
            return tensor_util.string_array(value)
        except TypeError as e:
            raise errors.InvalidArgumentError(f"cannot feed {value!r} to string tensor "
                                              f"'{tensor.name}': {e}") from None
    target = np.dtype(tensor.dtype.as_numpy_dtype)
    array = np.asarray(value)
    if array.dtype == target:
        return array

    def refuse(why):
        return errors.InvalidArgumentError(
            f"cannot feed a value of dtype {array.dtype} to '{tensor.name}', which has dtype "
            f"{tensor.dtype.name}{why}")

    if array.dtype.kind not in "biuf":
        raise refuse("")
    converted = array.astype(target)
    if target.kind in "iu" and not np.array_equal(converted.astype(array.dtype), array):
        raise refuse(": the values do not all fit (fractions or out of range)")
    return converted


@tf_export("Session")
class Session:
    """Runs ops and evaluates tensors of one graph.

    `with tf.Session() as sess: sess.run(fetches, feed_dict={x: batch})`
    """

    def __init__(self, target="", graph=None, config=None):
        """`target`: "" runs in this process; a server's `target` ("runnel://host:port")
        runs on its cluster, placing nodes on every task's devices."""
        if not isinstance(target, (str, bytes)):
            raise TypeError(f"target must be a string, got {type(target).__name__}")
        target = target.decode() if isinstance(target, bytes) else target
        self._graph = graph or ops.get_default_graph()
        if config is not None and not isinstance(config, ConfigProto):
            raise TypeError(f"config must be a tf.ConfigProto, got {type(config).__name__}")
        # Without a config, Runnel's defaults (soft placement on); with one, its fields as
        # TensorFlow reads them (soft placement only when asked).
        self._target = target
        options = config.SerializeToString() if config is not None else _default_options()
        self._session = _runnel.Session(self._graph._c_graph, options, target)
        self._closed = False
        self._context = None

    @property
    def graph(self):
        return self._graph

    @property
    def sess_str(self):
        """The target this session runs on ("" for this process)."""
        return self._target

    @property
    def graph_def(self):
        return self._graph.as_graph_def()

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Evaluates `fetches` (a tensor, op, name, or nested structure of them)."""
        if self._closed:
            raise RuntimeError("attempted to use a closed Session")
        mapper = _FetchMapper(self._graph, fetches)
        feeds = []
        for key, value in (feed_dict or {}).items():
            try:
                tensor = self._graph.as_graph_element(key, allow_operation=False)
            except (KeyError, ValueError, TypeError) as e:
                raise TypeError(f"cannot interpret feed_dict key {key!r} as a Tensor: {e}") \
                    from None
            if not isinstance(tensor, ops.Tensor):
                raise TypeError(f"feed_dict key {key!r} is not a Tensor")
            if isinstance(value, ops.Tensor):
                raise TypeError(f"the value of a feed cannot be a tf.Tensor ({value.name}); "
                                "feed numpy arrays, lists or numbers")
            feeds.append((tensor.name, _feed_array(tensor, value)))
        fetch_names, targets, slots = [], [], []
        for leaf in mapper.leaves:
            if isinstance(leaf, ops.Tensor):
                slots.append(len(fetch_names))
                fetch_names.append(leaf.name)
            else:
                slots.append(None)
                targets.append(leaf.name)
        if options is None and run_metadata is None:
            results = self._session.run(feeds, fetch_names, targets)
        else:
            if options is not None and not isinstance(options, RunOptions):
                raise TypeError(f"options must be a tf.RunOptions, got {type(options).__name__}")
            results, metadata = self._session.run_traced(
                feeds, fetch_names, targets,
                options.SerializeToString() if options is not None else b"")
            if run_metadata is not None:
                run_metadata.MergeFromString(metadata)
        values = []
        for slot in slots:
            if slot is None:
                values.append(None)
                continue
            v = results[slot]
            values.append(v[()] if v.ndim == 0 else v)
        return mapper.build(values)

    def list_devices(self):
        """The session's devices: name, device_type, memory_limit_bytes, incarnation."""
        if self._closed:
            raise RuntimeError("attempted to use a closed Session")
        return [DeviceAttributes(*d) for d in self._session.list_devices()]

    def close(self):
        if not self._closed:
            self._session.close()
            self._closed = True

    def as_default(self):
        return ops.default_session(self)

    def __enter__(self):
        self._context = ops.default_session(self)
        self._context.__enter__()
        self._graph_context = self._graph.as_default()
        self._graph_context.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._graph_context.__exit__(exc_type, exc, tb)
        self._context.__exit__(exc_type, exc, tb)
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


@tf_export("InteractiveSession")
class InteractiveSession(Session):
    """A Session that installs itself as the default on construction."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        self._interactive = ops.default_session(self)
        self._interactive.__enter__()

    def close(self):
        if self._interactive is not None:
            self._interactive.__exit__(None, None, None)
            self._interactive = None
        super().close()
