"""runnel.client.timeline: a step's RunMetadata.step_stats as a Chrome trace, as TensorFlow's
tensorflow.python.client.timeline:

    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    metadata = tf.RunMetadata()
    sess.run(train_op, feed, options=options, run_metadata=metadata)
    with open("timeline.json", "w") as f:
        f.write(Timeline(metadata.step_stats).generate_chrome_trace_format())

then open timeline.json in chrome://tracing or ui.perfetto.dev: a process per device, an
event per op (its node in the args), overlapping ops on rows of their own."""
from runnel import _runnel


class Timeline:
    def __init__(self, step_stats, graph=None):
        self._step_stats = step_stats

    def generate_chrome_trace_format(self, show_dataflow=True, show_memory=False):
        """The trace as a JSON string. (Data-flow arrows and memory counters, which
        TensorFlow can add, are not drawn.)"""
        return _runnel.chrome_trace(self._step_stats.SerializeToString())
