"""tf.nn: neural-network functions."""
from runnel.ops.nn_ops import (bias_add, elu, leaky_relu, log_softmax, relu, relu6, selu,
                               sigmoid, softmax, softplus, softsign, tanh, xw_plus_b)
from runnel.ops.nn_impl import (dropout, l2_loss, l2_normalize, sigmoid_cross_entropy_with_logits,
                               softmax_cross_entropy_with_logits,
                               softmax_cross_entropy_with_logits_v2,
                               sparse_softmax_cross_entropy_with_logits)
