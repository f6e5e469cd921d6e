"""Batch inference over a cluster: a frozen Fashion-MNIST MLP (`--graph`, or one trained here
for an epoch and frozen) applied to the 70,000 images as a Spark DataFrame (a pandas UDF
over Arrow batches; the graph is broadcast and loaded once per Python worker), or as a
Dask DataFrame (map_partitions), then the accuracy on the test rows.

    python3 tools/examples/spark/batch_inference.py [--engine dask] [--graph frozen.pb \\
        --input x --output probs]
"""
import argparse
import os
import tempfile

import numpy as np
import pandas as pd

from runnel import keras
from runnel.datasets import fashion_mnist
from runnel.framework import graph_util

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--engine", choices=["spark", "dask"], default="spark")
parser.add_argument("--graph", help="a frozen graph taking [N, 784] images in [0, 1]")
parser.add_argument("--input", help="its input tensor")
parser.add_argument("--output", help="its output tensor (class scores)")
args = parser.parse_args()


def freeze_an_mlp(path):
    (x, y), _ = fashion_mnist.load_data()
    model = keras.Sequential([keras.layers.Dense(256, activation="relu", input_shape=(784,)),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x.reshape(-1, 784) / 255.0, y, batch_size=128, epochs=1, verbose=0)
    output = model.outputs[0]
    graph_def = graph_util.convert_variables_to_constants(
        keras.backend.get_session(), output.graph.as_graph_def(), [output.op.name])
    with open(path, "wb") as f:
        f.write(graph_def.SerializeToString())
    return model.inputs[0].name, output.name


if __name__ == "__main__":
    directory = tempfile.mkdtemp()
    graph = args.graph or os.path.join(directory, "mlp.pb")
    inputs, outputs = (args.input, args.output) if args.graph else freeze_an_mlp(graph)
    (x, y), (x_test, y_test) = fashion_mnist.load_data()
    rows = pd.DataFrame({"id": np.arange(70000),
                         "pixels": list((np.concatenate([x, x_test]).reshape(-1, 784) / 255.0)
                                        .astype(np.float32)),
                         "label": np.concatenate([y, y_test]).astype(np.int64)})
    if args.engine == "spark":
        import runnel.spark
        from pyspark.sql import SparkSession
        spark = (SparkSession.builder.master("local[2]")
                 .config("spark.ui.showConsoleProgress", "false")
                 .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        df = runnel.spark.predict(spark.createDataFrame(rows), graph, {"pixels": inputs},
                                  {outputs: "scores"})
        result = df.select("id", "label", "scores").toPandas()
    else:
        import dask
        import dask.dataframe as dd
        import runnel.dask
        from distributed import Client, LocalCluster
        dask.config.set({"dataframe.convert-string": False})
        with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster):
            ddf = dd.from_pandas(rows, npartitions=8)
            result = runnel.dask.predict(ddf, graph, {"pixels": inputs},
                                         {outputs: "scores"}).compute()
    result = result.sort_values("id")
    predicted = np.stack(result["scores"]).argmax(1)
    print(f"{len(result)} rows; test accuracy {np.mean(predicted[60000:] == y_test):.4f}")
