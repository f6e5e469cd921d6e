"""Running graphs: tf.Session."""
