"""Losses and regularization in tf.nn: cross-entropies (stable for large logits), l2_loss,
l2_normalize, dropout."""
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework.api_export import tf_export
from runnel.ops import array_ops
from runnel.ops import gen_ops
from runnel.ops import math_ops
from runnel.ops import random_ops


def _flatten_to_2d(logits, labels):
    """Cross-entropy ops take [batch, classes]: move `dim` last and flatten the rest."""
    shape = array_ops.shape(logits)
    classes = array_ops.strided_slice(shape, [-1], [0], [1], end_mask=1)
    flat = lambda t: gen_ops.reshape(t, array_ops.concat([[-1], classes], 0))  # noqa: E731
    return flat(logits), flat(labels), array_ops.strided_slice(shape, [0], [-1], [1])


@tf_export("nn.softmax_cross_entropy_with_logits_v2")
def softmax_cross_entropy_with_logits_v2(_sentinel=None, labels=None, logits=None, axis=-1,
                                         name=None, dim=None):
    """-sum(labels * log_softmax(logits)) over the class dim, per example."""
    if _sentinel is not None:
        raise ValueError("call softmax_cross_entropy_with_logits with named arguments")
    logits = ops.convert_to_tensor(logits)
    labels = ops.convert_to_tensor(labels, dtype=logits.dtype)
    axis = dim if dim is not None else axis
    rank = logits.shape.ndims
    if rank is not None and axis not in (-1, rank - 1):
        perm = list(range(rank))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        logits, labels = array_ops.transpose(logits, perm), array_ops.transpose(labels, perm)
    if rank == 2:
        loss, _ = gen_ops.softmax_cross_entropy_with_logits(logits, labels, name=name)
        return loss
    flat_logits, flat_labels, batch_shape = _flatten_to_2d(logits, labels)
    loss, _ = gen_ops.softmax_cross_entropy_with_logits(flat_logits, flat_labels)
    return gen_ops.reshape(loss, batch_shape, name=name)


@tf_export("nn.softmax_cross_entropy_with_logits")
def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1,
                                      name=None, axis=None):
    """As the _v2 form, but no gradient flows into labels (TensorFlow 1.x behaviour)."""
    labels = gen_ops.stop_gradient(labels) if isinstance(labels, ops.Tensor) else labels
    return softmax_cross_entropy_with_logits_v2(_sentinel, labels, logits,
                                                axis if axis is not None else dim, name)


@tf_export("nn.sparse_softmax_cross_entropy_with_logits")
def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                             name=None):
    """-log_softmax(logits)[label] per example; labels are class indices."""
    if _sentinel is not None:
        raise ValueError("call sparse_softmax_cross_entropy_with_logits with named arguments")
    logits = ops.convert_to_tensor(logits)
    labels = ops.convert_to_tensor(labels)
    if logits.shape.ndims == 2:
        loss, _ = gen_ops.sparse_softmax_cross_entropy_with_logits(logits, labels, name=name)
        return loss
    classes = array_ops.strided_slice(array_ops.shape(logits), [-1], [0], [1], end_mask=1)
    flat = gen_ops.reshape(logits, array_ops.concat([[-1], classes], 0))
    loss, _ = gen_ops.sparse_softmax_cross_entropy_with_logits(flat, gen_ops.reshape(labels, [-1]))
    return gen_ops.reshape(loss, array_ops.shape(labels), name=name)


@tf_export("nn.sigmoid_cross_entropy_with_logits")
def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """max(x, 0) - x * z + log(1 + exp(-|x|)): the logistic loss without overflow."""
    logits = ops.convert_to_tensor(logits)
    labels = ops.convert_to_tensor(labels, dtype=logits.dtype)
    with ops.name_scope(name, "logistic_loss"):
        return (gen_ops.relu(logits) - logits * labels +
                math_ops.log1p(math_ops.exp(-math_ops.abs(logits))))


@tf_export("nn.l2_loss")
def l2_loss(t, name=None):
    return gen_ops.l2_loss(t, name=name)


@tf_export("nn.l2_normalize", "math.l2_normalize")
def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    axis = dim if axis is None else axis
    x = ops.convert_to_tensor(x)
    with ops.name_scope(name, "l2_normalize"):
        square_sum = math_ops.reduce_sum(math_ops.square(x), axis, keepdims=True)
        return x * math_ops.rsqrt(math_ops.maximum(square_sum,
                                                   ops.convert_to_tensor(epsilon, x.dtype)))


@tf_export("nn.dropout")
def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Zeros each element with probability `rate` (= 1 - keep_prob) and scales the rest by
    1 / keep_prob, so the expected value is unchanged."""
    if (keep_prob is None) == (rate is None):
        raise ValueError("pass exactly one of keep_prob and rate")
    x = ops.convert_to_tensor(x)
    if rate is not None:
        keep_prob = 1 - rate
    if isinstance(keep_prob, (int, float)):
        if not 0 < keep_prob <= 1:
            raise ValueError(f"keep_prob must be in (0, 1], got {keep_prob}")
        if keep_prob == 1:
            return x
    with ops.name_scope(name, "dropout"):
        keep = ops.convert_to_tensor(keep_prob, dtype=x.dtype)
        shape = noise_shape if noise_shape is not None else array_ops.shape(x)
        mask = math_ops.floor(keep + random_ops.random_uniform(shape, dtype=x.dtype, seed=seed))
        return x / keep * mask


@tf_export("nn.moments")
def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """(mean, variance) of x over `axes`; the variance is the biased one (divided by n)."""
    keep = bool(keepdims if keepdims is not None else keep_dims)
    with ops.name_scope(name, "moments", [x, axes]):
        x = ops.convert_to_tensor(x)
        mean = math_ops.reduce_mean(x, axes, keepdims=True, name="mean")
        variance = math_ops.reduce_mean(
            math_ops.squared_difference(x, gen_ops.stop_gradient(mean)), axes, keepdims=True,
            name="variance")
        if not keep:
            mean = array_ops.squeeze(mean, axes)
            variance = array_ops.squeeze(variance, axes)
        return mean, variance


@tf_export("nn.batch_normalization")
def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """scale * (x - mean) / sqrt(variance + epsilon) + offset, offset and scale optional."""
    with ops.name_scope(name, "batchnorm", [x, mean, variance, scale, offset]):
        x = ops.convert_to_tensor(x)
        inv = math_ops.rsqrt(variance + variance_epsilon)
        if scale is not None:
            inv = inv * scale
        shift = offset - mean * inv if offset is not None else -mean * inv
        return x * inv + shift


@tf_export("nn.fused_batch_norm")
def fused_batch_norm(x, scale, offset=None, mean=None, variance=None, epsilon=0.001,
                     data_format="NHWC", is_training=True, name=None,
                     exponential_avg_factor=1.0):
    """(y, batch_mean, batch_variance) from one FusedBatchNormV3 op, as in TensorFlow:
    when training the batch's statistics normalize (the returned variance is
    Bessel-corrected); otherwise `mean` and `variance` do."""
    x = ops.convert_to_tensor(x)
    scale = ops.convert_to_tensor(scale)
    dtype = scale.dtype
    empty = lambda: ops.convert_to_tensor([], dtype=dtype)  # noqa: E731
    if offset is None:
        offset = array_ops.zeros_like(scale)
    if (mean is None or variance is None) and not is_training:
        raise ValueError("fused_batch_norm needs mean and variance when not training")
    outputs = gen_ops.fused_batch_norm_v3(
        x, scale, offset, empty() if mean is None else mean,
        empty() if variance is None else variance, epsilon=epsilon,
        exponential_avg_factor=exponential_avg_factor, data_format=data_format,
        is_training=is_training, name=name)
    return outputs[0], outputs[1], outputs[2]
