"""tf.config: the process's settings for sessions made from now on (`threading`)."""
from runnel.config import threading
