"""tf.nn functions."""
from runnel.framework import ops
from runnel.ops import gen_ops
from runnel.ops import math_ops

relu = gen_ops.relu
relu6 = gen_ops.relu6
elu = gen_ops.elu
selu = gen_ops.selu
softplus = gen_ops.softplus
softsign = gen_ops.softsign
sigmoid = math_ops.sigmoid
tanh = math_ops.tanh


def leaky_relu(features, alpha=0.2, name=None):
    return gen_ops.leaky_relu(features, alpha=alpha, name=name)


def bias_add(value, bias, data_format=None, name=None):
    return gen_ops.bias_add(value, bias, data_format=data_format or "NHWC", name=name)


def _over_axis(op_fn):
    def fn(logits, axis=None, name=None, dim=None):
        axis = dim if axis is None else axis
        logits = ops.convert_to_tensor(logits)
        rank = logits.shape.ndims
        if axis is None or axis == -1 or (rank is not None and axis == rank - 1):
            return op_fn(logits, name=name)
        if rank is None:
            raise ValueError("softmax over a non-last axis needs a known rank")
        from runnel.ops import array_ops
        axis %= rank
        perm = list(range(rank))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        moved = op_fn(array_ops.transpose(logits, perm))
        return array_ops.transpose(moved, perm, name=name)
    return fn


softmax = _over_axis(gen_ops.softmax)
log_softmax = _over_axis(gen_ops.log_softmax)


def xw_plus_b(x, weights, biases, name=None):
    return bias_add(math_ops.matmul(x, weights), biases, name=name)
