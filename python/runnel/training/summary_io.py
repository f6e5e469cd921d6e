"""tf.summary.FileWriter: TensorBoard's event files, as TensorFlow 1.x writes them.

A file `events.out.tfevents.<seconds>.<host>[suffix]` in the log directory holds TFRecords
(a little-endian uint64 length, its masked CRC-32C, the bytes, their masked CRC-32C), each
a serialized Event (core/proto/event.proto): the file's version first, then graphs,
summaries and session logs by step. TensorBoard reads the file while it grows, so it is
written in place and flushed every `flush_secs` or `max_queue` events, not renamed at the
end. `summary_iterator` reads such a file back, checking every CRC."""
import os
import socket
import struct
import time

from runnel import _runnel
from runnel import errors
from runnel.framework import ops
from runnel.framework.api_export import tf_export
from runnel.proto import event_pb2, graph_pb2, summary_pb2

_FILE_VERSION = "brain.Event:2"


def _record(data):
    length = struct.pack("<Q", len(data))
    return b"".join((length, struct.pack("<I", _runnel.masked_crc32c(length)), data,
                     struct.pack("<I", _runnel.masked_crc32c(data))))


@tf_export("summary.FileWriter")
class FileWriter:
    """Writes summaries, graphs and session logs for TensorBoard into `logdir` (made if
    missing). `graph` (or `graph_def`) is written first when given."""

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None,
                 filename_suffix=None, session=None):
        if session is not None:
            raise NotImplementedError("FileWriter(session=...) writes through a session's "
                                      "summary ops in TensorFlow 2; Runnel writes from Python")
        self._logdir = str(logdir)
        self._max_queue, self._flush_secs = max_queue, flush_secs
        self._suffix = filename_suffix or ""
        self._file = None
        self.reopen()
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    def get_logdir(self):
        return self._logdir

    def reopen(self):
        """Starts a new event file after close(); does nothing while open."""
        if self._file is not None:
            return
        os.makedirs(self._logdir, exist_ok=True)
        stem = os.path.join(self._logdir, f"events.out.tfevents.{int(time.time()):010d}."
                            f"{socket.gethostname()}")
        # Two writers in the same second and directory get their own files.
        path, n = stem + self._suffix, 0
        while True:
            try:
                self._file = open(path, "xb")
                break
            except FileExistsError:
                n += 1
                path = f"{stem}.{os.getpid()}.{n}{self._suffix}"
        self._path, self._pending, self._last_flush = path, 0, time.time()
        self.add_event(event_pb2.Event(wall_time=time.time(), file_version=_FILE_VERSION))
        self.flush()

    def add_event(self, event):
        if self._file is None:
            raise errors.FailedPreconditionError(
                f"the event file {self._path} is closed; reopen() it first")
        self._file.write(_record(event.SerializeToString()))
        self._pending += 1
        if (self._pending >= self._max_queue
                or time.time() - self._last_flush >= self._flush_secs):
            self.flush()

    def add_summary(self, summary, global_step=None):
        """`summary`: a Summary, or the bytes a summary op's run returned."""
        if isinstance(summary, bytes):
            summary = summary_pb2.Summary.FromString(summary)
        elif not isinstance(summary, summary_pb2.Summary):
            raise TypeError(f"add_summary takes a Summary or its serialized bytes (what a "
                            f"summary op returns), got {type(summary).__name__}")
        self._add(global_step, summary=summary)

    def add_session_log(self, session_log, global_step=None):
        self._add(global_step, session_log=session_log)

    def add_graph(self, graph, global_step=None, graph_def=None):
        """Writes `graph` (a tf.Graph) or `graph_def` (a GraphDef) for TensorBoard's graph
        page."""
        if graph is not None and graph_def is not None:
            raise ValueError("give add_graph a graph or a graph_def, not both")
        if graph is not None:
            graph_def = graph.as_graph_def(add_shapes=True)
        if not isinstance(graph_def, graph_pb2.GraphDef):
            raise TypeError(f"graph_def must be a GraphDef, got {type(graph_def).__name__}")
        self._add(global_step, graph_def=graph_def.SerializeToString())

    def add_run_metadata(self, run_metadata, tag, global_step=None):
        """A run's RunMetadata (its step_stats) under `tag`, for TensorBoard's graph page."""
        self._add(global_step, tagged_run_metadata=event_pb2.TaggedRunMetadata(
            tag=tag, run_metadata=run_metadata.SerializeToString()))

    def _add(self, global_step, **what):
        event = event_pb2.Event(wall_time=time.time(), **what)
        if global_step is not None:
            event.step = int(global_step)
        self.add_event(event)

    def flush(self):
        if self._file is not None:
            self._file.flush()
            self._pending, self._last_flush = 0, time.time()

    def close(self):
        if self._file is not None:
            self.flush()
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@tf_export("summary.FileWriterCache")
class FileWriterCache:
    """One FileWriter per log directory, shared (as hooks and Keras callbacks share it)."""
    _writers = {}

    @staticmethod
    def get(logdir):
        key = os.path.abspath(str(logdir))
        if key not in FileWriterCache._writers:
            FileWriterCache._writers[key] = FileWriter(logdir, graph=ops.get_default_graph())
        return FileWriterCache._writers[key]

    @staticmethod
    def clear():
        for writer in FileWriterCache._writers.values():
            writer.close()
        FileWriterCache._writers.clear()


@tf_export("train.summary_iterator")
def summary_iterator(path):
    """The Events of an event file, in order; a damaged record is an error naming the file
    and its offset."""
    with open(path, "rb") as f:
        data = f.read()
    offset = 0
    while offset < len(data):
        body, offset = _read_record(path, data, offset)
        yield event_pb2.Event.FromString(body)


def _read_record(path, data, offset):
    """The bytes of the record at `offset` of `data` and the offset after it."""
    def damaged(what):
        return errors.DataLossError(f"{path}: the record at byte {offset} {what}")
    if len(data) - offset < 12:
        raise damaged("is cut off in its header")
    header = data[offset:offset + 8]
    (length,) = struct.unpack("<Q", header)
    (header_crc,) = struct.unpack("<I", data[offset + 8:offset + 12])
    if _runnel.masked_crc32c(header) != header_crc:
        raise damaged("has a length whose checksum does not match")
    if len(data) - offset - 12 < length + 4:
        raise damaged(f"is cut off: its length says {length} bytes")
    end = offset + 12 + length
    (body_crc,) = struct.unpack("<I", data[end:end + 4])
    if _runnel.masked_crc32c(data[offset + 12:end]) != body_crc:
        raise damaged("has bytes whose checksum does not match")
    return data[offset + 12:end], end + 4
