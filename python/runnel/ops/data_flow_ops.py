"""tf.FIFOQueue and tf.ConditionalAccumulator: state several clients' steps share, held by
the device they are placed on (ops/data_flow/ declares their ops). Each object wraps the op
that creates it; its methods add the ops that use it, colocated with it."""
from runnel.framework import dtypes
from runnel.framework import dtypes as _dtypes
from runnel.framework import ops
from runnel.framework import tensor_shape
from runnel.framework.api_export import tf_export
from runnel.ops import gen_ops


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


@tf_export("FIFOQueue")
class FIFOQueue:
    """A first-in first-out queue of tuples of tensors.

    `dequeue` waits while the queue is empty, `enqueue` while a bounded queue is full; both
    wake with an error when the step is cancelled (a failure elsewhere in it).
    """

    def __init__(self, capacity, dtypes, shapes=None, names=None, shared_name=None,
                 name="fifo_queue"):
        if names is not None:
            raise NotImplementedError("named queue components are not supported")
        self._dtypes = [_dtypes.as_dtype(d) for d in _as_list(dtypes)]
        self._shapes = None
        if shapes is not None:
            # One shape per component; a single component's shape may come bare ([2, 3]).
            per_component = isinstance(shapes, (list, tuple)) and all(
                isinstance(x, (list, tuple, tensor_shape.TensorShape)) for x in shapes)
            if not per_component or (len(self._dtypes) == 1 and len(shapes) != 1):
                shapes = [shapes]
            self._shapes = [tensor_shape.as_shape(x) for x in shapes]
            if len(self._shapes) != len(self._dtypes):
                raise ValueError(f"{len(self._dtypes)} dtypes but {len(self._shapes)} shapes")
        attrs = dict(component_types=self._dtypes, capacity=int(capacity),
                     shared_name=shared_name or "", name=name)
        if self._shapes is not None:
            attrs["shapes"] = self._shapes
        self._queue_ref = gen_ops.fifo_queue(**attrs)

    @property
    def queue_ref(self):
        return self._queue_ref

    @property
    def name(self):
        return self._queue_ref.op.name

    @property
    def dtypes(self):
        return list(self._dtypes)

    @property
    def shapes(self):
        return list(self._shapes) if self._shapes is not None else None

    def _components(self, vals):
        vals = _as_list(vals)
        if len(vals) != len(self._dtypes):
            raise ValueError(f"queue {self.name!r} takes {len(self._dtypes)} components, "
                             f"got {len(vals)}")
        return [ops.convert_to_tensor(v, dtype=d) for v, d in zip(vals, self._dtypes)]

    def _colocated(self):
        return ops.colocate_with(self._queue_ref)

    def enqueue(self, vals, name=None):
        with self._colocated():
            return gen_ops.queue_enqueue(self._queue_ref, self._components(vals),
                                         name=name or "enqueue")

    def enqueue_many(self, vals, name=None):
        with self._colocated():
            return gen_ops.queue_enqueue_many(self._queue_ref, self._components(vals),
                                              name=name or "enqueue_many")

    def _unpack(self, outputs, batched):
        outputs = _as_list(outputs)
        if self._shapes is not None:
            for t, s in zip(outputs, self._shapes):
                if batched and s.ndims is not None:
                    s = tensor_shape.TensorShape([None] + s.as_list())
                t.set_shape(s)
        return outputs[0] if len(outputs) == 1 else outputs

    def dequeue(self, name=None):
        with self._colocated():
            out = gen_ops.queue_dequeue(self._queue_ref, component_types=self._dtypes,
                                        name=name or "dequeue")
        return self._unpack(out, batched=False)

    def dequeue_many(self, n, name=None):
        with self._colocated():
            out = gen_ops.queue_dequeue_many(self._queue_ref, ops.convert_to_tensor(
                n, dtype=dtypes.int32), component_types=self._dtypes,
                name=name or "dequeue_many")
        return self._unpack(out, batched=True)

    def size(self, name=None):
        with self._colocated():
            return gen_ops.queue_size(self._queue_ref, name=name or "size")

    def close(self, cancel_pending_enqueues=False, name=None):
        with self._colocated():
            return gen_ops.queue_close(self._queue_ref,
                                       cancel_pending_enqueues=cancel_pending_enqueues,
                                       name=name or "close")


@tf_export("ConditionalAccumulator")
class ConditionalAccumulator:
    """Accumulates gradients of one shape until `take_grad(n)` has n of them.

    A gradient applied with a `local_step` older than the accumulator's global step is stale
    and dropped; each `take_grad` advances the global step by one.
    """

    def __init__(self, dtype, shape=None, shared_name=None, name="conditional_accumulator",
                 reduction_type="MEAN"):
        self._dtype = dtypes.as_dtype(dtype)
        self._shape = tensor_shape.as_shape(shape) if shape is not None else \
            tensor_shape.TensorShape(None)
        self._accumulator_ref = gen_ops.conditional_accumulator(
            dtype=self._dtype, shape=self._shape, shared_name=shared_name or "",
            reduction_type=reduction_type, name=name)

    @property
    def accumulator_ref(self):
        return self._accumulator_ref

    @property
    def name(self):
        return self._accumulator_ref.op.name

    @property
    def dtype(self):
        return self._dtype

    def apply_grad(self, grad, local_step=0, name=None):
        with ops.colocate_with(self._accumulator_ref):
            return gen_ops.accumulator_apply_gradient(
                self._accumulator_ref, ops.convert_to_tensor(local_step, dtype=dtypes.int64),
                ops.convert_to_tensor(grad, dtype=self._dtype), name=name or "apply_grad")

    def take_grad(self, num_required, name=None):
        with ops.colocate_with(self._accumulator_ref):
            out = gen_ops.accumulator_take_gradient(
                self._accumulator_ref, ops.convert_to_tensor(num_required, dtype=dtypes.int32),
                dtype=self._dtype, name=name or "take_grad")
        out.set_shape(self._shape)
        return out

    def num_accumulated(self, name=None):
        with ops.colocate_with(self._accumulator_ref):
            return gen_ops.accumulator_num_accumulated(self._accumulator_ref,
                                                       name=name or "num_accumulated")

    def set_global_step(self, new_global_step, name=None):
        with ops.colocate_with(self._accumulator_ref):
            return gen_ops.accumulator_set_global_step(
                self._accumulator_ref, ops.convert_to_tensor(new_global_step,
                                                             dtype=dtypes.int64),
                name=name or "SetGlobalStep")
