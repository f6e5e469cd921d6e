"""tf.math: the math functions under their tf.math names."""
from runnel.ops.math_ops import (abs, add, add_n, argmax, argmin, ceil, cumprod, cumsum, divide, equal, exp,
                                 floor, floordiv, floormod, greater, greater_equal, less,
                                 less_equal, log, log1p, logical_and, logical_not, logical_or,
                                 maximum, minimum, mod, multiply, negative, not_equal, pow,
                                 realdiv, reciprocal, reduce_all, reduce_any, reduce_max,
                                 reduce_mean, reduce_min, reduce_prod, reduce_sum, round,
                                 rsqrt, sigmoid, sign, sqrt, square, squared_difference,
                                 subtract, tanh, truediv)
