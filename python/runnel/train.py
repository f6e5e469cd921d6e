"""tf.train: optimizers, the global step, and writing graphs."""
from runnel.framework.importer import write_graph
from runnel.training.optimizer import (GradientDescentOptimizer, Optimizer, get_global_step,
                                       get_or_create_global_step)
