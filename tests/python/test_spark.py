"""runnel.spark on Spark in local[2] mode: a frozen graph over a DataFrame against numpy
(loaded once per Python worker), a search whose trials are Spark tasks, and the Keras
estimator in a Pipeline after StringIndexer, VectorAssembler and StandardScaler, in each
training mode, against the same model trained in one process; saved and loaded as Spark
ML stages. Needs pyspark (tools/run_tests.sh's cluster environment has it)."""
import os
import shutil
import socket

import numpy as np
import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (tools/run_tests.sh runs "
                    "these tests in its cluster environment, which has it)")
pd = pytest.importorskip("pandas", reason="pandas is not installed")
if shutil.which("java") is None and "JAVA_HOME" not in os.environ:
    pytest.skip("Spark needs Java (Debian's openjdk-17-jre-headless)", allow_module_level=True)
try:
    socket.getaddrinfo("localhost", None)
except OSError:
    pytest.skip("Spark's local mode needs 'localhost' to resolve (this machine has no "
                "/etc/hosts entry for it)", allow_module_level=True)
# local mode on the loopback: Spark looks its host name up, which a fresh root or a CI
# container may not resolve.
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("SPARK_LOCAL_HOSTNAME", "localhost")

import runnel as tf  # noqa: E402
import runnel.spark as runnel_spark  # noqa: E402
from runnel import keras  # noqa: E402
from runnel.cluster import frozen  # noqa: E402
from test_cluster import WEIGHTS, softmax, softmax_and_sum_graph  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession
    session = (SparkSession.builder.master("local[2]").appName("runnel-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "100")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_predict_matches_numpy_keeps_the_columns_and_loads_once_per_worker(spark):
    from pyspark.ml.linalg import Vectors
    from pyspark.sql import functions
    data = softmax_and_sum_graph()
    values = np.random.default_rng(0).normal(size=(1000, 4)).astype(np.float32)
    rows = [(i, Vectors.dense(v.tolist()), v.tolist()) for i, v in enumerate(values)]
    df = spark.createDataFrame(rows, ["id", "vector", "array"]).repartition(2)
    for column in ("vector", "array"):
        out = runnel_spark.predict(df, data, {column: "x"}, {"probs": "p", "total": "t"})
        assert out.columns == ["id", "vector", "array", "p", "t"]
        got = out.select("id", "p", "t").toPandas().sort_values("id")
        np.testing.assert_allclose(np.stack(got["p"]), softmax(values @ WEIGHTS), rtol=1e-5)
        np.testing.assert_allclose(got["t"], values.sum(1), rtol=1e-5)
    # 1000 rows in batches of 100, ten batches per worker and input mapping: one load of
    # the graph per worker and mapping, two in all.
    key = frozen.digest(data)

    @functions.pandas_udf("long")
    def loads(ids: pd.Series) -> pd.Series:
        return pd.Series([frozen.load_counts().get(key, 0)] * len(ids))

    counts = df.select(loads("id").alias("loads")).toPandas()["loads"]
    assert counts.max() == 2, counts.value_counts()


def test_predict_errors_name_the_missing_tensor_and_column(spark):
    with tf.Graph().as_default() as graph:
        tf.identity(tf.placeholder(tf.float32, [None], name="x"), name="y")
    df = spark.createDataFrame([(1.0,)], ["a"])
    data = graph.as_graph_def().SerializeToString()
    with pytest.raises(ValueError, match="no input tensor 'z:0'"):
        runnel_spark.predict(df, data, {"a": "z"}, {"y": "out"})
    with pytest.raises(ValueError, match="no column 'b'"):
        runnel_spark.predict(df, data, {"b": "x"}, {"y": "out"})
    with pytest.raises(ValueError, match=r"already exist"):
        runnel_spark.predict(df, data, {"a": "x"}, {"y": "a"})


def test_search_runs_each_trial_as_a_spark_task(spark):
    def trial(params):  # test_cluster.quadratic, defined here so that Spark sends it by value
        if params["a"] == 2:
            raise ValueError("a = 2 is not allowed")
        return {"score": -(params["a"] - 3.0) ** 2, "model": str(params["a"]).encode(),
                "threads": tf.config.threading.get_intra_op_parallelism_threads()}

    frame = runnel_spark.search(trial, {"a": [1, 2, 3, 4]}, spark=spark, verbose=0)
    assert list(frame["a"]) == [3, 4, 1, 2]
    assert frame["error"][3].startswith("ValueError")
    assert (frame["threads"][:3] == 1).all() and frame["model"][0] == b"3"


def otto_like(n, seed):
    """Counts of 93 features for n products of 9 classes (tools/examples/keras/
    mlp_classifier.py's synthetic Otto data), log-scaled."""
    rng = np.random.default_rng(seed)
    priors = np.array([3, 26, 13, 4, 4, 23, 5, 14, 8], np.float64)
    classes = rng.choice(9, size=n, p=priors / priors.sum())
    base = rng.lognormal(-1.0, 1.0, size=93)
    profiles = base * rng.lognormal(0.0, 0.5, size=(9, 93))
    counts = rng.poisson(profiles[classes] * rng.lognormal(0.0, 0.8, size=(n, 93)))
    return np.log1p(counts), classes


def mlp():
    model = keras.Sequential([keras.layers.Dense(64, activation="relu", input_shape=(93,)),
                              keras.layers.Dense(9, activation="softmax")])
    model.compile("rmsprop", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def otto(spark):
    x, y = otto_like(5000, seed=1)
    features = [f"feat_{i}" for i in range(93)]
    frame = pd.DataFrame(x, columns=features)
    frame["target"] = [f"Class_{c + 1}" for c in y]
    train, test = frame[:4000], frame[4000:]
    # The single-process reference: the same model and scaling, trained by fit.
    mean, std = x[:4000].mean(0), x[:4000].std(0, ddof=1)
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = mlp()
    model.fit((x[:4000] - mean) / std, y[:4000], epochs=5, batch_size=32, verbose=0)
    reference = model.evaluate((x[4000:] - mean) / std, y[4000:], verbose=0)[1]
    keras.backend.clear_session()
    return (spark.createDataFrame(train).repartition(2), spark.createDataFrame(test),
            features, reference)


@pytest.mark.parametrize("mode", ["synchronous", "averaging", "asynchronous"])
def test_estimator_in_a_pipeline_trains_as_well_as_one_process(spark, otto, mode, tmp_path):
    from pyspark.ml import Pipeline, PipelineModel
    from pyspark.ml.feature import StandardScaler, StringIndexer, VectorAssembler
    train, test, features, reference = otto
    keras.utils.set_random_seed(0)
    estimator = runnel_spark.KerasEstimator(
        model=mlp(), featuresCol="scaled", labelCol="label", mode=mode, epochs=5,
        batchSize=32, frequency=10, numWorkers=2)
    indexer = StringIndexer(inputCol="target", outputCol="label").fit(train)
    pipeline = Pipeline(stages=[
        indexer, VectorAssembler(inputCols=features, outputCol="features"),
        StandardScaler(inputCol="features", outputCol="scaled", withMean=True), estimator])
    fitted = pipeline.fit(train)
    history = fitted.stages[-1].history["loss"]
    assert len(history) == 5 and history[-1] < history[0] / 2
    predicted = fitted.transform(test)
    accuracy = predicted.selectExpr("avg(cast(prediction = label as double))").first()[0]
    # Averaged training takes half the sequential steps of one process per epoch: after
    # 5 epochs synchronous and averaging reach 0.828 and 0.827 (deterministic: weights and
    # optimizer state are averaged), asynchronous 0.85, the single process 0.846.
    assert accuracy > reference - 0.03, (mode, accuracy, reference)
    fitted.write().overwrite().save(str(tmp_path / "pipeline"))
    loaded = PipelineModel.load(str(tmp_path / "pipeline"))
    again = loaded.transform(test).select("prediction").toPandas()["prediction"]
    np.testing.assert_array_equal(again, predicted.select("prediction").toPandas()
                                  ["prediction"])
    # The trained weights come back as a Keras model too.
    model = loaded.stages[-1].keras_model()
    assert [w.shape for w in model.get_weights()] == [(93, 64), (64,), (64, 9), (9,)]
