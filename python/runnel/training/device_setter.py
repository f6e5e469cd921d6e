"""tf.train.replica_device_setter: a device function for between-graph replication. The
ops that hold state (variables) go to the parameter-server tasks, spread by a strategy
(round-robin by default, or greedy by bytes), everything else to the worker; a device the
inner scopes already gave an op wins part for part, as TensorFlow merges them."""
import numpy as np

from runnel.framework import device_spec
from runnel.framework import dtypes
from runnel.framework.api_export import tf_export
from runnel.training import server_lib

STANDARD_PS_OPS = ("Variable", "VariableV2", "AutoReloadVariable", "VarHandleOp",
                   "MutableHashTable", "MutableHashTableV2", "MutableHashTableOfTensors",
                   "MutableHashTableOfTensorsV2", "MutableDenseHashTable",
                   "MutableDenseHashTableV2")


class _RoundRobinStrategy:
    """Task 0, 1, ..., n-1, 0, ... for the ps ops in the order they are created."""

    def __init__(self, num_tasks):
        self._num_tasks, self._next = num_tasks, 0

    def __call__(self, op):
        task = self._next
        self._next = (self._next + 1) % self._num_tasks
        return task


@tf_export("train.byte_size_load_fn")
def byte_size_load_fn(op):
    """The bytes a variable op holds (its `shape` and `dtype` attrs); 0 when unknown."""
    node = op.node_def
    if "shape" not in node.attr or "dtype" not in node.attr:
        return 0
    shape = node.attr["shape"].shape
    if shape.unknown_rank or any(d.size < 0 for d in shape.dim):
        return 0
    dtype = dtypes.as_dtype(node.attr["dtype"].type).base_dtype
    size = np.dtype(dtype.as_numpy_dtype).itemsize if dtype != dtypes.string else 0
    return int(np.prod([d.size for d in shape.dim], dtype=np.int64)) * size


@tf_export("train.GreedyLoadBalancingStrategy")
class GreedyLoadBalancingStrategy:
    """Each ps op to the task holding the least so far (by `load_fn`, bytes by default)."""

    def __init__(self, num_tasks, load_fn=byte_size_load_fn):
        if num_tasks <= 0:
            raise ValueError(f"num_tasks must be positive, got {num_tasks}")
        self._loads = np.zeros(num_tasks, np.int64)
        self._load_fn = load_fn

    def __call__(self, op):
        task = int(np.argmin(self._loads))  # the first of equals, as TensorFlow picks
        self._loads[task] += self._load_fn(op)
        return task


@tf_export("train.replica_device_setter")
def replica_device_setter(ps_tasks=0, ps_device="/job:ps", worker_device="/job:worker",
                          merge_devices=True, cluster=None, ps_ops=None, ps_strategy=None):
    """A device function for `tf.device`: ops in `ps_ops` on `ps_device` with the task the
    strategy picks, the rest on `worker_device`. With `cluster` (a ClusterSpec, dict or
    ClusterDef), ps_tasks is the number of tasks of its "ps" job. None when there are no ps
    tasks, as TensorFlow returns."""
    if cluster is not None:
        cluster = server_lib.ClusterSpec(cluster)
        ps_tasks = cluster.num_tasks("ps") if "ps" in cluster.jobs else 0
    if ps_tasks == 0:
        return None
    if not merge_devices:
        raise ValueError("merge_devices=False is not supported (TensorFlow deprecated it)")
    ps_ops = tuple(ps_ops) if ps_ops is not None else STANDARD_PS_OPS
    strategy = ps_strategy if ps_strategy is not None else _RoundRobinStrategy(ps_tasks)
    if not callable(strategy):
        raise TypeError("ps_strategy must be callable")

    def device_function(op):
        current = device_spec.DeviceSpec.from_string(op.device or "")
        if ps_device and op.type in ps_ops:
            spec = device_spec.DeviceSpec.from_string(ps_device)
            if spec.job and (current.job is None or current.job == spec.job):
                spec.task = strategy(op)
        else:
            spec = device_spec.DeviceSpec.from_string(worker_device or "")
        spec.merge_from(current)  # what the inner scopes set wins
        return spec.to_string()

    return device_function
