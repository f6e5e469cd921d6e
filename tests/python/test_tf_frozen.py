"""A real TensorFlow 1.x frozen graph (../shared/data/tf-frozen/mnist_mlp.pb) runs in
Runnel and matches the reference results of ../shared/data/README.md."""
import gzip

import numpy as np
import pytest

import runnel as tf
from conftest import SHARED_DATA

pytestmark = pytest.mark.skipif(not (SHARED_DATA / "tf-frozen" / "mnist_mlp.pb").exists(),
                                reason=f"shared test data not found at {SHARED_DATA}")

REFERENCE_LOGITS_0 = [1.6687, -3.312, -0.2258, 2.886, -2.2692, -0.228, -4.3163, 8.8935,
                      -0.6836, 4.0283]


@pytest.fixture(scope="module")
def mnist():
    with gzip.open(SHARED_DATA / "mnist" / "mnist-t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(SHARED_DATA / "mnist" / "mnist-t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images.astype(np.float32) / 255.0, labels


@pytest.fixture(scope="module")
def graph():
    graph_def = tf.GraphDef()
    graph_def.ParseFromString((SHARED_DATA / "tf-frozen" / "mnist_mlp.pb").read_bytes())
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(graph_def, name="")
    return g


def test_ops_are_the_documented_ones(graph):
    assert {op.type for op in graph.get_operations()} == {
        "Const", "Identity", "Placeholder", "MatMul", "Add", "Relu"}


@pytest.fixture(scope="module")
def numpy_logits(mnist):
    """The MLP computed by numpy from the weights stored in the GraphDef: a reference that
    shares no code with Runnel's executor or kernels."""
    graph_def = tf.GraphDef()
    graph_def.ParseFromString((SHARED_DATA / "tf-frozen" / "mnist_mlp.pb").read_bytes())
    consts = {}
    for node in graph_def.node:
        if node.op == "Const":
            proto = node.attr["value"].tensor
            shape = [d.size for d in proto.tensor_shape.dim]
            consts[node.name] = np.frombuffer(proto.tensor_content, np.float32).reshape(shape)
    h = mnist[0].astype(np.float64)
    for layer in ("hidden1", "hidden2", "softmax_linear"):
        h = h @ consts[f"{layer}/weights"] + consts[f"{layer}/biases"]
        if layer != "softmax_linear":
            h = np.maximum(h, 0)
    return h


def test_numpy_reference_gives_the_documented_results(mnist, numpy_logits):
    np.testing.assert_allclose(numpy_logits[0], REFERENCE_LOGITS_0, atol=1e-3)
    assert int((numpy_logits.argmax(1) == mnist[1]).sum()) == 8989


@pytest.mark.parametrize("batch", [1, 100, 137, 10000])
def test_any_batch_size_gives_the_reference_logits(graph, mnist, numpy_logits, batch):
    images, labels = mnist
    x = graph.get_tensor_by_name("Placeholder:0")
    y = graph.get_tensor_by_name("softmax_linear/add:0")
    if batch == 1:
        images, labels = images[:500], labels[:500]  # keep the one-by-one case quick
    with tf.Session(graph=graph) as sess:
        logits = np.concatenate([sess.run(y, {x: images[i:i + batch]})
                                 for i in range(0, len(images), batch)])
    np.testing.assert_allclose(logits, numpy_logits[:len(images)], atol=1e-4)
    correct = int((logits.argmax(1) == labels).sum())
    assert correct == int((numpy_logits[:len(images)].argmax(1) == labels).sum())
    if batch != 1:
        assert correct == 8989


MOBILENET = SHARED_DATA / "tf-frozen" / "mobilenet_v1_0.25_128.pb"


def test_mobilenet_v1_matches_the_reference_probabilities():
    """Google's MobileNet v1 0.25/128 (Conv2D, DepthwiseConv2dNative, Relu6, AvgPool, ...)
    on the Granny Smith photo: top-1 949 and every probability within 1e-4 (README)."""
    graph_def = tf.GraphDef()
    graph_def.ParseFromString(MOBILENET.read_bytes())
    with tf.Graph().as_default() as g:
        tf.import_graph_def(graph_def, name="")
    image = np.load(SHARED_DATA / "tf-frozen" / "granny_smith_input.npy")
    expected = np.load(SHARED_DATA / "tf-frozen" / "granny_smith_expected_probs.npy")
    with tf.Session(graph=g) as sess:
        probs = sess.run("MobilenetV1/Predictions/Reshape_1:0", {"input:0": image})
        # Any batch size through the logits: the same image twice gives the same row twice.
        logits = sess.run("MobilenetV1/Logits/SpatialSqueeze:0",
                          {"input:0": np.concatenate([image, image])})
    assert probs.shape == (1, 1001)
    assert int(np.argmax(probs)) == 949
    np.testing.assert_allclose(probs[0], expected.reshape(-1), atol=1e-4)
    assert abs(probs[0, 949] - 0.32082) < 1e-4
    np.testing.assert_allclose(logits[0], logits[1], rtol=1e-5, atol=1e-5)
