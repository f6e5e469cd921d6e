"""tf.train: for now, write_graph (optimizers and checkpoints come with training)."""
from runnel.framework.importer import write_graph
