"""tf.compat.v1: Runnel's API is the TensorFlow 1.x API, so v1 is Runnel itself."""
import sys as _sys

v1 = _sys.modules["runnel"]
