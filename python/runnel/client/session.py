"""tf.Session: runs the default (or a given) graph with the C++ DirectSession."""
import collections

import numpy as np

from runnel import _runnel
from runnel import errors
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework import tensor_util
from runnel.framework.api_export import tf_export

get_default_session = ops.get_default_session


@tf_export("ConfigProto")
class ConfigProto:
    """Session settings, with TensorFlow's field names. Other keys documented in
    runtime/session_options.h can be passed as `options={"key": "value"}`."""

    def __init__(self, inter_op_parallelism_threads=0, intra_op_parallelism_threads=0,
                 allow_soft_placement=True, log_device_placement=False, device_count=None,
                 options=None, **unsupported):
        if unsupported:
            raise TypeError(f"unsupported ConfigProto fields: {sorted(unsupported)}")
        self.inter_op_parallelism_threads = inter_op_parallelism_threads
        self.intra_op_parallelism_threads = intra_op_parallelism_threads
        self.allow_soft_placement = allow_soft_placement
        self.log_device_placement = log_device_placement
        self.device_count = dict(device_count or {})
        self.options = dict(options or {})

    def to_options(self):
        opts = {
            "inter_op_parallelism_threads": str(self.inter_op_parallelism_threads),
            "intra_op_parallelism_threads": str(self.intra_op_parallelism_threads),
            "allow_soft_placement": "true" if self.allow_soft_placement else "false",
            "log_device_placement": "true" if self.log_device_placement else "false",
        }
        for device_type, count in self.device_count.items():
            opts[f"device_count.{device_type}"] = str(count)
        opts.update({k: str(v) for k, v in self.options.items()})
        return opts


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
        if target:
            raise errors.UnimplementedError(
                f"distributed targets ('{target}') are not supported yet; use tf.Session()")
        self._graph = graph or ops.get_default_graph()
        self._config = config or ConfigProto()
        self._session = _runnel.Session(self._graph._c_graph, self._config.to_options())
        self._closed = False
        self._context = None

    @property
    def graph(self):
        return self._graph

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
        results = self._session.run(feeds, fetch_names, targets)
        values = []
        for slot in slots:
            if slot is None:
                values.append(None)
                continue
            v = results[slot]
            values.append(v[()] if v.ndim == 0 else v)
        return mapper.build(values)

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
