"""tf.nn: neural-network functions."""
from runnel.ops.nn_ops import (bias_add, elu, leaky_relu, log_softmax, relu, relu6, selu,
                               sigmoid, softmax, softplus, softsign, tanh, xw_plus_b)
