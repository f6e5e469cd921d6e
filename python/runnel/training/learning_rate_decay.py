"""Learning-rate schedules of the global step."""
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework.api_export import tf_export
from runnel.ops import array_ops
from runnel.ops import gen_ops
from runnel.ops import math_ops


@tf_export("train.exponential_decay")
def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """learning_rate * decay_rate ^ (global_step / decay_steps), floored if staircase."""
    if global_step is None:
        raise ValueError("exponential_decay needs a global_step")
    with ops.name_scope(name, "ExponentialDecay"):
        lr = ops.convert_to_tensor(learning_rate, dtype=dtypes.float32)
        step = array_ops.cast(global_step, dtypes.float32)
        p = step / ops.convert_to_tensor(decay_steps, dtype=dtypes.float32)
        if staircase:
            p = math_ops.floor(p)
        return lr * math_ops.pow(ops.convert_to_tensor(decay_rate, dtype=dtypes.float32), p)


@tf_export("train.piecewise_constant")
def piecewise_constant(x, boundaries, values, name=None):
    """values[0] while x <= boundaries[0], values[1] while x <= boundaries[1], ...,
    values[-1] after the last boundary."""
    if len(values) != len(boundaries) + 1:
        raise ValueError("piecewise_constant needs one more value than boundaries")
    with ops.name_scope(name, "PiecewiseConstant"):
        x = ops.convert_to_tensor(x)
        values = [ops.convert_to_tensor(v) for v in values]
        result = values[-1]
        for boundary, value in reversed(list(zip(boundaries, values[:-1]))):
            b = ops.convert_to_tensor(boundary, dtype=x.dtype)
            result = gen_ops.select_v2(math_ops.less_equal(x, b), value, result)
        return result
