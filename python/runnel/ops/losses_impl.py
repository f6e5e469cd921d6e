"""tf.losses: scalar losses, weighted and averaged over the non-zero weights
(Reduction.SUM_BY_NONZERO_WEIGHTS, TensorFlow's default), added to the LOSSES collection."""
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework.api_export import tf_export
from runnel.ops import array_ops
from runnel.ops import gen_ops
from runnel.ops import math_ops
from runnel.ops import nn_impl
from runnel.ops.variables import GraphKeys


@tf_export("losses.Reduction")
class Reduction:
    NONE = "none"
    SUM = "weighted_sum"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"


@tf_export("losses.compute_weighted_loss")
def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    losses = ops.convert_to_tensor(losses)
    with ops.name_scope(scope, "weighted_loss"):
        weights = ops.convert_to_tensor(weights, dtype=losses.dtype)
        weighted = losses * weights
        if reduction == Reduction.NONE:
            loss = weighted
        else:
            total = math_ops.reduce_sum(weighted)
            if reduction == Reduction.SUM:
                loss = total
            else:
                ones = array_ops.ones_like(losses)
                if reduction == Reduction.MEAN:
                    count = math_ops.reduce_sum(ones * weights)
                elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                    count = math_ops.reduce_sum(ones)
                else:
                    nonzero = array_ops.cast(math_ops.not_equal(weights, 0), losses.dtype)
                    count = math_ops.reduce_sum(ones * nonzero)
                loss = math_ops.div_no_nan(total, count)
        if loss_collection:
            ops.add_to_collection(loss_collection, loss)
        return loss


@tf_export("losses.mean_squared_error")
def mean_squared_error(labels, predictions, weights=1.0, scope=None,
                       loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    predictions = ops.convert_to_tensor(predictions)
    labels = array_ops.cast(labels, predictions.dtype)
    return compute_weighted_loss(math_ops.squared_difference(predictions, labels), weights,
                                 scope or "mean_squared_error", loss_collection, reduction)


@tf_export("losses.absolute_difference")
def absolute_difference(labels, predictions, weights=1.0, scope=None,
                        loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    predictions = ops.convert_to_tensor(predictions)
    labels = array_ops.cast(labels, predictions.dtype)
    return compute_weighted_loss(math_ops.abs(predictions - labels), weights,
                                 scope or "absolute_difference", loss_collection, reduction)


@tf_export("losses.log_loss")
def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None,
             loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    predictions = ops.convert_to_tensor(predictions)
    labels = array_ops.cast(labels, predictions.dtype)
    losses = -labels * math_ops.log(predictions + epsilon) - \
        (1 - labels) * math_ops.log(1 - predictions + epsilon)
    return compute_weighted_loss(losses, weights, scope or "log_loss", loss_collection, reduction)


@tf_export("losses.softmax_cross_entropy")
def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=GraphKeys.LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    logits = ops.convert_to_tensor(logits)
    labels = array_ops.cast(onehot_labels, logits.dtype)
    if label_smoothing:
        classes = array_ops.cast(array_ops.shape(labels)[-1], logits.dtype)
        labels = labels * (1 - label_smoothing) + label_smoothing / classes
    losses = nn_impl.softmax_cross_entropy_with_logits_v2(
        labels=gen_ops.stop_gradient(labels), logits=logits)
    return compute_weighted_loss(losses, weights, scope or "softmax_cross_entropy_loss",
                                 loss_collection, reduction)


@tf_export("losses.sparse_softmax_cross_entropy")
def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None,
                                 loss_collection=GraphKeys.LOSSES,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    losses = nn_impl.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return compute_weighted_loss(losses, weights, scope or "sparse_softmax_cross_entropy_loss",
                                 loss_collection, reduction)


@tf_export("losses.get_losses")
def get_losses(scope=None, loss_collection=GraphKeys.LOSSES):
    return ops.get_collection(loss_collection, scope)


@tf_export("losses.get_regularization_losses")
def get_regularization_losses(scope=None):
    return ops.get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


@tf_export("losses.get_total_loss")
def get_total_loss(add_regularization_losses=True, name="total_loss"):
    losses = get_losses()
    if add_regularization_losses:
        losses += get_regularization_losses()
    return math_ops.add_n(losses, name=name)
