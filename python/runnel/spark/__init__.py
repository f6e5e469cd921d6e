"""Runnel on Apache Spark, in the SparkSession the user already runs (pyspark):

- `search(train_fn, params, spark=...)`: hyperparameter search, each trial a Spark task
  (runnel.cluster.search);
- `predict(df, graph, inputs, outputs)`: a frozen graph applied to a DataFrame with
  mapInPandas (Arrow), the graph broadcast and loaded once per Python worker;
- `KerasEstimator` / `KerasModel` (runnel.spark.ml): a runnel.keras model trained
  data-parallel as a Spark ML pipeline stage.

Spark's Python workers must run an interpreter that has Runnel: importing this module sets
PYSPARK_PYTHON to this interpreter when it is unset (before the SparkContext starts), and
each entry point checks the workers once, with a clear error where they cannot import
runnel."""
import os
import sys

from runnel.cluster import search as search_lib

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

from runnel.spark.batch import check_workers, predict  # noqa: E402 - after PYSPARK_PYTHON
from runnel.spark.ml import KerasEstimator, KerasModel  # noqa: E402


def search(train_fn, params, spark=None, **kwargs):
    """runnel.cluster.search.search with engine="spark" (see there for the arguments)."""
    context = search_lib.spark_context(spark)
    check_workers(context)
    return search_lib.search(train_fn, params, engine="spark", spark=context, **kwargs)
