"""tf.io: reading and writing graphs."""
from runnel.framework.importer import write_graph
