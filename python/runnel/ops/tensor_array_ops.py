"""tf.TensorArray: a list of tensors in the graph (TensorFlow's V3 ops), which a while loop
fills one element per iteration. Every method that changes the array returns a new
TensorArray object over the same handle with a new `flow` tensor, which orders the ops
that read after the ones that wrote; the element shape learnt from writes is shared by
all of them, so a read's static shape is known."""
from runnel.framework import constant_op
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework import tensor_shape
from runnel.framework.api_export import tf_export
from runnel.ops import gen_ops


@tf_export("TensorArray")
class TensorArray:
    """`TensorArray(dtype, size, dynamic_size=False, clear_after_read=True,
    element_shape=None, infer_shape=True)`: `write(i, value)`, `read(i)`, `stack()`,
    `unstack(value)`, `gather(indices)`, `scatter(indices, value)`, `concat()`,
    `split(value, lengths)`, `size()`, `close()`, as in TensorFlow 1.x."""

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None,
                 tensor_array_name=None, handle=None, flow=None, infer_shape=True,
                 element_shape=None, colocate_with_first_write_call=True, name=None):
        self._dtype = dtypes.as_dtype(dtype).base_dtype
        self._dynamic_size = bool(dynamic_size)
        self._infer_shape = infer_shape
        # One list shared by every TensorArray over this handle: the element shape so far.
        self._element_shape = [tensor_shape.as_shape(element_shape)
                               if element_shape is not None else tensor_shape.unknown_shape()]
        if handle is not None:
            if flow is None:
                raise ValueError("a TensorArray made from a handle needs its flow too")
            self._handle, self._flow = handle, flow
            return
        if size is None:
            raise ValueError("a new TensorArray needs its size")
        with ops.name_scope(name, "TensorArray", [size]) as scope:
            self._handle, self._flow = gen_ops.tensor_array_v3(
                ops.convert_to_tensor(size, dtype=dtypes.int32), dtype=self._dtype,
                element_shape=self._element_shape[0], dynamic_size=self._dynamic_size,
                clear_after_read=True if clear_after_read is None else clear_after_read,
                identical_element_shapes=infer_shape,
                tensor_array_name=tensor_array_name or "", name=scope)

    @property
    def dtype(self):
        return self._dtype

    @property
    def handle(self):
        return self._handle

    @property
    def flow(self):
        return self._flow

    @property
    def dynamic_size(self):
        return self._dynamic_size

    @property
    def element_shape(self):
        return self._element_shape[0]

    def _with_flow(self, flow):
        """This array after the op that gave `flow`."""
        ta = TensorArray.__new__(TensorArray)
        ta._dtype, ta._dynamic_size, ta._infer_shape = \
            self._dtype, self._dynamic_size, self._infer_shape
        ta._element_shape = self._element_shape
        ta._handle, ta._flow = self._handle, flow
        return ta

    def _merge_element_shape(self, shape):
        if not self._infer_shape:
            return
        if not self._element_shape[0].is_compatible_with(shape):
            raise ValueError(f"Inconsistent shapes: saw {shape} but expected "
                             f"{self._element_shape[0]} (and infer_shape=True)")
        self._element_shape[0] = self._element_shape[0].merge_with(shape)

    def _value(self, value, name):
        value = ops.convert_to_tensor(value, name=name)
        if value.dtype.base_dtype != self._dtype:
            raise TypeError(f"TensorArray dtype is {self._dtype.name} but op has dtype "
                            f"{value.dtype.base_dtype.name}")
        return value

    def identity(self):
        return self._with_flow(gen_ops.identity(self._flow))

    def grad(self, source, flow=None, name=None):
        handle, flow = gen_ops.tensor_array_grad_v3(
            self._handle, self._flow if flow is None else flow, source=source,
            name=name or "TensorArrayGrad")
        grad = TensorArray(self._dtype, handle=handle, flow=flow,
                           infer_shape=self._infer_shape)
        grad._element_shape = self._element_shape
        return grad

    def read(self, index, name=None):
        value = gen_ops.tensor_array_read_v3(
            self._handle, ops.convert_to_tensor(index, dtype=dtypes.int32), self._flow,
            dtype=self._dtype, name=name or "TensorArrayReadV3")
        value.set_shape(self._element_shape[0])
        return value

    def write(self, index, value, name=None):
        with ops.name_scope(name, "TensorArrayWrite", [self._handle, index, value]):
            value = self._value(value, "value")
            self._merge_element_shape(value.shape)
            flow = gen_ops.tensor_array_write_v3(
                self._handle, ops.convert_to_tensor(index, dtype=dtypes.int32), value,
                self._flow)
        return self._with_flow(flow)

    def stack(self, name=None):
        """All elements stacked along a new first dimension."""
        with ops.name_scope(name, "TensorArrayStack", [self._handle]):
            return self.gather(gen_ops.range(constant_op.constant(0), self.size(),
                                             constant_op.constant(1)))

    def gather(self, indices, name=None):
        value = gen_ops.tensor_array_gather_v3(
            self._handle, ops.convert_to_tensor(indices, dtype=dtypes.int32), self._flow,
            dtype=self._dtype, element_shape=self._element_shape[0],
            name=name or "TensorArrayGatherV3")
        if self._element_shape[0].ndims is not None:
            value.set_shape(tensor_shape.TensorShape([None]).concatenate(
                self._element_shape[0]))
        return value

    def concat(self, name=None):
        shape = self._element_shape[0]
        except0 = shape[1:] if shape.ndims else tensor_shape.unknown_shape()
        value, _ = gen_ops.tensor_array_concat_v3(
            self._handle, self._flow, dtype=self._dtype, element_shape_except0=except0,
            name=name or "TensorArrayConcatV3")
        return value

    def unstack(self, value, name=None):
        """Writes each row of `value` as an element, in order."""
        with ops.name_scope(name, "TensorArrayUnstack", [self._handle, value]):
            value = self._value(value, "value")
            rows = gen_ops.range(constant_op.constant(0), gen_ops.shape(value)[0],
                                 constant_op.constant(1))
            return self.scatter(rows, value)

    def scatter(self, indices, value, name=None):
        with ops.name_scope(name, "TensorArrayScatter", [self._handle, indices, value]):
            value = self._value(value, "value")
            if value.shape.ndims is not None:
                self._merge_element_shape(value.shape[1:])
            flow = gen_ops.tensor_array_scatter_v3(
                self._handle, ops.convert_to_tensor(indices, dtype=dtypes.int32), value,
                self._flow)
        return self._with_flow(flow)

    def split(self, value, lengths, name=None):
        with ops.name_scope(name, "TensorArraySplit", [self._handle, value, lengths]):
            value = self._value(value, "value")
            if value.shape.ndims is not None:
                self._merge_element_shape(
                    tensor_shape.TensorShape([None]).concatenate(value.shape[1:]))
            flow = gen_ops.tensor_array_split_v3(
                self._handle, value, ops.convert_to_tensor(lengths, dtype=dtypes.int64),
                self._flow)
        return self._with_flow(flow)

    def size(self, name=None):
        return gen_ops.tensor_array_size_v3(self._handle, self._flow,
                                            name=name or "TensorArraySizeV3")

    def close(self, name=None):
        return gen_ops.tensor_array_close_v3(self._handle, name=name or "TensorArrayCloseV3")
