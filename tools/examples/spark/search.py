"""Hyperparameter search on Spark (or Dask, or local processes): a grid of Fashion-MNIST MLP
configurations, each trial a task that builds and trains its own Runnel graph with one
thread, results as a pandas DataFrame, best first.

    python3 tools/examples/spark/search.py                  # Spark, local[2]
    python3 tools/examples/spark/search.py --engine dask    # a 2-worker local Dask cluster
    python3 tools/examples/spark/search.py --master spark://host:7077   # a real cluster

Needs pyspark (or dask[distributed]) and pandas in the same environment as Runnel; Spark's
Python workers run this interpreter (runnel.spark sets PYSPARK_PYTHON when it is unset).
"""
import argparse


def train(params):
    """One trial: returns the test accuracy."""
    from runnel import keras
    from runnel.datasets import fashion_mnist
    (x, y), (x_test, y_test) = fashion_mnist.load_data()
    x, x_test = x.reshape(-1, 784) / 255.0, x_test.reshape(-1, 784) / 255.0
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.layers.Dense(params["units"], activation="relu", input_shape=(784,)),
        keras.layers.Dropout(params["dropout"]), keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(params["learning_rate"]),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:args.examples], y[:args.examples], batch_size=64, epochs=args.epochs,
              verbose=0)
    return {"accuracy": model.evaluate(x_test, y_test, verbose=0)[1]}


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--engine", choices=["spark", "dask", "local"], default="spark")
parser.add_argument("--master", default="local[2]", help="Spark's master URL")
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--examples", type=int, default=20000)
args = parser.parse_args()
grid = {"units": [128, 256], "learning_rate": [1e-3, 3e-3], "dropout": [0.0, 0.3]}

if __name__ == "__main__":
    if args.engine == "spark":
        import runnel.spark
        from pyspark.sql import SparkSession
        spark = (SparkSession.builder.master(args.master)
                 .config("spark.ui.showConsoleProgress", "false").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        results = runnel.spark.search(train, grid, spark=spark)
    elif args.engine == "dask":
        import runnel.dask
        from distributed import Client, LocalCluster
        with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster):
            results = runnel.dask.search(train, grid)
    else:
        from runnel.cluster.search import search
        results = search(train, grid, parallelism=2)
    print(results.drop(columns=["model"]).to_string())
    print("best:", results.attrs["best_params"])
