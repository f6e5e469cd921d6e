"""runnel.dask on a local cluster of two worker processes: a frozen graph over a Dask
DataFrame against numpy, loaded once per worker, and a search whose trials are Dask
tasks. Needs dask.distributed (tools/run_tests.sh's cluster environment has it)."""
import numpy as np
import pytest

pytest.importorskip("distributed", reason="dask.distributed is not installed "
                    "(tools/run_tests.sh runs these tests in its cluster environment)")
pd = pytest.importorskip("pandas", reason="pandas is not installed")

import runnel as tf  # noqa: E402
import runnel.dask as runnel_dask  # noqa: E402
from runnel.cluster import frozen  # noqa: E402
from test_cluster import WEIGHTS, softmax, softmax_and_sum_graph  # noqa: E402


@pytest.fixture(scope="module")
def client():
    import dask
    from distributed import Client, LocalCluster
    with dask.config.set({"dataframe.convert-string": False}), \
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as dask_client:
        yield dask_client


def test_predict_matches_numpy_and_loads_once_per_worker(client):
    import dask.dataframe as dd
    data = softmax_and_sum_graph()
    values = np.random.default_rng(0).normal(size=(1000, 4)).astype(np.float32)
    frame = pd.DataFrame({"id": np.arange(1000), "features": list(values)})
    out = runnel_dask.predict(dd.from_pandas(frame, npartitions=10), data,
                              {"features": "x"}, {"probs": "p", "total": "t"})
    assert list(out.columns) == ["id", "features", "p", "t"]
    got = out.compute().sort_values("id")
    np.testing.assert_allclose(np.stack(got["p"]), softmax(values @ WEIGHTS), rtol=1e-5)
    np.testing.assert_allclose(got["t"], values.sum(1), rtol=1e-5)
    loads = client.run(frozen.load_counts)  # ten partitions over two workers
    assert sorted(counts.get(frozen.digest(data), 0) for counts in loads.values()) == [1, 1]


def test_search_runs_each_trial_as_a_dask_task(client):
    def trial(params):
        if params["a"] == 2:
            raise ValueError("a = 2 is not allowed")
        return {"score": -(params["a"] - 3.0) ** 2,
                "threads": tf.config.threading.get_intra_op_parallelism_threads()}

    frame = runnel_dask.search(trial, {"a": [1, 2, 3, 4, 5]}, client=client, verbose=0)
    assert list(frame["a"]) == [3, 4, 1, 5, 2]
    assert frame["error"][4].startswith("ValueError") and (frame["threads"][:4] == 1).all()
    assert frame["worker"][:4].notna().all()
