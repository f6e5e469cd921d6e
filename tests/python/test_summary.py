"""tf.summary ops and FileWriter: the Summary each op emits against numpy (scalars, the
histogram's statistics and buckets, images decoded back with PIL), event files read back
record by record with their checksums, and Keras's TensorBoard callback. TensorBoard's own
reader checks the same files in test_tensorflow_parity.py."""
import glob
import io
import os

import numpy as np
import pytest

import runnel as tf
from runnel import keras


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def run(summary, feed=None):
    with tf.Session() as sess:
        return tf.Summary.FromString(sess.run(summary, feed))


def tensorflow_bucket_limits():
    """TensorFlow's default histogram buckets, rebuilt from their definition."""
    positive = []
    v = 1e-12
    while v < 1e20:
        positive.append(v)
        v *= 1.1
    positive.append(np.finfo(np.float64).max)
    return np.array([-p for p in reversed(positive)] + [0.0] + positive)


def test_scalar_summaries_take_their_name_scope_as_tag_and_join_merge_all():
    x = tf.placeholder(tf.float32, [])
    with tf.name_scope("train"):
        tf.summary.scalar("loss", x * 2)
        tf.summary.scalar("loss", x + 1)  # a second 'loss' in one scope: loss_1
    tf.summary.scalar("rate", tf.constant(7, tf.int32), family="opt")
    merged = tf.summary.merge_all()
    summary = run(merged, {x: 1.5})
    assert {v.tag: v.simple_value for v in summary.value} == {
        "train/loss": 3.0, "train/loss_1": 2.5, "opt/opt/rate": 7.0}
    assert len(tf.get_collection(tf.GraphKeys.SUMMARIES)) == 3


def test_merge_all_is_none_without_summaries_and_merge_refuses_a_tag_twice():
    assert tf.summary.merge_all() is None
    a = tf.summary.scalar("a", 1.0, collections=[])
    same = tf.summary.merge([a, a])
    with pytest.raises(tf.errors.InvalidArgumentError, match="the tag 'a' is in more than one"):
        run(same)


def test_histogram_matches_numpy_statistics_and_tensorflows_buckets():
    values = np.random.default_rng(0).normal(size=(50, 20)) * np.array([1e-3, 1, 1e3, 0] * 5)
    summary = run(tf.summary.histogram("w", tf.constant(values)))
    [value] = summary.value
    histo = value.histo
    assert value.tag == "w" and histo.num == values.size
    assert histo.min == values.min() and histo.max == values.max()
    np.testing.assert_allclose([histo.sum, histo.sum_squares],
                               [values.sum(), (values ** 2).sum()], rtol=1e-12)
    limits = tensorflow_bucket_limits()
    counts = np.bincount(np.searchsorted(limits, values.ravel(), side="right"),
                         minlength=len(limits))
    # Written: every non-empty bucket, and each run of empty ones as one ending where it ends.
    expected_limits, expected_counts, i = [], [], 0
    while i < len(limits):
        end = i
        if counts[i] == 0:
            while end + 1 < len(limits) and counts[end + 1] == 0:
                end += 1
        expected_limits.append(limits[end])
        expected_counts.append(counts[i] if counts[i] else 0)
        i = end + 1
    np.testing.assert_array_equal(histo.bucket_limit, expected_limits)
    np.testing.assert_array_equal(histo.bucket, expected_counts)


def test_a_histogram_of_a_value_that_is_not_finite_is_an_error_naming_the_tag():
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="value 1 of the histogram 'h' is nan"):
        run(tf.summary.histogram("h", tf.constant([1.0, np.nan])))


def decode(image):
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(image.encoded_image_string)))


def test_image_summaries_scale_floats_per_image_and_paint_nonfinite_pixels():
    pytest.importorskip("PIL", reason="Pillow (Debian's python3-pil) decodes the PNGs")
    rng = np.random.default_rng(1)
    positive = rng.uniform(0, 3, size=(2, 4, 5, 3)).astype(np.float32)
    signed = rng.normal(size=(1, 4, 5, 3)).astype(np.float32)
    signed[0, 1, 2, 0] = np.inf
    summary = run(tf.summary.image("img", tf.constant(np.concatenate([positive, signed]))))
    assert [v.tag for v in summary.value] == ["img/image/0", "img/image/1", "img/image/2"]
    for n in range(2):  # in float32 arithmetic, as the op computes
        got = summary.value[n].image
        assert (got.height, got.width, got.colorspace) == (4, 5, 3)
        scale = np.float32(255) / positive[n].max()
        np.testing.assert_array_equal(decode(got), (positive[n] * scale).astype(np.uint8))
    finite = np.isfinite(signed[0]).all(-1)
    scale = np.float32(127) / np.abs(signed[0][finite]).max()
    expected = np.clip(signed[0] * scale + np.float32(128), 0, 255).astype(np.uint8)
    expected[1, 2] = [255, 0, 0]  # the default bad_color
    np.testing.assert_array_equal(decode(summary.value[2].image), expected)


def test_image_summary_keeps_uint8_and_tags_one_image_without_an_index():
    pytest.importorskip("PIL", reason="Pillow (Debian's python3-pil) decodes the PNGs")
    gray = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4, 1) * 10
    summary = run(tf.summary.image("g", tf.constant(gray), max_outputs=1))
    [value] = summary.value
    assert value.tag == "g/image" and value.image.colorspace == 1
    np.testing.assert_array_equal(decode(value.image), gray[0, :, :, 0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="input 1 must have rank 4"):
        tf.summary.image("bad", tf.zeros([3, 4, 1]))


def test_file_writer_writes_records_that_read_back_in_order(tmp_path):
    x = tf.placeholder(tf.float32, [])
    merged = tf.summary.merge([tf.summary.scalar("x", x), tf.summary.histogram("h", tf.stack([x, x]))])
    with tf.Session() as sess, tf.summary.FileWriter(str(tmp_path / "run"), sess.graph) as w:
        for step in range(3):
            w.add_summary(sess.run(merged, {x: step * 0.5}), global_step=step)
        w.add_session_log(tf.SessionLog(status=tf.SessionLog.STOP), global_step=3)
    [path] = glob.glob(str(tmp_path / "run" / "events.out.tfevents.*"))
    events = list(tf.train.summary_iterator(path))
    assert events[0].file_version == "brain.Event:2"
    graph = tf.GraphDef.FromString(events[1].graph_def)
    assert {"Placeholder", "ScalarSummary", "MergeSummary"} <= {n.op for n in graph.node}
    scalars = [(e.step, v.simple_value) for e in events[2:5] for v in e.summary.value
               if v.tag == "x"]
    assert scalars == [(0, 0.0), (1, 0.5), (2, 1.0)]
    assert events[3].summary.value[1].histo.num == 2
    assert events[5].session_log.status == tf.SessionLog.STOP and events[5].step == 3


def test_two_writers_in_one_directory_get_their_own_files(tmp_path):
    first, second = tf.summary.FileWriter(str(tmp_path)), tf.summary.FileWriter(str(tmp_path))
    first.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=1)]))
    second.add_summary(tf.Summary(value=[tf.Summary.Value(tag="b", simple_value=2)]))
    first.close()
    second.close()
    files = sorted(glob.glob(str(tmp_path / "events.out.tfevents.*")))
    tags = {v.tag for f in files for e in tf.train.summary_iterator(f) for v in e.summary.value}
    assert len(files) == 2 and tags == {"a", "b"}


def test_a_damaged_event_file_is_an_error_naming_the_file_and_record(tmp_path):
    with tf.summary.FileWriter(str(tmp_path)) as writer:
        writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=1)]))
    [path] = glob.glob(str(tmp_path / "events.*"))
    data = bytearray(open(path, "rb").read())
    first = 16 + int.from_bytes(data[:8], "little")  # the second record starts here
    damaged = bytes(data[:first + 14]) + bytes([data[first + 14] ^ 1]) + bytes(data[first + 15:])
    open(path, "wb").write(damaged)
    with pytest.raises(tf.errors.DataLossError,
                       match=f"{path}: the record at byte {first} has bytes whose checksum"):
        list(tf.train.summary_iterator(path))
    open(path, "wb").write(bytes(data[:-3]))
    with pytest.raises(tf.errors.DataLossError, match="is cut off"):
        list(tf.train.summary_iterator(path))


def test_keras_tensorboard_callback_logs_epochs_batches_graph_and_histograms(tmp_path):
    keras.backend.clear_session()
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x.sum(1) > 0).astype(np.int64)
    model = keras.Sequential([keras.layers.Dense(8, activation="relu", input_shape=(4,)),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    board = keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1, update_freq=2)
    history = model.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, verbose=0,
                        callbacks=[board])

    def read(name):
        [path] = glob.glob(str(tmp_path / name / "events.out.tfevents.*"))
        return list(tf.train.summary_iterator(path))

    def scalars(events, tag):
        return [(e.step, v.simple_value) for e in events for v in e.summary.value if v.tag == tag]

    train, validation = read("train"), read("validation")
    np.testing.assert_allclose([v for _, v in scalars(train, "epoch_loss")],
                               history.history["loss"], rtol=1e-6)
    assert [s for s, _ in scalars(train, "epoch_accuracy")] == [0, 1]
    np.testing.assert_allclose([v for _, v in scalars(validation, "epoch_loss")],
                               history.history["val_loss"], rtol=1e-6)
    assert [s for s, _ in scalars(train, "batch_loss")] == [2, 4, 6]  # 3 batches per epoch
    assert any(e.HasField("graph_def") for e in train)
    kernels = [v.histo for e in train for v in e.summary.value
               if v.tag == model.layers[0].kernel.name.replace(":", "_")]
    assert len(kernels) == 2 and kernels[-1].num == 4 * 8
    np.testing.assert_allclose(kernels[-1].sum, keras.backend.get_value(
        model.layers[0].kernel).sum(), rtol=1e-5, atol=1e-6)
    assert os.path.isdir(tmp_path / "validation")
