"""Keras losses: each maps (y_true, y_pred) to one value per example (the mean over the last
axis), which compile averages over the batch. A probability output that comes straight from
a Sigmoid or Softmax op is scored from the logits under it, as Keras does, which is both
exact and faster."""
from runnel.framework import dtypes
from runnel.ops import array_ops
from runnel.ops import gen_ops
from runnel.ops import math_ops
from runnel.ops import nn_impl
from runnel.keras import backend
from runnel.keras._names import lookup, name_of


def _logits_under(y_pred, op_type):
    """The input of y_pred's op when that op is `op_type`, else None."""
    return y_pred.op.inputs[0] if y_pred.op.type == op_type else None


def _clipped(p):
    eps = backend.epsilon()
    return math_ops.minimum(math_ops.maximum(p, eps), 1.0 - eps)


def mean_squared_error(y_true, y_pred):
    return math_ops.reduce_mean(math_ops.square(y_pred - _like(y_true, y_pred)), axis=-1)


def mean_absolute_error(y_true, y_pred):
    return math_ops.reduce_mean(math_ops.abs(y_pred - _like(y_true, y_pred)), axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    y_true = _like(y_true, y_pred)
    logits = y_pred if from_logits else _logits_under(y_pred, "Sigmoid")
    if logits is not None:
        per_unit = nn_impl.sigmoid_cross_entropy_with_logits(labels=y_true, logits=logits)
    else:
        p = _clipped(y_pred)
        per_unit = -(y_true * math_ops.log(p) + (1.0 - y_true) * math_ops.log(1.0 - p))
    return math_ops.reduce_mean(per_unit, axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    y_true = _like(y_true, y_pred)
    logits = y_pred if from_logits else _logits_under(y_pred, "Softmax")
    if logits is not None:
        return nn_impl.softmax_cross_entropy_with_logits_v2(labels=y_true, logits=logits)
    p = _clipped(y_pred / math_ops.reduce_sum(y_pred, axis=-1, keepdims=True))
    return -math_ops.reduce_sum(y_true * math_ops.log(p), axis=-1)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    labels = _class_ids(y_true, y_pred)
    logits = y_pred if from_logits else _logits_under(y_pred, "Softmax")
    if logits is not None:
        return nn_impl.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    classes = array_ops.shape(y_pred)[-1]
    onehot = array_ops.one_hot(labels, classes, dtype=y_pred.dtype)
    return -math_ops.reduce_sum(onehot * math_ops.log(_clipped(y_pred)), axis=-1)


def _like(y_true, y_pred):
    return array_ops.cast(y_true, y_pred.dtype) if y_true.dtype != y_pred.dtype else y_true


def _class_ids(y_true, y_pred):
    """Integer labels shaped like y_pred without its last axis ([N] or [N, 1] -> [N])."""
    labels = array_ops.cast(y_true, dtypes.int64)
    return gen_ops.reshape(labels, array_ops.shape(y_pred)[:-1])


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

_LOSSES = {
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "MSE": mean_squared_error, "mean_absolute_error": mean_absolute_error,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}


def get(identifier):
    return lookup("loss function", _LOSSES, identifier)


def serialize(loss):
    return name_of(_LOSSES, loss)
