"""A frozen graph run over batches of rows by cluster workers (Spark's mapInPandas, Dask's
map_partitions). Each worker process loads a graph once, keyed by its digest, and keeps
it for every later batch and task; rows come in as pandas columns (arrays, numbers,
several numeric columns, or encoded images) and predictions go out as columns."""
import collections
import hashlib
import os

import numpy as np

# (digest, inputs, outputs, threads) -> FrozenGraph, and digest -> times loaded, for this
# worker process.
_loaded = {}
_load_counts = collections.Counter()


def graph_bytes(graph):
    """The serialized GraphDef that `graph` (a path, bytes, or a GraphDef) stands for."""
    if isinstance(graph, (bytes, bytearray)):
        return bytes(graph)
    if isinstance(graph, (str, os.PathLike)):
        with open(graph, "rb") as f:
            return f.read()
    if hasattr(graph, "SerializeToString"):
        return graph.SerializeToString()
    raise TypeError(f"graph must be a .pb path, bytes or a GraphDef, got {type(graph).__name__}")


def digest(data):
    return hashlib.sha256(data).hexdigest()


def tensor_name(name):
    return name if ":" in name else f"{name}:0"


class FrozenGraph:
    """A frozen graph in its own session. `inputs` maps a column name (or a tuple of
    numeric column names, stacked side by side) to the tensor it feeds, `outputs` a tensor
    to the column it becomes."""

    def __init__(self, data, inputs, outputs, threads=0):
        from runnel.client import session as session_lib
        from runnel.framework import importer
        from runnel.framework import ops
        from runnel.proto import graph_pb2
        graph_def = graph_pb2.GraphDef()
        try:
            graph_def.ParseFromString(data)
        except Exception as e:  # noqa: BLE001 - protobuf's DecodeError and others
            raise ValueError(f"the frozen graph does not parse as a GraphDef ({e})") from None
        self.graph = ops.Graph()
        with self.graph.as_default():
            importer.import_graph_def(graph_def, name="")
        self.inputs = [(column, self._tensor(name, "input")) for column, name in inputs.items()]
        self.outputs = [(self._tensor(name, "output"), column)
                        for name, column in outputs.items()]
        config = session_lib.ConfigProto(intra_op_parallelism_threads=threads,
                                         inter_op_parallelism_threads=threads,
                                         allow_soft_placement=True)
        self.session = session_lib.Session(graph=self.graph, config=config)
        self._decoder = None

    def _tensor(self, name, what):
        try:
            return self.graph.get_tensor_by_name(tensor_name(name))
        except (KeyError, ValueError):
            placeholders = [op.name for op in self.graph.get_operations()
                            if op.type == "Placeholder"]
            raise ValueError(f"the frozen graph has no {what} tensor {name!r} (its "
                             f"placeholders: {placeholders})") from None

    def output_specs(self):
        """(column, numpy dtype, per-row rank) of each output."""
        return [(column, tensor.dtype.as_numpy_dtype,
                 max((tensor.shape.ndims or 1) - 1, 0)) for tensor, column in self.outputs]

    def run(self, frame):
        """{column: values} for one pandas DataFrame of rows: a numpy array for per-row
        scalars, a list of per-row arrays otherwise."""
        feed = {tensor: self._feed(frame, column, tensor) for column, tensor in self.inputs}
        values = self.session.run([tensor for tensor, _ in self.outputs], feed)
        out = {}
        for (tensor, column), value in zip(self.outputs, values):
            if value.ndim == 0 or len(value) != len(frame):
                raise ValueError(f"output {tensor.name} has shape {value.shape}, not one row "
                                 f"per input row ({len(frame)})")
            out[column] = value if value.ndim == 1 else list(value.reshape(len(value), -1))
        return out

    def _feed(self, frame, column, tensor):
        columns = list(column) if isinstance(column, tuple) else [column]
        missing = [c for c in columns if c not in frame]
        if missing:
            raise ValueError(f"no column {missing} for input {tensor.name}; the rows have "
                             f"{list(frame.columns)}")
        if len(columns) > 1:
            array = np.column_stack([frame[c].to_numpy() for c in columns])
        else:
            array = self._column(frame[columns[0]], tensor)
        dims = tensor.shape.as_list()[1:] if tensor.shape.ndims else None
        if dims is not None and None not in dims:
            try:
                array = array.reshape([len(frame)] + dims)
            except ValueError:
                raise ValueError(f"column {column!r} has rows of shape {array.shape[1:]}; "
                                 f"input {tensor.name} takes {dims}") from None
        return array.astype(tensor.dtype.as_numpy_dtype, copy=False)

    def _column(self, series, tensor):
        values = series.to_numpy()
        if len(values) and isinstance(values[0], (bytes, bytearray)):
            return np.stack([self._decode(v) for v in values])
        if len(values) and isinstance(values[0], str):
            raise ValueError(f"column {series.name!r} holds text ({values[0][:40]!r}); input "
                             f"{tensor.name} takes numbers, arrays or image bytes (Dask turns "
                             "object columns to text unless dataframe.convert-string is off)")
        if values.dtype == object:
            return np.stack([np.asarray(v) for v in values])
        return values

    def _decode(self, encoded):
        """An encoded PNG or JPEG image as a uint8 [height, width, channels] array, by
        Runnel's own decoders."""
        if self._decoder is None:
            from runnel.client import session as session_lib
            from runnel.framework import dtypes
            from runnel.framework import ops
            from runnel.ops import array_ops
            from runnel.ops import gen_ops
            graph = ops.Graph()
            with graph.as_default():
                contents = array_ops.placeholder(dtypes.string, [])
                images = {b"\x89PNG": gen_ops.decode_png(contents),
                          b"\xff\xd8": gen_ops.decode_jpeg(contents)}
            self._decoder = (session_lib.Session(graph=graph), contents, images)
        session, contents, images = self._decoder
        image = next((image for magic, image in images.items()
                      if bytes(encoded[:len(magic)]) == magic), None)
        if image is None:
            raise ValueError(f"a row's bytes are neither PNG nor JPEG (they start "
                             f"{bytes(encoded[:8])!r})")
        return session.run(image, {contents: encoded})


def load(data, key, inputs, outputs, threads):
    """The worker process's FrozenGraph for these bytes (`key`: their digest, computed once
    on the driver), loaded on first use."""
    cache_key = (key, tuple(inputs.items()), tuple(outputs.items()), threads)
    model = _loaded.get(cache_key)
    if model is None:
        model = _loaded[cache_key] = FrozenGraph(data, inputs, outputs, threads)
        _load_counts[key] += 1
    return model


def load_counts():
    """{digest: times loaded} in this process (each graph should be loaded once)."""
    return dict(_load_counts)


def prepare(graph, inputs, outputs, columns):
    """Checks a predict call on the driver: (graph bytes, inputs, outputs, the graph loaded
    here, whose output_specs give the new columns' types). Unknown tensors and output
    columns that exist already are errors here rather than on the workers."""
    data = graph_bytes(graph)
    inputs, outputs = normalize_inputs(inputs), normalize_outputs(outputs)
    probe = FrozenGraph(data, inputs, outputs)
    clash = [c for c in outputs.values() if c in columns]
    if clash:
        raise ValueError(f"output columns {clash} already exist in the DataFrame")
    return data, inputs, outputs, probe


def normalize_inputs(inputs):
    """{column or tuple of columns: tensor name} from the user's mapping, lists as tuples."""
    if not isinstance(inputs, dict) or not inputs:
        raise TypeError("inputs must map columns to input tensors, e.g. "
                        "{'features': 'x:0'}")
    return {tuple(c) if isinstance(c, (list, tuple)) else c: tensor_name(t)
            for c, t in inputs.items()}


def normalize_outputs(outputs):
    if not isinstance(outputs, dict) or not outputs:
        raise TypeError("outputs must map output tensors to new columns, e.g. "
                        "{'softmax:0': 'probabilities'}")
    return {tensor_name(t): c for t, c in outputs.items()}
