"""The session's graph passes (runtime/passes/, session option graph_optimization_level)
give the unoptimized results: on every shared TensorFlow graph and on a CNN training run
(conv + batch norm + relu, dense + relu6 and + relu, whose step graph the passes fuse)."""
import numpy as np
import pytest

import runnel as tf
from conftest import SHARED_DATA

FROZEN = {
    "mnist_mlp.pb": ("Placeholder:0", ["softmax_linear/add:0"], lambda rng: rng.random((7, 784))),
    "mobilenet_v1_0.25_128.pb": ("input:0", ["MobilenetV1/Predictions/Reshape_1:0",
                                             "MobilenetV1/Logits/SpatialSqueeze:0"],
                                 lambda rng: rng.random((1, 128, 128, 3)) * 2 - 1),
}


def session(graph, level):
    return tf.Session(graph=graph, config=tf.ConfigProto(
        runnel_options={"graph_optimization_level": str(level)}))


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_every_level_gives_the_unoptimized_results_on_shared_graphs(name):
    path = SHARED_DATA / "tf-frozen" / name
    if not path.exists():
        pytest.skip(f"shared test data not found at {path}")
    graph_def = tf.GraphDef()
    graph_def.ParseFromString(path.read_bytes())
    with tf.Graph().as_default() as g:
        tf.import_graph_def(graph_def, name="")
    feed, fetches, make_input = FROZEN[name]
    x = make_input(np.random.default_rng(0)).astype(np.float32)
    results = {}
    for level in (0, 1, 2):
        with session(g, level) as sess:
            results[level] = sess.run(fetches, {feed: x})
    for level in (1, 2):
        for expected, got in zip(results[0], results[level]):
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_cnn_training_is_the_same_with_and_without_passes():
    rng = np.random.default_rng(1)
    xs = rng.random((16, 8, 8, 1), np.float32)
    ys = rng.integers(0, 3, 16)
    losses = {}
    for level in (0, 2):
        with tf.Graph().as_default() as g:
            tf.set_random_seed(3)
            x = tf.placeholder(tf.float32, [None, 8, 8, 1])
            y = tf.placeholder(tf.int64, [None])
            training = tf.placeholder_with_default(True, [])
            h = tf.layers.conv2d(x, 4, 3, padding="same")
            h = tf.nn.relu(tf.layers.batch_normalization(h, training=training))
            h = tf.layers.dense(tf.layers.flatten(h), 8, activation=tf.nn.relu6)
            # Relu's gradient reads its output, so MatMul + bias + Relu fuse in training too.
            h = tf.layers.dense(h, 8, activation=tf.nn.relu)
            logits = tf.layers.dense(h, 3)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
            with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
                train = tf.train.AdamOptimizer(0.01).minimize(loss)
            init = tf.global_variables_initializer()
        with session(g, level) as sess:
            sess.run(init)
            losses[level] = [sess.run([loss, train], {x: xs, y: ys})[0] for _ in range(5)]
            losses[level].append(sess.run(loss, {x: xs, y: ys, training: False}))
    np.testing.assert_allclose(losses[2], losses[0], rtol=1e-4)
    assert losses[0][4] < losses[0][0]


def test_unknown_optimization_level_is_an_error():
    with pytest.raises(tf.errors.InvalidArgumentError, match="graph_optimization_level.*0, 1 or 2"):
        with session(tf.get_default_graph(), 3) as sess:
            sess.run(tf.constant(1))
