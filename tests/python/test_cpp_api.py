"""The deployment chain: a model trained and frozen in Python gives the same outputs (to
1e-6) from runnel-run and from a separate C++ project built against the installed
package with find_package(Runnel); the shared TensorFlow graphs give their reference
results through runnel-run."""
import shutil
import subprocess

import numpy as np
import pytest

import runnel as tf
from conftest import BUILD, ROOT, SHARED_DATA

RUNNEL_RUN = BUILD / "bin" / "runnel-run"
needs_tools = pytest.mark.skipif(not RUNNEL_RUN.exists(), reason=f"{RUNNEL_RUN} is not built")


def build_generator():
    """The CMake generator of Runnel's own build tree: its build tool is installed, while
    CMake's default (make) may not be."""
    for line in (BUILD / "CMakeCache.txt").read_text().splitlines():
        if line.startswith("CMAKE_GENERATOR:"):
            return line.split("=", 1)[1]
    pytest.skip(f"{BUILD / 'CMakeCache.txt'} names no generator")


@pytest.fixture(scope="module")
def frozen_model(tmp_path_factory):
    """A small trained classifier, frozen; with inputs and the Python session's outputs."""
    tmp = tmp_path_factory.mktemp("model")
    rng = np.random.default_rng(0)
    xs = rng.random((64, 12), np.float32)
    ys = rng.integers(0, 4, 64)
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 12], name="x")
        y = tf.placeholder(tf.int64, [None])
        h = tf.layers.dense(x, 16, activation=tf.nn.relu)
        logits = tf.layers.dense(h, 4, name="logits")
        probs = tf.nn.softmax(logits, name="probs")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                             logits=logits))
        train = tf.train.AdamOptimizer(0.05).minimize(loss)
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        for _ in range(30):
            sess.run(train, {x: xs, y: ys})
        expected = sess.run(probs, {x: xs[:5]})
        frozen = tf.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["probs"])
    path = tmp / "frozen.pb"
    path.write_bytes(frozen.SerializeToString())
    np.save(tmp / "x.npy", xs[:5])
    return path, xs[:5], expected


@needs_tools
def test_runnel_run_matches_the_python_session(frozen_model, tmp_path):
    path, xs, expected = frozen_model
    out = subprocess.run([str(RUNNEL_RUN), str(path), "--input", f"x={path.parent / 'x.npy'}",
                          "--save", str(tmp_path)], capture_output=True, text=True, check=True)
    assert "probs:0: float32 [5,4]" in out.stdout
    np.testing.assert_allclose(np.load(tmp_path / "probs_0.npy"), expected, atol=1e-6)


@needs_tools
def test_runnel_run_writes_a_chrome_trace_of_one_run(frozen_model, tmp_path):
    import json
    path, _, _ = frozen_model
    trace_path = tmp_path / "trace.json"
    out = subprocess.run([str(RUNNEL_RUN), str(path), "--input", f"x={path.parent / 'x.npy'}",
                          "--trace", str(trace_path)], capture_output=True, text=True,
                         check=True).stdout
    assert f"written to {trace_path}" in out
    events = json.loads(trace_path.read_text())["traceEvents"]
    ops = [e for e in events if e["ph"] == "X"]
    assert {e["name"] for e in ops} >= {"_FusedMatMul", "Softmax"}
    assert any(e["args"]["name"] == "probs" for e in ops)
    assert all(e["dur"] >= 0 and e["ts"] > 0 for e in ops)
    assert [e["args"]["name"] for e in events if e["ph"] == "M"] == [
        "/job:localhost/replica:0/task:0/device:CPU:0"]


@needs_tools
def test_runnel_run_benchmark_and_errors(frozen_model):
    path, _, _ = frozen_model
    out = subprocess.run([str(RUNNEL_RUN), str(path), "--benchmark", "--runs", "20", "--batch", "8"],
                         capture_output=True, text=True, check=True).stdout
    assert "input x: random float32 [8,12]" in out
    assert "p50" in out and "p99" in out and "examples/s (batch 8)" in out
    assert "_FusedMatMul" in out and "GFLOP/s" in out
    bad = subprocess.run([str(RUNNEL_RUN), str(path), "--input", "images=none.npy"],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "no input 'images'; its inputs are: x" in bad.stderr
    wrong = path.parent / "wrong.npy"
    np.save(wrong, np.zeros((2, 5), np.float32))
    bad = subprocess.run([str(RUNNEL_RUN), str(path), "--input", f"x={wrong}"],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "shape [2,5]" in bad.stderr and "[?,12]" in bad.stderr


@needs_tools
@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
def test_an_outside_project_builds_against_the_installed_package(frozen_model, tmp_path):
    path, xs, expected = frozen_model
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", str(BUILD), "--prefix", str(prefix)], check=True,
                   capture_output=True)
    assert (prefix / "include" / "runnel" / "inference.h").exists()
    app_build = tmp_path / "app"
    subprocess.run(["cmake", "-S", str(ROOT / "tools" / "examples" / "cpp_inference"),
                    "-B", str(app_build), "-G", build_generator(),
                    f"-DCMAKE_PREFIX_PATH={prefix}"],
                   check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(app_build)], check=True, capture_output=True)
    (tmp_path / "x.f32").write_bytes(xs.astype(np.float32).tobytes())
    run = subprocess.run([str(app_build / "app"), str(path), "x", str(tmp_path / "x.f32"),
                          str(len(xs)), "12", str(tmp_path / "y.f32")],
                         capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "probs:0 5x4"
    got = np.frombuffer((tmp_path / "y.f32").read_bytes(), np.float32).reshape(expected.shape)
    np.testing.assert_allclose(got, expected, atol=1e-6)


@needs_tools
def test_shared_tensorflow_graphs_give_their_reference_results(tmp_path):
    frozen = SHARED_DATA / "tf-frozen"
    if not (frozen / "mobilenet_v1_0.25_128.pb").exists():
        pytest.skip(f"shared test data not found at {frozen}")
    out = subprocess.run([str(RUNNEL_RUN), str(frozen / "mobilenet_v1_0.25_128.pb"), "--input",
                          f"input={frozen / 'granny_smith_input.npy'}", "--labels",
                          str(frozen / "mobilenet_v1_labels.txt"), "--top", "1", "--save",
                          str(tmp_path)], capture_output=True, text=True, check=True).stdout
    assert "949" in out and "Granny Smith" in out
    probs = np.load(tmp_path / "MobilenetV1_Predictions_Reshape_1_0.npy")
    expected = np.load(frozen / "granny_smith_expected_probs.npy")
    np.testing.assert_allclose(probs.reshape(-1), expected.reshape(-1), atol=1e-4)
    # The MNIST MLP: the first test image's logits from the data README.
    import gzip
    with gzip.open(SHARED_DATA / "mnist" / "mnist-t10k-images-idx3-ubyte.gz") as f:
        image = np.frombuffer(f.read(), np.uint8, offset=16)[:784].astype(np.float32) / 255
    np.save(tmp_path / "image.npy", image.reshape(1, 784))
    subprocess.run([str(RUNNEL_RUN), str(frozen / "mnist_mlp.pb"), "--input",
                    f"Placeholder={tmp_path / 'image.npy'}", "--save", str(tmp_path)],
                   check=True, capture_output=True)
    logits = np.load(tmp_path / "softmax_linear_add_0.npy")
    np.testing.assert_allclose(logits[0], [1.6687, -3.312, -0.2258, 2.886, -2.2692, -0.228,
                                           -4.3163, 8.8935, -0.6836, 4.0283], atol=1e-3)


@needs_tools
def test_runnel_run_decodes_and_resizes_image_inputs(tmp_path):
    frozen = SHARED_DATA / "tf-frozen"
    if not (frozen / "granny_smith.jpg").exists():
        pytest.skip(f"shared test data not found at {frozen}")
    model = frozen / "mobilenet_v1_0.25_128.pb"
    out = subprocess.run([str(RUNNEL_RUN), str(model), "--input",
                          f"input={frozen / 'granny_smith.jpg'}", "--input_mean", "127.5",
                          "--input_std", "127.5", "--labels", str(frozen / "mobilenet_v1_labels.txt"),
                          "--top", "1"], capture_output=True, text=True, check=True).stdout
    assert "input input: float32 [1,128,128,3] from" in out
    assert "949  " in out and "Granny Smith" in out
    # The same photo as a PNG (written by the graph's own encoder) classifies the same.
    with tf.Graph().as_default():
        png = tf.image.encode_png(tf.image.decode_jpeg(tf.read_file(str(frozen / "granny_smith.jpg")),
                                                       dct_method="INTEGER_ACCURATE"))
        with tf.Session() as sess:
            (tmp_path / "apple.png").write_bytes(sess.run(png))
    out = subprocess.run([str(RUNNEL_RUN), str(model), "--input", f"input={tmp_path / 'apple.png'}",
                          "--input_mean", "127.5", "--input_std", "127.5", "--labels",
                          str(frozen / "mobilenet_v1_labels.txt"), "--top", "1"],
                         capture_output=True, text=True, check=True).stdout
    assert "Granny Smith" in out
    bad = subprocess.run([str(RUNNEL_RUN), str(frozen / "mnist_mlp.pb"), "--input",
                          f"Placeholder={frozen / 'granny_smith.jpg'}"], capture_output=True,
                         text=True)
    assert bad.returncode == 1 and "an image feeds a float32 [batch, height, width, 1 or 3]" in bad.stderr
