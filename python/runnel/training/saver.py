"""tf.train.Saver: saves and restores variables in Runnel's checkpoint format
(core/proto/checkpoint.proto): an index protobuf plus a data file, a CRC-32 per tensor.
Saves are atomic; restores check names, dtypes, shapes and checksums and say what differs."""
import os
import secrets
import zlib

import numpy as np

from runnel import errors
from runnel.framework import dtypes
from runnel.framework.api_export import tf_export
from runnel.framework.file_io import write_atomically
from runnel.framework import ops
from runnel.ops import array_ops
from runnel.ops import control_flow_ops
from runnel.ops import gen_ops
from runnel.ops import variables
from runnel.proto import checkpoint_pb2

_STATE_FILE = "checkpoint"


def _read_state(checkpoint_dir, latest_filename=_STATE_FILE):
    path = os.path.join(checkpoint_dir, latest_filename)
    if not os.path.exists(path):
        return None, []
    latest, all_paths = None, []
    for line in open(path).read().splitlines():
        key, _, value = line.partition(":")
        value = value.strip().strip('"')
        if key.strip() == "model_checkpoint_path":
            latest = value
        elif key.strip() == "all_model_checkpoint_paths":
            all_paths.append(value)
    return latest, all_paths


def _write_state(checkpoint_dir, latest, all_paths, latest_filename=_STATE_FILE):
    lines = [f'model_checkpoint_path: "{latest}"'] + \
        [f'all_model_checkpoint_paths: "{p}"' for p in all_paths]
    write_atomically(os.path.join(checkpoint_dir, latest_filename),
                      ("\n".join(lines) + "\n").encode())


def _absolute(checkpoint_dir, prefix):
    return prefix if os.path.isabs(prefix) else os.path.join(checkpoint_dir, prefix)


@tf_export("train.latest_checkpoint")
def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint in `checkpoint_dir`, or None."""
    latest, _ = _read_state(checkpoint_dir, latest_filename or _STATE_FILE)
    if latest is None:
        return None
    prefix = _absolute(checkpoint_dir, latest)
    return prefix if os.path.exists(prefix + ".index") else None


def _read_entry(f, entry, save_path):
    """The tensor `entry` of an index, read from its open data file and checksummed."""
    f.seek(entry.offset)
    data = f.read(entry.size)
    if len(data) != entry.size or (zlib.crc32(data) & 0xFFFFFFFF) != entry.crc32:
        raise errors.DataLossError(
            f"checksum mismatch for variable {entry.name} in checkpoint '{save_path}': "
            "the data file is corrupt")
    dtype = dtypes.as_dtype(entry.dtype)
    return np.frombuffer(data, np.dtype(dtype.as_numpy_dtype).newbyteorder("<")).reshape(
        [d.size for d in entry.shape.dim])


def load_checkpoint(prefix):
    """{variable name: value} of every tensor in the checkpoint `prefix`."""
    index = read_index(prefix)
    data_path = os.path.join(os.path.dirname(os.path.abspath(prefix)), index.data_file)
    if not os.path.exists(data_path):
        raise errors.DataLossError(f"checkpoint '{prefix}' lacks its data file {data_path}")
    with open(data_path, "rb") as f:
        return {e.name: _read_entry(f, e, prefix) for e in index.entries}


@tf_export("train.checkpoint_exists")
def checkpoint_exists(prefix):
    return os.path.exists(prefix + ".index")


def read_index(prefix):
    path = prefix + ".index"
    if not os.path.exists(path):
        raise errors.NotFoundError(f"no checkpoint at '{prefix}' ({path} does not exist)")
    index = checkpoint_pb2.CheckpointIndex()
    try:
        index.ParseFromString(open(path, "rb").read())
    except Exception:  # noqa: BLE001 - protobuf raises its own DecodeError
        raise errors.DataLossError(f"checkpoint index {path} is corrupt") from None
    if index.version != 1 or not index.data_file:
        raise errors.DataLossError(f"checkpoint index {path} is corrupt or of an unknown version")
    return index


@tf_export("train.Saver")
class Saver:
    """Saves and restores `var_list` (default: all global variables), keeping the newest
    `max_to_keep` checkpoints."""

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=None, pad_step_number=False, save_relative_paths=False,
                 filename=None):
        if var_list is None:
            var_list = variables.global_variables()
        if isinstance(var_list, dict):
            self._vars = dict(var_list)
        else:
            self._vars = {v.op.name: v for v in var_list}
        if not self._vars and not allow_empty:
            raise ValueError("no variables to save")
        self._max_to_keep = max_to_keep
        self._last = []
        graph = next(iter(self._vars.values())).graph if self._vars else ops.get_default_graph()
        self._restore_inputs = {}
        restores = []
        with graph.as_default(), graph.name_scope(name or "save"):
            for key, var in sorted(self._vars.items()):
                value = array_ops.placeholder(var.dtype.base_dtype, var.shape)
                self._restore_inputs[key] = value
                restores.append(gen_ops.assign(var._ref(), value).op)
            self._restore_op = control_flow_ops.group(*restores, name="restore_all")
        self._graph = graph

    def save(self, sess, save_path, global_step=None, latest_filename=None, meta_graph_suffix=None,
             write_meta_graph=False, write_state=True, strip_default_attrs=False):
        """Writes the variables' values; returns the checkpoint's prefix."""
        if global_step is not None:
            step = global_step if isinstance(global_step, (int, np.integer)) else \
                int(sess.run(global_step))
            prefix = f"{save_path}-{step}"
        else:
            prefix = save_path
        directory = os.path.dirname(os.path.abspath(prefix))
        os.makedirs(directory, exist_ok=True)
        names = sorted(self._vars)
        values = sess.run([self._vars[n].value() for n in names])
        index = checkpoint_pb2.CheckpointIndex(version=1)
        data_name = f"{os.path.basename(prefix)}.data-{secrets.token_hex(6)}"
        index.data_file = data_name
        chunks, offset = [], 0
        for name, value in zip(names, values):
            data = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<")).tobytes()
            entry = index.entries.add(name=name, offset=offset, size=len(data),
                                      crc32=zlib.crc32(data) & 0xFFFFFFFF)
            entry.dtype = dtypes.as_dtype(value.dtype).as_datatype_enum
            for d in value.shape:
                entry.shape.dim.add().size = d
            chunks.append(data)
            offset += len(data)
        old_data = None
        if os.path.exists(prefix + ".index"):
            try:
                old_data = read_index(prefix).data_file
            except errors.OpError:
                old_data = None
        write_atomically(os.path.join(directory, data_name), b"".join(chunks))
        write_atomically(prefix + ".index", index.SerializeToString())  # the commit point
        if old_data and old_data != data_name:
            _remove(os.path.join(directory, old_data))
        if write_state:
            self._update_state(directory, prefix, latest_filename or _STATE_FILE)
        return prefix

    def _update_state(self, directory, prefix, latest_filename):
        _, all_paths = _read_state(directory, latest_filename)
        stored = os.path.basename(prefix)
        all_paths = [p for p in all_paths if p != stored] + [stored]
        while self._max_to_keep and len(all_paths) > self._max_to_keep:
            delete_checkpoint(_absolute(directory, all_paths.pop(0)))
        _write_state(directory, stored, all_paths, latest_filename)
        self._last = [_absolute(directory, p) for p in all_paths]

    def restore(self, sess, save_path):
        """Sets the variables from the checkpoint `save_path`; a missing variable, another
        dtype or shape, or a bad checksum is an error naming the variable."""
        if save_path is None:
            raise ValueError("can't restore: save_path is None (no checkpoint found?)")
        index = read_index(save_path)
        data_path = os.path.join(os.path.dirname(os.path.abspath(save_path)), index.data_file)
        if not os.path.exists(data_path):
            raise errors.DataLossError(f"checkpoint '{save_path}' lacks its data file {data_path}")
        entries = {e.name: e for e in index.entries}
        feed = {}
        with open(data_path, "rb") as f:
            for name, placeholder in sorted(self._restore_inputs.items()):
                if name not in entries:
                    raise errors.NotFoundError(
                        f"Key {name} not found in checkpoint '{save_path}' (it holds: "
                        f"{', '.join(sorted(entries)) or 'nothing'})")
                e = entries[name]
                dtype = dtypes.as_dtype(e.dtype)
                shape = [d.size for d in e.shape.dim]
                var = self._vars[name]
                if dtype != var.dtype.base_dtype:
                    raise errors.InvalidArgumentError(
                        f"variable {name} is {var.dtype.base_dtype.name} but checkpoint "
                        f"'{save_path}' holds {dtype.name}")
                if not var.shape.is_compatible_with(shape):
                    raise errors.InvalidArgumentError(
                        f"variable {name} has shape {var.shape} but checkpoint '{save_path}' "
                        f"holds shape {shape}")
                feed[placeholder] = _read_entry(f, e, save_path)
        sess.run(self._restore_op, feed)

    @property
    def last_checkpoints(self):
        """The prefixes this saver keeps, oldest first."""
        return list(self._last)


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def delete_checkpoint(prefix):
    try:
        data = read_index(prefix).data_file
        _remove(os.path.join(os.path.dirname(os.path.abspath(prefix)), data))
    except errors.OpError:
        pass
    _remove(prefix + ".index")
