"""tf.nn.rnn_cell: TensorFlow 1.x's recurrent cells. A cell maps (inputs, state) to
(output, new state) for one time step; tf.nn.dynamic_rnn runs it in a while loop and
tf.nn.static_rnn unrolls it. A cell makes its variables on its first call, in a variable
scope named as TensorFlow names it (`rnn/basic_lstm_cell/kernel`, `.../bias`), and every
later call uses the same ones, so checkpoints and frozen graphs carry TensorFlow's names."""
import collections

from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework import tensor_shape
from runnel.framework.api_export import tf_export
from runnel.ops import array_ops
from runnel.ops import control_flow_ops
from runnel.ops import gen_ops
from runnel.ops import init_ops
from runnel.ops import math_ops
from runnel.ops import nn_impl
from runnel.ops import variable_scope as vs


@tf_export("nn.rnn_cell.LSTMStateTuple")
class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """An LSTM's state: the cell state `c` and the output `h`."""
    __slots__ = ()

    @property
    def dtype(self):
        return self.c.dtype


@tf_export("nn.rnn_cell.RNNCell")
class RNNCell:
    """The base of the cells: subclasses give `state_size`, `output_size` and
    `call(inputs, state)`; `__call__` enters the cell's variable scope (made on the first
    call, reused after)."""

    _base_name = "rnn_cell"

    def __init__(self, reuse=None, name=None, dtype=None, **_):
        self._reuse = reuse
        self._name = name
        self._dtype = dtype
        self._scope = None

    @property
    def state_size(self):
        raise NotImplementedError

    @property
    def output_size(self):
        raise NotImplementedError

    def call(self, inputs, state):
        raise NotImplementedError

    def __call__(self, inputs, state, scope=None):
        if self._scope is None:
            with vs.variable_scope(scope or self._name, default_name=self._base_name,
                                   reuse=self._reuse) as s:
                self._scope = s
                return self.call(inputs, state)
        with vs.variable_scope(self._scope, reuse=True):
            return self.call(inputs, state)

    def zero_state(self, batch_size, dtype):
        """Zeros of the state's structure, each [batch_size, size]."""
        with ops.name_scope(type(self).__name__ + "ZeroState"):
            zeros = []
            for size in control_flow_ops._flatten(self.state_size):
                if isinstance(batch_size, ops.Tensor):
                    value = array_ops.zeros(array_ops.stack([batch_size, size]), dtype)
                    value.set_shape([None, size])
                else:
                    value = array_ops.zeros([batch_size, size], dtype)
                zeros.append(value)
            return control_flow_ops._pack_like(self.state_size, zeros)

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        if inputs is not None:
            batch_size = array_ops.shape(inputs)[0]
            dtype = dtype or inputs.dtype
        return self.zero_state(batch_size, dtype)


def _input_depth(inputs, cell):
    depth = tensor_shape.dimension_value(inputs.shape[-1]) if inputs.shape.ndims else None
    if depth is None:
        raise ValueError(f"{type(cell).__name__}'s inputs must have a known last dimension, "
                         f"got shape {inputs.shape}")
    return depth


def _kernel_and_bias(args, units, cell, kernel_initializer=None, bias_initializer=None):
    """The variables `kernel` [depth of args, units] and `bias` [units] of the current
    scope."""
    depth = sum(_input_depth(a, cell) for a in args)
    dtype = args[0].dtype.base_dtype
    kernel = vs.get_variable("kernel", [depth, units], dtype=dtype,
                             initializer=kernel_initializer)
    bias = vs.get_variable("bias", [units], dtype=dtype,
                           initializer=bias_initializer or init_ops.zeros_initializer())
    return kernel, bias


def _linear(args, units, cell, kernel_initializer=None, bias_initializer=None):
    """concat(args, 1) @ kernel + bias, the variables made in the current scope."""
    args = [ops.convert_to_tensor(a) for a in args]
    kernel, bias = _kernel_and_bias(args, units, cell, kernel_initializer, bias_initializer)
    joined = array_ops.concat(args, 1) if len(args) > 1 else args[0]
    return gen_ops.bias_add(math_ops.matmul(joined, kernel), bias)


# The LSTM cells run a step as one LSTMBlockCell node when they can (tanh, no cell clip,
# float32/64). Measured (tools/bench/lstm_training.py, tools/bench/README.md): training
# runs faster that way than with the step's dozen separate ops.
_USE_FUSED_LSTM = True


def _can_fuse(cell, inputs):
    return _USE_FUSED_LSTM and cell._activation is gen_ops.tanh and \
        inputs.dtype.base_dtype in (dtypes.float32, dtypes.float64) and inputs.shape.ndims == 2


def _fused_lstm(inputs, c, h, kernel, bias, forget_bias, peepholes=None):
    """(cs, h) of one LSTMBlockCell step; `peepholes` (w_i, w_f, w_o) when given."""
    use_peephole = peepholes is not None
    if not use_peephole:
        zeros = array_ops.zeros([h.shape[1].value], inputs.dtype)
        peepholes = (zeros, zeros, zeros)
    outputs = gen_ops.lstm_block_cell(inputs, c, h, kernel, *peepholes, bias,
                                      forget_bias=float(forget_bias), cell_clip=-1.0,
                                      use_peephole=use_peephole)
    return outputs[1], outputs[6]


def _activation(activation):
    return activation if activation is not None else gen_ops.tanh


class _UnitsCell(RNNCell):
    """A cell whose state and output are one [batch, num_units] tensor."""

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units


@tf_export("nn.rnn_cell.BasicRNNCell")
class BasicRNNCell(_UnitsCell):
    """h' = activation(W [x, h] + b); the output is h'."""

    _base_name = "basic_rnn_cell"

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None, **kw):
        super().__init__(reuse, name, dtype, **kw)
        self._num_units = num_units
        self._activation = _activation(activation)

    def call(self, inputs, state):
        output = self._activation(_linear([inputs, state], self._num_units, self))
        return output, output


@tf_export("nn.rnn_cell.BasicLSTMCell")
class BasicLSTMCell(RNNCell):
    """An LSTM without peepholes or projection: gates i, j, f, o from W [x, h] + b
    (one kernel), c' = c σ(f + forget_bias) + σ(i) tanh(j), h' = tanh(c') σ(o)."""

    _base_name = "basic_lstm_cell"

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None,
                 reuse=None, name=None, dtype=None, **kw):
        super().__init__(reuse, name, dtype, **kw)
        if not state_is_tuple:
            raise ValueError("state_is_tuple=False is deprecated in TensorFlow and not "
                             "supported; the state is an LSTMStateTuple(c, h)")
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._activation = _activation(activation)

    @property
    def state_size(self):
        return LSTMStateTuple(self._num_units, self._num_units)

    @property
    def output_size(self):
        return self._num_units

    def call(self, inputs, state):
        c, h = state
        if _can_fuse(self, inputs):
            kernel, bias = _kernel_and_bias([inputs, h], 4 * self._num_units, self)
            new_c, new_h = _fused_lstm(inputs, c, h, kernel, bias, self._forget_bias)
            return new_h, LSTMStateTuple(new_c, new_h)
        gates = _linear([inputs, h], 4 * self._num_units, self)
        i, j, f, o = array_ops.split(gates, 4, axis=1)
        forget = math_ops.sigmoid(f + self._forget_bias) if self._forget_bias else \
            math_ops.sigmoid(f)
        new_c = c * forget + math_ops.sigmoid(i) * self._activation(j)
        new_h = self._activation(new_c) * math_ops.sigmoid(o)
        return new_h, LSTMStateTuple(new_c, new_h)


@tf_export("nn.rnn_cell.LSTMCell")
class LSTMCell(RNNCell):
    """BasicLSTMCell's LSTM with optional peepholes (`use_peepholes`: the cell state feeds
    the gates through w_i_diag, w_f_diag, w_o_diag), `cell_clip` on c, a projection of
    the output to `num_proj` units (`projection/kernel`, clipped to `proj_clip`)."""

    _base_name = "lstm_cell"

    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None,
                 num_proj=None, proj_clip=None, num_unit_shards=None, num_proj_shards=None,
                 forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None,
                 name=None, dtype=None, **kw):
        super().__init__(reuse, name, dtype, **kw)
        if not state_is_tuple:
            raise ValueError("state_is_tuple=False is deprecated in TensorFlow and not "
                             "supported; the state is an LSTMStateTuple(c, h)")
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._forget_bias = forget_bias
        self._activation = _activation(activation)

    @property
    def state_size(self):
        return LSTMStateTuple(self._num_units, self._num_proj or self._num_units)

    @property
    def output_size(self):
        return self._num_proj or self._num_units

    def call(self, inputs, state):
        c_prev, m_prev = state
        dtype = inputs.dtype.base_dtype
        if self._cell_clip is None and self._num_proj is None and _can_fuse(self, inputs):
            kernel, bias = _kernel_and_bias([inputs, m_prev], 4 * self._num_units, self,
                                            self._initializer)
            peepholes = self._peepholes(dtype) if self._use_peepholes else None
            c, m = _fused_lstm(inputs, c_prev, m_prev, kernel, bias, self._forget_bias,
                               None if peepholes is None else
                               (peepholes["w_i_diag"], peepholes["w_f_diag"],
                                peepholes["w_o_diag"]))
            return self._project(c, m, dtype)
        gates = _linear([inputs, m_prev], 4 * self._num_units, self,
                        kernel_initializer=self._initializer)
        i, j, f, o = array_ops.split(gates, 4, axis=1)
        if self._use_peepholes:
            diag = self._peepholes(dtype)
            f = f + diag["w_f_diag"] * c_prev
            i = i + diag["w_i_diag"] * c_prev
        c = math_ops.sigmoid(f + self._forget_bias) * c_prev + \
            math_ops.sigmoid(i) * self._activation(j)
        if self._cell_clip is not None:
            c = math_ops.clip_by_value(c, -self._cell_clip, self._cell_clip)
        if self._use_peepholes:
            o = o + diag["w_o_diag"] * c
        m = math_ops.sigmoid(o) * self._activation(c)
        return self._project(c, m, dtype)

    def _peepholes(self, dtype):
        return {name: vs.get_variable(name, [self._num_units], dtype=dtype,
                                      initializer=self._initializer)
                for name in ("w_f_diag", "w_i_diag", "w_o_diag")}

    def _project(self, c, m, dtype):
        """The step's output and state from the cell state and the output before the
        projection (when num_proj)."""
        if self._num_proj is not None:
            with vs.variable_scope("projection"):
                projection = vs.get_variable("kernel", [self._num_units, self._num_proj],
                                             dtype=dtype, initializer=self._initializer)
            m = math_ops.matmul(m, projection)
            if self._proj_clip is not None:
                m = math_ops.clip_by_value(m, -self._proj_clip, self._proj_clip)
        return m, LSTMStateTuple(c, m)


@tf_export("nn.rnn_cell.GRUCell")
class GRUCell(_UnitsCell):
    """r, u = σ(W_g [x, h] + b_g) (gates/, bias starting at 1), c = activation(W_c [x, r h]
    + b_c) (candidate/), h' = u h + (1 - u) c."""

    _base_name = "gru_cell"

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None,
                 bias_initializer=None, name=None, dtype=None, **kw):
        super().__init__(reuse, name, dtype, **kw)
        self._num_units = num_units
        self._activation = _activation(activation)
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    def call(self, inputs, state):
        with vs.variable_scope("gates"):
            gates = math_ops.sigmoid(_linear(
                [inputs, state], 2 * self._num_units, self,
                kernel_initializer=self._kernel_initializer,
                bias_initializer=self._bias_initializer or
                init_ops.constant_initializer(1.0)))
        r, u = array_ops.split(gates, 2, axis=1)
        with vs.variable_scope("candidate"):
            candidate = self._activation(_linear(
                [inputs, r * state], self._num_units, self,
                kernel_initializer=self._kernel_initializer,
                bias_initializer=self._bias_initializer))
        new_h = u * state + (1 - u) * candidate
        return new_h, new_h


@tf_export("nn.rnn_cell.MultiRNNCell")
class MultiRNNCell(RNNCell):
    """Cells stacked: each one's output is the next one's input; the state is the tuple of
    their states (variables under `multi_rnn_cell/cell_<k>/`)."""

    _base_name = "multi_rnn_cell"

    def __init__(self, cells, state_is_tuple=True):
        super().__init__()
        if not cells:
            raise ValueError("MultiRNNCell needs at least one cell")
        if not state_is_tuple:
            raise ValueError("state_is_tuple=False is deprecated in TensorFlow and not "
                             "supported; the state is a tuple of the cells' states")
        self._cells = list(cells)

    @property
    def state_size(self):
        return tuple(cell.state_size for cell in self._cells)

    @property
    def output_size(self):
        return self._cells[-1].output_size

    def call(self, inputs, state):
        new_states = []
        for k, cell in enumerate(self._cells):
            with vs.variable_scope(f"cell_{k}"):
                inputs, new_state = cell(inputs, state[k])
            new_states.append(new_state)
        return inputs, tuple(new_states)


@tf_export("nn.rnn_cell.DropoutWrapper")
class DropoutWrapper(RNNCell):
    """`cell` with dropout on its inputs, outputs and state (keep probabilities, floats or
    tensors), a new mask each step."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent=False, input_size=None, dtype=None, seed=None, **_):
        super().__init__()
        if variational_recurrent:
            raise ValueError("DropoutWrapper(variational_recurrent=True) is not supported yet")
        self._cell = cell
        self._keep = (input_keep_prob, output_keep_prob, state_keep_prob)
        self._seed = seed

    @property
    def state_size(self):
        return self._cell.state_size

    @property
    def output_size(self):
        return self._cell.output_size

    def zero_state(self, batch_size, dtype):
        return self._cell.zero_state(batch_size, dtype)

    def _dropout(self, value, keep):
        if isinstance(keep, (int, float)) and keep == 1:
            return value
        return nn_impl.dropout(value, keep_prob=keep, seed=self._seed)

    def __call__(self, inputs, state, scope=None):
        input_keep, output_keep, state_keep = self._keep
        output, new_state = self._cell(self._dropout(inputs, input_keep), state, scope)
        return self._dropout(output, output_keep), self._dropout_state(new_state, state_keep)

    def _dropout_state(self, state, keep):
        """Dropout on the state, except an LSTM's cell state c (as TensorFlow's default)."""
        if isinstance(state, LSTMStateTuple):
            return LSTMStateTuple(state.c, self._dropout(state.h, keep))
        if isinstance(state, tuple):
            return tuple(self._dropout_state(s, keep) for s in state)
        return self._dropout(state, keep)
