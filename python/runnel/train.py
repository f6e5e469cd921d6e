"""tf.train: optimizers, learning-rate schedules, the global step, and writing graphs."""
from runnel.framework.importer import write_graph
from runnel.training.learning_rate_decay import exponential_decay, piecewise_constant
from runnel.training.optimizer import (AdagradOptimizer, AdamOptimizer, GradientDescentOptimizer,
                                       MomentumOptimizer, Optimizer, RMSPropOptimizer,
                                       get_global_step, get_or_create_global_step)
from runnel.training.saver import Saver, checkpoint_exists, latest_checkpoint
