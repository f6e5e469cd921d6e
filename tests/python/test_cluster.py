"""runnel.cluster's engine-neutral parts: hyperparameter search on the local engine
(grids, samplers, failed trials, one thread per trial, the best model kept) and a frozen
graph run over pandas rows (arrays, numbers, several columns, image bytes), against numpy.
Needs pandas, which the tests' cluster environment has (tools/run_tests.sh)."""
import io

import numpy as np
import pytest

import runnel as tf
from runnel.cluster import frozen
from runnel.cluster import search as search_lib

pd = pytest.importorskip("pandas", reason="pandas is not installed (tools/run_tests.sh runs "
                         "these tests in its cluster environment, which has it)")


def quadratic(params):
    """A trial whose score peaks at a = 3, which fails for a = 2, and which reports the
    thread count its sessions get."""
    if params["a"] == 2:
        raise ValueError("a = 2 is not allowed")
    return {"score": -(params["a"] - 3.0) ** 2 + params.get("b", 0),
            "threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "model": str(params["a"]).encode()}


def test_grid_expands_lists_and_keeps_scalars():
    trials = search_lib.expand_trials({"a": [1, 2], "b": (10, 20, 30), "c": "x"})
    assert len(trials) == 6 and trials[0] == {"a": 1, "b": 10, "c": "x"}
    assert {(t["a"], t["b"]) for t in trials} == {(a, b) for a in (1, 2) for b in (10, 20, 30)}


def test_sampler_draws_num_samples_repeatably():
    def sampler(rng):
        return {"lr": float(10 ** rng.uniform(-4, -1))}

    first = search_lib.expand_trials(sampler, num_samples=5, seed=7)
    assert len(first) == 5 and first == search_lib.expand_trials(sampler, 5, seed=7)
    with pytest.raises(ValueError, match="num_samples"):
        search_lib.expand_trials(sampler)


def test_local_search_ranks_trials_reports_failures_and_keeps_the_best_model(capsys):
    seen = []
    frame = search_lib.search(quadratic, {"a": [1, 2, 3, 4, 5]}, on_trial=seen.append)
    assert list(frame["a"]) == [3, 4, 1, 5, 2]  # best first, the failed trial last
    np.testing.assert_allclose(frame["score"][:4], [0, -1, -4, -4])
    assert frame["error"][4].startswith("ValueError: a = 2 is not allowed")
    assert frame["model"][0] == b"3" and frame["model"][1:].isna().all()
    assert frame.attrs["best_params"] == {"a": 3} and frame.attrs["metric"] == "score"
    assert (frame["threads"][:4] == 1).all()  # one thread per trial by default
    assert tf.config.threading.get_intra_op_parallelism_threads() == 0  # and restored
    assert len(seen) == 5 and "trial 5/5" in capsys.readouterr().out


def test_local_search_minimizes_a_named_metric_in_two_processes():
    frame = search_lib.search(quadratic, [{"a": 1, "b": 5}, {"a": 3}, {"a": 4, "b": 9}],
                              parallelism=2, metric="score", mode="min", verbose=0)
    assert list(frame["a"]) == [3, 1, 4]
    assert frame["worker"].nunique() >= 1 and frame["error"].isna().all()


def test_search_rejects_bad_arguments():
    with pytest.raises(ValueError, match="engine"):
        search_lib.search(quadratic, {"a": [1]}, engine="ray")
    with pytest.raises(TypeError, match="params"):
        search_lib.search(quadratic, 3)
    frame = search_lib.search(lambda p: {"other": 1.0}, {"a": [1]}, metric="score",
                              verbose=0)
    assert "no 'score' metric" in frame["error"][0]


WEIGHTS = np.arange(12, dtype=np.float32).reshape(4, 3) / 10


def softmax_and_sum_graph():
    """A frozen graph: x [N, 4] -> probs = softmax(x @ WEIGHTS), total = sum of each row."""
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        tf.nn.softmax(tf.matmul(x, tf.constant(WEIGHTS)), name="probs")
        tf.reduce_sum(x, 1, name="total")
    return graph.as_graph_def().SerializeToString()


@pytest.fixture
def softmax_graph():
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 2, 2], name="x")
        weights = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
        logits = tf.matmul(tf.reshape(x, [-1, 4]), tf.constant(weights))
        tf.nn.softmax(logits, name="probs")
        tf.reduce_sum(x, [1, 2], name="total")
    return graph.as_graph_def().SerializeToString(), weights


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_frozen_graph_runs_array_columns_against_numpy(softmax_graph):
    data, weights = softmax_graph
    x = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    rows = pd.DataFrame({"features": list(x)})
    model = frozen.FrozenGraph(data, frozen.normalize_inputs({"features": "x"}),
                               frozen.normalize_outputs({"probs": "p", "total": "t"}))
    out = model.run(rows)
    np.testing.assert_allclose(np.stack(out["p"]), softmax(x @ weights), rtol=1e-5)
    np.testing.assert_allclose(out["t"], x.sum(1), rtol=1e-5)
    assert model.output_specs() == [("p", np.float32, 1), ("t", np.float32, 0)]


def test_frozen_graph_stacks_number_columns(softmax_graph):
    data, weights = softmax_graph
    x = np.random.default_rng(1).normal(size=(8, 4))
    rows = pd.DataFrame({f"c{i}": x[:, i] for i in range(4)})
    model = frozen.FrozenGraph(data, frozen.normalize_inputs({("c0", "c1", "c2", "c3"): "x"}),
                               frozen.normalize_outputs({"probs": "p"}))
    np.testing.assert_allclose(np.stack(model.run(rows)["p"]), softmax(x @ weights),
                               rtol=1e-5)


def test_frozen_graph_decodes_png_and_jpeg_rows(softmax_graph):
    image_module = pytest.importorskip("PIL.Image", reason="Pillow is not installed")
    data, _ = softmax_graph
    pixels = np.array([[10, 20], [30, 40]], np.uint8)
    encoded = []
    for fmt in ("PNG", "JPEG"):
        buffer = io.BytesIO()
        image_module.fromarray(pixels).save(buffer, fmt, quality=100)
        encoded.append(buffer.getvalue())
    model = frozen.FrozenGraph(data, frozen.normalize_inputs({"image": "x"}),
                               frozen.normalize_outputs({"total": "t"}))
    totals = model.run(pd.DataFrame({"image": encoded}))["t"]
    assert totals[0] == 100  # PNG is lossless
    assert abs(totals[1] - 100) <= 4  # JPEG at quality 100: off by a level or so


def test_frozen_graph_errors_name_what_was_expected(softmax_graph):
    data, _ = softmax_graph
    with pytest.raises(ValueError, match=r"no input tensor 'y:0'.*placeholders: \['x'\]"):
        frozen.FrozenGraph(data, {"f": "y:0"}, {"probs:0": "p"})
    model = frozen.FrozenGraph(data, {"f": "x:0"}, {"probs:0": "p"})
    with pytest.raises(ValueError, match=r"no column \['f'\]"):
        model.run(pd.DataFrame({"g": [1.0]}))
    with pytest.raises(ValueError, match=r"rows of shape \(3,\); input x:0 takes \[2, 2\]"):
        model.run(pd.DataFrame({"f": [np.zeros(3)]}))
    with pytest.raises(ValueError, match="does not parse"):
        frozen.FrozenGraph(b"\x08\x01garbage", {"f": "x:0"}, {"probs:0": "p"})


def test_a_worker_loads_each_graph_once(softmax_graph):
    data, _ = softmax_graph
    key = frozen.digest(data)
    before = frozen.load_counts().get(key, 0)
    first = frozen.load(data, key, {"f": "x:0"}, {"probs:0": "p"}, 1)
    assert frozen.load(data, key, {"f": "x:0"}, {"probs:0": "p"}, 1) is first
    assert frozen.load_counts()[key] == before + 1
