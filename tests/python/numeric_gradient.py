"""Central-difference gradients of a scalar tensor, the independent reference the
gradient tests compare tf.gradients against."""
import numpy as np

import runnel as tf


def numeric_gradient(sess, loss, feed, x, eps=1e-6):
    """d loss / d x at `feed`: x is a fed placeholder (float64 values in `feed`) or a
    variable (its value is moved and put back)."""
    variable = isinstance(x, tf.Variable)
    base = sess.run(x) if variable else feed[x]
    grad = np.zeros_like(base)
    for index in np.ndindex(*base.shape):
        values = []
        for sign in (1, -1):
            moved = base.copy()
            moved[index] += sign * eps
            if variable:
                x.load(moved, sess)
                values.append(sess.run(loss, feed))
            else:
                values.append(sess.run(loss, {**feed, x: moved}))
        grad[index] = (values[0] - values[1]) / (2 * eps)
    if variable:
        x.load(base, sess)
    return grad
