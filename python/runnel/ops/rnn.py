"""tf.nn.dynamic_rnn (a cell run by a while loop over time, reading the inputs from a
TensorArray and writing the outputs to another), tf.nn.static_rnn (the cell unrolled over
a Python list of steps) and tf.nn.bidirectional_dynamic_rnn, as in TensorFlow 1.x: the
variables live under `rnn/` (or `bidirectional_rnn/fw/`, `.../bw/`), and with
`sequence_length` each sequence's outputs past its end are zeros and its state stops
changing there."""
from runnel.framework import constant_op
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework import tensor_shape
from runnel.framework.api_export import tf_export
from runnel.ops import array_ops
from runnel.ops import control_flow_ops
from runnel.ops import gen_ops
from runnel.ops import math_ops
from runnel.ops import tensor_array_ops
from runnel.ops import variable_scope as vs

_flatten = control_flow_ops._flatten
_pack_like = control_flow_ops._pack_like


def _swap_batch_and_time(value):
    """[batch, time, ...] ↔ [time, batch, ...]."""
    rank = value.shape.ndims
    if rank is None or rank < 2:
        raise ValueError(f"RNN inputs must have rank >= 2 (batch and time), got shape "
                         f"{value.shape} for {value.name}")
    return array_ops.transpose(value, [1, 0] + list(range(2, rank)))


def _initial_state(cell, initial_state, batch_size, dtype, name):
    if initial_state is not None:
        return initial_state
    if dtype is None:
        raise ValueError(f"{name}: without an initial_state, pass the dtype of the state")
    return cell.zero_state(batch_size, dtype)


def _batch_size(flat_inputs, batch_axis):
    static = tensor_shape.dimension_value(flat_inputs[0].shape[batch_axis])
    return static if static is not None else array_ops.shape(flat_inputs[0])[batch_axis]


def _copy_past_end(time, sequence_length, output, new_state, state):
    """The step's output and state where `time` is within each sequence; past its end,
    zeros and the state it had."""
    past = math_ops.greater_equal(time, sequence_length)  # [batch]
    output = [array_ops.where(past, array_ops.zeros_like(o), o) for o in output]
    new_state = [array_ops.where(past, old, new) for old, new in zip(state, new_state)]
    return output, new_state


@tf_export("nn.dynamic_rnn")
def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major=False, scope=None):
    """Runs `cell` over the time steps of `inputs` ([batch, time, ...], or [time, batch,
    ...] with `time_major`; a nested structure of such tensors) in a while loop, so the
    number of steps may differ between runs. Returns (outputs, final state): outputs
    [batch, time, output_size] (time-major with `time_major`)."""
    with vs.variable_scope(scope or "rnn") as varscope:
        flat = [ops.convert_to_tensor(x, name="input") for x in _flatten(inputs)]
        if not time_major:
            flat = [_swap_batch_and_time(x) for x in flat]
        steps = array_ops.shape(flat[0])[0]
        static_steps = tensor_shape.dimension_value(flat[0].shape[0])
        batch_size = _batch_size(flat, 1)
        if varscope.dtype is None and dtype is not None:
            varscope.dtype = dtypes.as_dtype(dtype)
        state = _initial_state(cell, initial_state, batch_size, dtype, "tf.nn.dynamic_rnn")
        state_flat = [ops.convert_to_tensor(s) for s in _flatten(state)]
        if sequence_length is not None:
            sequence_length = array_ops.cast(
                ops.convert_to_tensor(sequence_length, name="sequence_length"),
                dtypes.int32)
            if sequence_length.shape.ndims not in (None, 1):
                raise ValueError(f"sequence_length must be a vector [batch], got shape "
                                 f"{sequence_length.shape}")
        with ops.name_scope("dynamic_rnn"):
            input_arrays = [tensor_array_ops.TensorArray(x.dtype, size=steps,
                                                         element_shape=x.shape[1:])
                            .unstack(x) for x in flat]
            output_size = _flatten(cell.output_size)
            out_dtype = state_flat[0].dtype.base_dtype
            output_arrays = [tensor_array_ops.TensorArray(out_dtype, size=steps)
                             for _ in output_size]

        def body(time, state_flat, output_arrays):
            step_inputs = [ta.read(time) for ta in input_arrays]  # shaped as x.shape[1:]
            step_state = _pack_like(state, list(state_flat))
            output, new_state = cell(_pack_like(inputs, step_inputs), step_state)
            output = [ops.convert_to_tensor(o) for o in _flatten(output)]
            new_state = [ops.convert_to_tensor(s) for s in _flatten(new_state)]
            if sequence_length is not None:
                output, new_state = _copy_past_end(time, sequence_length, output, new_state,
                                                   state_flat)
            for old, new in zip(state_flat, new_state):
                new.set_shape(old.shape)
            return (time + 1, new_state,
                    [ta.write(time, o) for ta, o in zip(output_arrays, output)])

        _, final_state, output_arrays = control_flow_ops.while_loop(
            lambda time, *_: time < steps, body,
            [constant_op.constant(0, dtypes.int32, name="time"), state_flat, output_arrays],
            parallel_iterations=parallel_iterations or 32, swap_memory=swap_memory)
        outputs = []
        for ta, size in zip(output_arrays, output_size):
            value = ta.stack()
            value.set_shape([static_steps, tensor_shape.dimension_value(
                flat[0].shape[1]), size])
            outputs.append(value if time_major else _swap_batch_and_time(value))
        return (_pack_like(cell.output_size, outputs),
                _pack_like(state, list(final_state)))


@tf_export("nn.static_rnn")
def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None,
               scope=None):
    """`cell` unrolled over `inputs`, a Python list of [batch, ...] steps; returns (the
    list of outputs, the final state)."""
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise TypeError("tf.nn.static_rnn's inputs must be a non-empty list of tensors")
    with vs.variable_scope(scope or "rnn") as varscope:
        if varscope.dtype is None and dtype is not None:
            varscope.dtype = dtypes.as_dtype(dtype)
        first = [ops.convert_to_tensor(x) for x in _flatten(inputs[0])]
        state = _initial_state(cell, initial_state, _batch_size(first, 0), dtype,
                               "tf.nn.static_rnn")
        if sequence_length is not None:
            sequence_length = array_ops.cast(ops.convert_to_tensor(sequence_length),
                                            dtypes.int32)
        outputs = []
        for time, step_input in enumerate(inputs):
            output, new_state = cell(step_input, state)
            if sequence_length is not None:
                flat_out, flat_state = _copy_past_end(
                    time, sequence_length, [ops.convert_to_tensor(o) for o in _flatten(output)],
                    _flatten(new_state), _flatten(state))
                output = _pack_like(output, flat_out)
                new_state = _pack_like(state, flat_state)
            outputs.append(output)
            state = new_state
        return outputs, state


@tf_export("reverse_sequence")
def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name=None,  # noqa: A002
                     seq_dim=None, batch_dim=None):
    """Each slice along `batch_axis` with its first seq_lengths[b] elements along
    `seq_axis` reversed, the rest as they were."""
    seq_axis = seq_axis if seq_axis is not None else seq_dim
    batch_axis = batch_axis if batch_axis is not None else (batch_dim or 0)
    if seq_axis is None:
        raise ValueError("tf.reverse_sequence needs seq_axis")
    return gen_ops.reverse_sequence(input, seq_lengths, seq_dim=seq_axis,
                                    batch_dim=batch_axis, name=name)


def _reverse_time(value, sequence_length, time_major):
    time_axis, batch_axis = (0, 1) if time_major else (1, 0)
    if sequence_length is None:
        return gen_ops.reverse_v2(value, [time_axis])
    return gen_ops.reverse_sequence(value, array_ops.cast(sequence_length, dtypes.int64),
                                    seq_dim=time_axis, batch_dim=batch_axis)


@tf_export("nn.bidirectional_dynamic_rnn")
def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None,
                              initial_state_fw=None, initial_state_bw=None, dtype=None,
                              parallel_iterations=None, swap_memory=False, time_major=False,
                              scope=None):
    """dynamic_rnn forward with `cell_fw` and over the reversed sequences with `cell_bw`
    (each sequence reversed within its length); returns ((outputs_fw, outputs_bw),
    (state_fw, state_bw)), the backward outputs in the inputs' time order."""
    with vs.variable_scope(scope or "bidirectional_rnn"):
        with vs.variable_scope("fw") as fw_scope:
            output_fw, state_fw = dynamic_rnn(
                cell_fw, inputs, sequence_length, initial_state_fw, dtype,
                parallel_iterations, swap_memory, time_major, scope=fw_scope)
        with vs.variable_scope("bw") as bw_scope:
            reversed_inputs = _pack_like(inputs, [
                _reverse_time(ops.convert_to_tensor(x), sequence_length, time_major)
                for x in _flatten(inputs)])
            output_bw, state_bw = dynamic_rnn(
                cell_bw, reversed_inputs, sequence_length, initial_state_bw, dtype,
                parallel_iterations, swap_memory, time_major, scope=bw_scope)
            output_bw = _pack_like(output_bw, [
                _reverse_time(o, sequence_length, time_major) for o in _flatten(output_bw)])
    return (output_fw, output_bw), (state_fw, state_bw)
