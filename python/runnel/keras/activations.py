"""Activation functions by Keras name."""
from runnel.ops import math_ops
from runnel.ops import nn_ops
from runnel import nn
from runnel.keras._names import lookup, name_of


def linear(x):
    return x


def relu(x, alpha=0.0, max_value=None):
    if alpha:
        return nn_ops.leaky_relu(x, alpha)
    return nn.relu6(x) if max_value == 6 else nn.relu(x)


def leaky_relu(x, alpha=0.3):
    return nn_ops.leaky_relu(x, alpha)


def hard_sigmoid(x):
    return math_ops.minimum(math_ops.maximum(x * 0.2 + 0.5, 0.0), 1.0)


def softmax(x, axis=-1):
    return nn.softmax(x, axis=axis)


def swish(x):
    return x * math_ops.sigmoid(x)


relu6, elu, selu, tanh, sigmoid = nn.relu6, nn.elu, nn.selu, math_ops.tanh, math_ops.sigmoid
softplus, softsign, exponential = nn.softplus, nn.softsign, math_ops.exp

_ACTIVATIONS = {
    "linear": linear, "relu": relu, "relu6": relu6, "elu": elu, "selu": selu,
    "leaky_relu": leaky_relu, "tanh": tanh, "sigmoid": sigmoid, "hard_sigmoid": hard_sigmoid,
    "softmax": softmax, "softplus": softplus, "softsign": softsign, "exponential": exponential,
    "swish": swish,
}


def get(identifier):
    """The function for a name (None means linear), or `identifier` if it is callable."""
    if identifier is None:
        return linear
    return lookup("activation function", _ACTIVATIONS, identifier)


def serialize(activation):
    return name_of(_ACTIVATIONS, activation)


