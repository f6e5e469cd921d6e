"""runnel-inspect on every shared graph and on made-up ones: the summary's numbers against
independent counts, JSON/DOT/node listings, unknown ops, text format, --optimize, bad
files, and the HTML page rendered by headless Chromium."""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

import runnel as tf
from conftest import BUILD, SHARED_DATA

INSPECT = BUILD / "bin" / "runnel-inspect"
FROZEN = SHARED_DATA / "tf-frozen"
pytestmark = pytest.mark.skipif(not INSPECT.exists(), reason=f"{INSPECT} is not built")


def inspect(*args, check=True):
    return subprocess.run([str(INSPECT), *map(str, args)], capture_output=True, text=True,
                          check=check)


def shared(name):
    path = FROZEN / name
    if not path.exists():
        pytest.skip(f"shared test data not found at {path}")
    return path


def graph_def_of(path):
    g = tf.GraphDef()
    g.ParseFromString(path.read_bytes())
    return g


def const_elements(graph_def):
    total = 0
    for node in graph_def.node:
        if node.op == "Const":
            total += int(np.prod([d.size for d in node.attr["value"].tensor.tensor_shape.dim]))
    return total


def test_mnist_mlp_summary():
    path = shared("mnist_mlp.pb")
    s = json.loads(inspect(path, "--json").stdout)
    assert s["node_count"] == 21 and s["format"] == "binary"
    assert s["inputs"] == [{"name": "Placeholder", "op": "Placeholder", "dtype": "float32",
                            "shape": [100, 784]}]
    assert [t["name"] for t in s["outputs"]] == ["softmax_linear/add"]
    assert s["outputs"][0]["shape"] == [100, 10]
    assert s["parameters"]["count"] == const_elements(graph_def_of(path)) == 104938
    assert s["parameters"]["bytes"] == 4 * 104938
    assert sum(s["op_histogram"].values()) == 21 and s["op_histogram"]["MatMul"] == 3
    assert s["flops"]["total"] == 2 * (784 * 128 + 128 * 32 + 32 * 10)  # batch 1
    assert s["unknown_ops"] == [] and s["control_edges"] == 0
    assert s["run_command"].startswith("runnel-run ") and "--input Placeholder=" in s["run_command"]
    assert len(s["nodes"]) == 21
    text = inspect(path, "--batch", "32").stdout
    assert "Placeholder: float32 [100,784]" in text and "Parameters: 104,938" in text
    assert f"FLOPs at batch 32: {2 * 32 * (784 * 128 + 128 * 32 + 32 * 10) / 1e6:.1f}M" in text


def test_mobilenet_summary_nodes_and_dot():
    path = shared("mobilenet_v1_0.25_128.pb")
    graph_def = graph_def_of(path)
    s = json.loads(inspect(path, "--json").stdout)
    assert s["inputs"][0]["shape"] == [1, 128, 128, 3]
    assert s["outputs"][0]["shape"] == [1, 1001]
    assert s["parameters"]["count"] == const_elements(graph_def)
    assert s["node_count"] == len(graph_def.node)
    assert set(s["flops"]["by_op"]) == {"Conv2D", "DepthwiseConv2dNative"}
    nodes = inspect(path, "--nodes").stdout
    assert "MobilenetV1/Logits/SpatialSqueeze (Squeeze)" in nodes and "-> float32 [1,1001]" in nodes
    dot = inspect(path, "--dot").stdout
    assert dot.startswith("digraph") and dot.count(" -> ") == sum(len(n.input) for n in graph_def.node)


def test_optimize_writes_a_smaller_graph_with_the_same_results(tmp_path):
    path = shared("mobilenet_v1_0.25_128.pb")
    out = tmp_path / "optimized.pb"
    run = inspect(path, "--optimize", "-o", out)
    assert "optimized: 555 ->" in run.stderr
    optimized = graph_def_of(out)
    assert len(optimized.node) < 150
    assert {n.op for n in optimized.node} >= {"_FusedConv2D", "_FusedDepthwiseConv2dNative"}
    image = np.load(FROZEN / "granny_smith_input.npy")
    results = []
    for graph_def in (graph_def_of(path), optimized):
        with tf.Graph().as_default() as g:
            tf.import_graph_def(graph_def, name="")
        with tf.Session(graph=g) as sess:
            results.append(sess.run("MobilenetV1/Predictions/Reshape_1:0", {"input:0": image}))
    np.testing.assert_allclose(results[1], results[0], atol=1e-5)


def test_unknown_ops_text_format_and_control_edges(tmp_path):
    g = tf.GraphDef()
    x = g.node.add(name="x", op="Placeholder")
    x.attr["dtype"].type = tf.float32.as_datatype_enum
    x.attr["shape"].shape.dim.add(size=-1)
    x.attr["shape"].shape.dim.add(size=3)
    g.node.add(name="custom", op="MyCustomOp", input=["x"])
    g.node.add(name="y", op="Relu", input=["custom"])
    g.node.add(name="z", op="Neg", input=["x", "^custom"]).attr["T"].type = 1
    path = tmp_path / "graph.pbtxt"
    from google.protobuf import text_format
    path.write_text(text_format.MessageToString(g))
    s = json.loads(inspect(path, "--json").stdout)
    assert s["format"] == "text" and s["unknown_ops"] == ["MyCustomOp"]
    assert s["control_edges"] == 1
    assert sorted(t["name"] for t in s["outputs"]) == ["y", "z"]
    by_name = {n["name"]: n for n in s["nodes"]}
    assert by_name["y"]["shapes"] == [] and by_name["z"]["shapes"] == [[None, 3]]
    assert "(unknown to Runnel)" in inspect(path).stdout


def test_bad_files_are_errors(tmp_path):
    bad = tmp_path / "bad.pb"
    bad.write_bytes(b"\x08\x96\x01 this is not a graph \xff")
    run = inspect(bad, check=False)
    assert run.returncode == 1 and "neither a binary nor a text GraphDef" in run.stderr
    run = inspect(tmp_path / "missing.pb", check=False)
    assert run.returncode == 1 and "missing.pb" in run.stderr


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def rendered_dom(html_path):
    # Without the sanitizer runtime tools/sanitize.sh preloads into this process: it is
    # for Runnel's code, and chromium under it does not start within the timeout.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--dump-dom", html_path.as_uri()], capture_output=True, text=True,
                          timeout=120, check=True, env=env).stdout


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install "
                                             "chromium) to render the HTML")
def test_html_page_renders_the_nodes_in_chromium(tmp_path):
    mlp = shared("mnist_mlp.pb")
    page = tmp_path / "mlp.html"
    inspect(mlp, "--html", page)
    assert "<script src" not in page.read_text()  # self-contained: nothing to fetch
    dom = rendered_dom(page)
    assert 'data-rendered="21"' in dom  # a small graph opens fully: one box per node
    assert dom.count('<g class="node') == 21
    assert 'data-name="softmax_linear/add"' in dom
    page = tmp_path / "mobilenet.html"
    inspect(shared("mobilenet_v1_0.25_128.pb"), "--html", page)
    dom = rendered_dom(page)
    assert '<g class="scope" data-name="MobilenetV1"' in dom  # folded name scope
    assert 'data-name="input"' in dom
