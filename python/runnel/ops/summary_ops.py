"""tf.summary's ops: scalar, histogram, image, merge, merge_all. Each returns a string
tensor holding a serialized Summary, which tf.summary.FileWriter writes for TensorBoard
(training/summary_io.py); the ops join the graph's SUMMARIES collection."""
import contextlib
import re

from runnel.framework import ops
from runnel.framework.api_export import tf_export
from runnel.ops import gen_ops
from runnel.ops.variables import GraphKeys
from runnel.proto import event_pb2, summary_pb2

# TensorFlow's messages, field for field (TensorBoard reads them).
Summary = summary_pb2.Summary
for _name, _message in (("Summary", summary_pb2.Summary),
                        ("SummaryMetadata", summary_pb2.SummaryMetadata),
                        ("HistogramProto", summary_pb2.HistogramProto),
                        ("Event", event_pb2.Event), ("SessionLog", event_pb2.SessionLog),
                        ("TaggedRunMetadata", event_pb2.TaggedRunMetadata)):
    tf_export(_name, f"summary.{_name}")(_message)

_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")


def _clean_tag(name):
    """TensorFlow's rule: characters outside [-/\\w.] become '_', leading '/' go."""
    if name is None:
        return None
    return _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")


@contextlib.contextmanager
def _summary_scope(name, family, values):
    """A name scope named for the summary, as TensorFlow's: yields (tag, scope), the tag
    being the scope's name without its '/' (under `family`), the scope the op's name."""
    name, family = _clean_tag(name), _clean_tag(family)
    with ops.name_scope(name if family is None else f"{family}/{name}", values=values) as scope:
        tag = scope.rstrip("/")
        yield (tag if family is None else f"{family}/{tag}"), scope


def _collect(op, collections):
    for key in (collections if collections is not None else [GraphKeys.SUMMARIES]):
        ops.add_to_collection(key, op)
    return op


@tf_export("summary.scalar")
def scalar(name, tensor, collections=None, family=None):
    """A summary of one scalar, tagged `name` (within the name scope, under `family`)."""
    tensor = ops.convert_to_tensor(tensor)
    with _summary_scope(name, family, [tensor]) as (tag, scope):
        return _collect(gen_ops.scalar_summary(tag, tensor, name=scope), collections)


@tf_export("summary.histogram")
def histogram(name, values, collections=None, family=None):
    """A summary of the histogram of `values` (any shape; each value must be finite)."""
    values = ops.convert_to_tensor(values)
    with _summary_scope(name, family, [values]) as (tag, scope):
        return _collect(gen_ops.histogram_summary(tag, values, name=scope), collections)


@tf_export("summary.image")
def image(name, tensor, max_outputs=3, collections=None, family=None):
    """A summary of up to `max_outputs` images of `tensor` [batch, height, width, 1/3/4]
    (uint8 as is; floats scaled into 0-255 per image), tagged `name/image/i`."""
    tensor = ops.convert_to_tensor(tensor)
    with _summary_scope(name, family, [tensor]) as (tag, scope):
        return _collect(gen_ops.image_summary(tag, tensor, max_images=max_outputs, name=scope),
                        collections)


@tf_export("summary.merge")
def merge(inputs, collections=None, name=None):
    """One summary holding the values of every summary in `inputs`."""
    summary = gen_ops.merge_summary(list(inputs), name=name)
    for key in collections or []:
        ops.add_to_collection(key, summary)
    return summary


@tf_export("summary.merge_all")
def merge_all(key=GraphKeys.SUMMARIES, scope=None, name=None):
    """merge() of the summaries in collection `key` (within `scope`), or None if none."""
    summaries = ops.get_collection(key, scope=scope)
    return merge(summaries, name=name) if summaries else None
