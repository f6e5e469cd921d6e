"""tf.initializers and tf.keras-style names for the initializers."""
from runnel.ops.init_ops import (Constant as constant, Ones as ones, RandomNormal as random_normal,
                                 RandomUniform as random_uniform, TruncatedNormal as truncated_normal,
                                 VarianceScaling as variance_scaling, Zeros as zeros,
                                 glorot_normal_initializer as glorot_normal,
                                 glorot_uniform_initializer as glorot_uniform, he_normal,
                                 he_uniform)
from runnel.ops.variables import global_variables_initializer as global_variables
from runnel.ops.variables import variables_initializer as variables
