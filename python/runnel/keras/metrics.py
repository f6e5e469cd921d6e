"""Keras metrics: functions of (y_true, y_pred) giving one value per example, averaged over
each epoch by fit and evaluate. 'accuracy' means the accuracy that fits the loss."""
from runnel.framework import dtypes
from runnel.ops import array_ops
from runnel.ops import math_ops
from runnel.keras import losses
from runnel.keras._names import lookup


def _equal_as_float(a, b):
    return array_ops.cast(math_ops.equal(a, b), dtypes.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    predicted = array_ops.cast(y_pred > threshold, y_pred.dtype)
    return math_ops.reduce_mean(_equal_as_float(losses._like(y_true, y_pred), predicted), axis=-1)


def categorical_accuracy(y_true, y_pred):
    return _equal_as_float(math_ops.argmax(y_true, -1), math_ops.argmax(y_pred, -1))


def sparse_categorical_accuracy(y_true, y_pred):
    return _equal_as_float(losses._class_ids(y_true, y_pred), math_ops.argmax(y_pred, -1))


mse = mean_squared_error = losses.mean_squared_error
mae = mean_absolute_error = losses.mean_absolute_error
binary_crossentropy = losses.binary_crossentropy
categorical_crossentropy = losses.categorical_crossentropy
sparse_categorical_crossentropy = losses.sparse_categorical_crossentropy

_METRICS = {
    "binary_accuracy": binary_accuracy, "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "mse": mse, "mean_squared_error": mse, "mae": mae, "mean_absolute_error": mae,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}
_ACCURACY_FOR_LOSS = {
    losses.binary_crossentropy: binary_accuracy,
    losses.sparse_categorical_crossentropy: sparse_categorical_accuracy,
}


def get(identifier, loss=None, output_shape=None):
    """(name shown in logs, metric function). 'accuracy'/'acc' pick the accuracy for `loss`
    (categorical unless the loss is binary or sparse, or the output has one unit)."""
    if identifier in ("accuracy", "acc"):
        fn = _ACCURACY_FOR_LOSS.get(loss)
        if fn is None:
            fn = binary_accuracy if output_shape and output_shape[-1] == 1 \
                else categorical_accuracy
        return identifier, fn
    valid = dict(_METRICS, accuracy=None, acc=None)
    fn = lookup("metric", valid, identifier)
    name = identifier if isinstance(identifier, str) else getattr(fn, "__name__", "metric")
    return name, fn
