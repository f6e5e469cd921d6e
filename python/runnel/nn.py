"""tf.nn: neural-network functions."""
from runnel.ops.nn_ops import (avg_pool, bias_add, conv2d, conv2d_transpose, depth_to_space,
                               depthwise_conv2d, depthwise_conv2d_native, local_response_normalization,
                               lrn, space_to_depth, elu, leaky_relu, log_softmax, max_pool,
                               relu, relu6, selu, sigmoid, softmax, softplus, softsign, tanh,
                               xw_plus_b)
from runnel.ops.nn_impl import (batch_normalization, dropout, fused_batch_norm, l2_loss,
                               moments, l2_normalize, sigmoid_cross_entropy_with_logits,
                               softmax_cross_entropy_with_logits,
                               softmax_cross_entropy_with_logits_v2,
                               sparse_softmax_cross_entropy_with_logits)
