"""tf.layers: TensorFlow's variable names, values against numpy, and the `training`
switch of dropout and batch_normalization (Python bool or tensor)."""
import numpy as np
import pytest

import runnel as tf

import nn_reference as ref

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default():
        yield


def values(sess, scope):
    return {v.name.split("/")[-1][:-2]: sess.run(v) for v in tf.global_variables()
            if v.name.startswith(scope + "/")}


def test_dense_and_conv2d_names_and_values():
    x = RNG.standard_normal((3, 6, 5, 2)).astype(np.float32)
    h = tf.layers.conv2d(x, 4, 3, strides=(1, 2), padding="same", activation=tf.nn.relu,
                         bias_initializer=tf.constant_initializer(0.5))
    flat = tf.layers.flatten(h)
    y = tf.layers.dense(flat, 7, name="logits")
    tf.layers.dense(flat, 2)  # unnamed: 'dense'
    assert [v.name for v in tf.trainable_variables()] == [
        "conv2d/kernel:0", "conv2d/bias:0", "logits/kernel:0", "logits/bias:0",
        "dense/kernel:0", "dense/bias:0"]
    assert h.shape.as_list() == [3, 6, 3, 4] and flat.shape.as_list() == [3, 72]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_h, got_y = sess.run([h, y])
        conv, dense = values(sess, "conv2d"), values(sess, "logits")
    expected_h = np.maximum(ref.conv2d(x.astype(np.float64), conv["kernel"], (1, 2), "SAME") +
                            conv["bias"], 0)
    np.testing.assert_allclose(got_h, expected_h, rtol=1e-5, atol=1e-5)
    assert np.all(conv["bias"] == 0.5)
    np.testing.assert_allclose(got_y, expected_h.reshape(3, -1) @ dense["kernel"] +
                               dense["bias"], rtol=1e-4, atol=1e-4)
    # glorot_uniform by default: limit sqrt(6 / (fan_in + fan_out))
    limit = np.sqrt(6 / (3 * 3 * 2 + 3 * 3 * 4))
    assert np.abs(conv["kernel"]).max() <= limit


def test_dense_on_rank_3_inputs_applies_to_the_last_dim():
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    y = tf.layers.dense(x, 5, use_bias=False)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, kernel = sess.run([y, tf.trainable_variables()[0]])
    np.testing.assert_allclose(got, x @ kernel, rtol=1e-5, atol=1e-6)


def test_pooling_layers():
    x = RNG.standard_normal((2, 5, 5, 3))
    m = tf.layers.max_pooling2d(x, 2, 2)
    a = tf.layers.average_pooling2d(x, 3, 2, padding="same")
    with tf.Session() as sess:
        got_m, got_a = sess.run([m, a])
    np.testing.assert_allclose(got_m, ref.max_pool(x, (2, 2), (2, 2), "VALID"))
    np.testing.assert_allclose(got_a, ref.avg_pool(x, (3, 3), (2, 2), "SAME"))


def test_dropout_follows_training_bool_and_tensor():
    x = np.ones((200, 50), np.float32)
    training = tf.placeholder_with_default(False, [])
    off = tf.layers.dropout(x, 0.4)
    on = tf.layers.dropout(x, 0.4, training=True)
    switched = tf.layers.dropout(x, 0.4, training=training)
    with tf.Session() as sess:
        got_off, got_on = sess.run([off, on])
        eval_mode = sess.run(switched)
        train_mode = sess.run(switched, {training: True})
    np.testing.assert_array_equal(got_off, x)
    np.testing.assert_array_equal(eval_mode, x)
    for dropped in (got_on, train_mode):
        assert set(np.unique(dropped)) == {0.0, np.float32(1 / 0.6)}
        assert abs((dropped == 0).mean() - 0.4) < 0.03


@pytest.mark.parametrize("tensor_switch", [False, True])
def test_batch_normalization_training_and_inference(tensor_switch):
    x = (RNG.standard_normal((8, 3, 3, 4)) * 3 + 2).astype(np.float32)
    training = tf.placeholder_with_default(True, []) if tensor_switch else True
    y = tf.layers.batch_normalization(x, momentum=0.9, training=training)
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert len(updates) == 2
    names = {v.name for v in tf.global_variables()}
    assert {"batch_normalization/gamma:0", "batch_normalization/beta:0",
            "batch_normalization/moving_mean:0",
            "batch_normalization/moving_variance:0"} == names
    assert {v.name for v in tf.trainable_variables()} == {"batch_normalization/gamma:0",
                                                         "batch_normalization/beta:0"}
    mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([y] + updates)[0]
        np.testing.assert_allclose(got, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4)
        moving = values(sess, "batch_normalization")
        np.testing.assert_allclose(moving["moving_mean"], 0.1 * mean, rtol=1e-5)
        np.testing.assert_allclose(moving["moving_variance"], 0.9 + 0.1 * var, rtol=1e-5)
        if tensor_switch:  # inference through the same graph: moving averages, no update
            got = sess.run([y] + updates, {training: False})[0]
            np.testing.assert_allclose(
                got, (x - moving["moving_mean"]) / np.sqrt(moving["moving_variance"] + 1e-3),
                rtol=1e-4, atol=1e-4)
            after = values(sess, "batch_normalization")
            np.testing.assert_allclose(after["moving_mean"], moving["moving_mean"])


def test_layer_argument_errors():
    x = np.zeros((1, 4, 4, 1), np.float32)
    with pytest.raises(ValueError, match="padding"):
        tf.layers.conv2d(x, 2, 3, padding="full")
    with pytest.raises(ValueError, match="data_format"):
        tf.layers.max_pooling2d(x, 2, 2, data_format="NHWC")
    with pytest.raises(ValueError, match="4-D"):
        tf.layers.conv2d(np.zeros((4, 4), np.float32), 2, 3)


def ran_ops(fetch, feed):
    """The op types whose kernels ran for `fetch` (a dead branch's do not)."""
    metadata = tf.RunMetadata()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(fetch, feed, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                 run_metadata=metadata)
    graph = tf.get_default_graph()
    return {graph.get_operation_by_name(n.node_name).type
            for d in metadata.step_stats.dev_stats for n in d.node_stats
            if n.node_name in {op.name for op in graph.get_operations()}}


def test_a_training_flag_tensor_runs_only_the_taken_branch():
    """Dropout draws no random numbers and batch normalization takes no moments when the
    training flag (a tensor) is false, as with TensorFlow's smart_cond."""
    x = tf.placeholder(tf.float32, [4, 3])
    training = tf.placeholder(tf.bool, [])
    dropped = tf.layers.dropout(x, 0.5, training=training)
    normalized = tf.layers.batch_normalization(x, training=training)
    value = np.random.RandomState(0).randn(4, 3).astype(np.float32)
    assert "RandomUniform" not in ran_ops(dropped, {x: value, training: False})
    assert "RandomUniform" in ran_ops(dropped, {x: value, training: True})
    assert "Mean" not in ran_ops(normalized, {x: value, training: False})
    assert "Mean" in ran_ops(normalized, {x: value, training: True})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(dropped, {x: value, training: False}), value)
        got = sess.run(normalized, {x: value, training: True})
        np.testing.assert_allclose(got, (value - value.mean(0)) / np.sqrt(value.var(0) + 1e-3),
                                   rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(sess.run(normalized, {x: value, training: False}),
                                   value / np.sqrt(1 + 1e-3), rtol=1e-5)
