"""Runnel on Spark, measured (issue: Spark and Dask).

search: a grid of 8 Fashion-MNIST MLP configurations (hidden units x learning rate x
    dropout), --epochs each (default 5) on the 60,000 training images, run by runnel.spark.search on local[1] and on local[2]
    (alternating, --rounds times) and once sequentially in this process: the time ratio
    2 executors / 1 executor, and whether every run picks the sequential run's best.
inference: a 784-512-512-10 MLP trained for one epoch and frozen, applied by
    runnel.spark.predict to the 70,000 Fashion-MNIST images as a DataFrame on local[1]:
    its predictions against runnel-run's on the same rows, and rows per second per
    executor core (the whole job: Arrow batches in, the UDF, the scores written to
    Parquet) against the same job running TensorFlow's session in the same kind of pandas
    UDF, the same job with a UDF that returns zeros (Spark's own cost), and plain Python
    loops feeding TensorFlow's and Runnel's sessions the graph in batches of 10,000
    (Spark's Arrow batch), each with one thread.

    tools/bench/run.sh spark.py [search|inference] [--rounds N]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BATCH = 10_000


def grid(epochs):
    return {"units": [128, 256], "learning_rate": [1e-3, 3e-3], "dropout": [0.0, 0.3],
            "epochs": epochs}


def train_mlp(params):
    """One trial: an MLP on the 60,000 training images, scored on the test set."""
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
    model.fit(x, y, batch_size=64, epochs=params["epochs"], verbose=0)
    return {"accuracy": model.evaluate(x_test, y_test, verbose=0)[1]}


def spark_session(cores):
    from pyspark.sql import SparkSession
    session = (SparkSession.builder.master(f"local[{cores}]").appName("runnel-bench")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.ui.enabled", "false")
               .config("spark.driver.memory", "4g")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session


def bench_search(rounds, epochs):
    from runnel import spark as runnel_spark
    from runnel.cluster import search
    start = time.perf_counter()
    sequential = search.search(train_mlp, grid(epochs), engine="local", verbose=0)
    sequential_s = time.perf_counter() - start
    best = sequential.attrs["best_params"]
    print(f"sequential, this process: {sequential_s:.1f} s, best {best} "
          f"(accuracy {sequential['accuracy'][0]:.4f})")
    times = {1: [], 2: []}
    for _ in range(rounds):
        for cores in (2, 1):
            session = spark_session(cores)
            start = time.perf_counter()
            frame = runnel_spark.search(train_mlp, grid(epochs), spark=session, verbose=0)
            times[cores].append(time.perf_counter() - start)
            session.stop()
            same = frame.attrs["best_params"] == best
            print(f"local[{cores}]: {times[cores][-1]:.1f} s, best {frame.attrs['best_params']}"
                  f" ({'the same' if same else 'NOT the same'} as sequential)")
    ratios = [two / one for two, one in zip(times[2], times[1])]
    print(f"search time, 2 executors / 1 executor: median {np.median(ratios):.2f} "
          f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)})")


def frozen_mlp(directory):
    """A 784-512-512-10 MLP trained for one epoch, frozen: (path, input, output)."""
    from runnel import keras
    from runnel.datasets import fashion_mnist
    from runnel.framework import graph_util
    (x, y), _ = fashion_mnist.load_data()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.layers.Dense(512, activation="relu", input_shape=(784,)),
        keras.layers.Dense(512, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x.reshape(-1, 784) / 255.0, y, batch_size=128, epochs=1, verbose=0)
    graph_def = graph_util.convert_variables_to_constants(
        keras.backend.get_session(), model.outputs[0].graph.as_graph_def(),
        [model.outputs[0].op.name])
    path = os.path.join(directory, "mlp.pb")
    with open(path, "wb") as f:
        f.write(graph_def.SerializeToString())
    return path, model.inputs[0].name, model.outputs[0].name


def tensorflow_loop(path, input_name, output_name, images):
    """Rows per second of a Python loop over batches calling TensorFlow's session."""
    import tensorflow as tf
    graph_def = tf.compat.v1.GraphDef()
    with open(path, "rb") as f:
        graph_def.ParseFromString(f.read())
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1,
                                      inter_op_parallelism_threads=1)
    with tf.compat.v1.Session(graph=graph, config=config) as session:
        session.run(output_name, {input_name: images[:BATCH]})  # warm up
        start = time.perf_counter()
        outputs = [session.run(output_name, {input_name: images[i:i + BATCH]})
                   for i in range(0, len(images), BATCH)]
        return len(images) / (time.perf_counter() - start), np.concatenate(outputs)


def runnel_loop(path, input_name, output_name, images):
    """The same loop with Runnel's session, one thread."""
    from runnel.cluster import frozen
    model = frozen.FrozenGraph(frozen.graph_bytes(path), {"x": input_name},
                               {output_name: "y"}, threads=1)
    run = model.session.run
    run(output_name, {input_name: images[:BATCH]})
    start = time.perf_counter()
    for i in range(0, len(images), BATCH):
        run(output_name, {input_name: images[i:i + BATCH]})
    return len(images) / (time.perf_counter() - start)


def pandas_udf_over(make_run):
    """A pandas UDF from [N, 784] pixels to [N, 10] scores; `make_run()` gives the function
    (batch -> scores), made once per Spark task, as runnel.spark.predict loads its graph
    once per worker."""
    import pandas as pd
    from pyspark.sql import functions
    made = []

    def scores(pixels: pd.Series) -> pd.Series:
        if not made:
            made.append(make_run())
        return pd.Series(list(made[0](np.stack(pixels.to_numpy()))))

    return functions.pandas_udf(scores, "array<float>")


def tensorflow_run(path, input_name, output_name):
    def make():
        import tensorflow as tf
        graph_def = tf.compat.v1.GraphDef()
        with open(path, "rb") as f:
            graph_def.ParseFromString(f.read())
        with tf.Graph().as_default() as graph:
            tf.import_graph_def(graph_def, name="")
        session = tf.compat.v1.Session(graph=graph, config=tf.compat.v1.ConfigProto(
            intra_op_parallelism_threads=1, inter_op_parallelism_threads=1))
        return lambda batch: session.run(output_name, {input_name: batch})
    return make


def bench_inference(rounds):
    import pandas as pd
    from runnel import spark as runnel_spark
    from runnel.datasets import fashion_mnist
    (x, _), (x_test, _) = fashion_mnist.load_data()
    images = (np.concatenate([x, x_test]).reshape(-1, 784) / 255.0).astype(np.float32)
    with tempfile.TemporaryDirectory() as directory:
        path, input_name, output_name = frozen_mlp(directory)
        np.save(os.path.join(directory, "images.npy"), images)
        subprocess.run([os.path.join(ROOT, "build/bin/runnel-run"), path, "--input",
                        f"{input_name.split(':')[0]}={directory}/images.npy", "--output",
                        output_name.split(":")[0], "--save", directory], check=True,
                       stdout=subprocess.DEVNULL)
        reference = np.load(os.path.join(directory, output_name.split(":")[0].replace("/", "_")
                                         + ".npy"))
        session = spark_session(1)
        frame = session.createDataFrame(pd.DataFrame({"id": np.arange(len(images)),
                                                      "pixels": list(images)})).cache()
        frame.count()
        runnel_df = runnel_spark.predict(frame, path, {"pixels": input_name},
                                         {output_name: "scores"})
        got = runnel_df.select("id", "scores").toPandas().sort_values("id")
        got = np.stack(got["scores"])
        _, tf_out = tensorflow_loop(path, input_name, output_name, images)
        print(f"Runnel on Spark against runnel-run: max difference "
              f"{np.abs(got - reference).max():.2g}, the same class for "
              f"{np.mean(got.argmax(1) == reference.argmax(1)):.4%} of {len(got):,} rows; "
              f"against TensorFlow: max difference {np.abs(got - tf_out).max():.2g}")
        jobs = {
            "Runnel (runnel.spark.predict)": runnel_df,
            "TensorFlow, the same pandas UDF": frame.withColumn("scores", pandas_udf_over(
                tensorflow_run(path, input_name, output_name))("pixels")),
            "no model (a UDF returning zeros)": frame.withColumn("scores", pandas_udf_over(
                lambda: lambda batch: np.zeros((len(batch), 10), np.float32))("pixels")),
        }
        rates = {name: [] for name in list(jobs) + ["Runnel loop", "TensorFlow loop"]}
        for _ in range(rounds):
            for name, job in jobs.items():
                start = time.perf_counter()
                job.select("id", "scores").write.mode("overwrite").parquet(
                    os.path.join(directory, "scores.parquet"))
                rates[name].append(len(images) / (time.perf_counter() - start))
            rates["Runnel loop"].append(runnel_loop(path, input_name, output_name, images))
            rates["TensorFlow loop"].append(
                tensorflow_loop(path, input_name, output_name, images)[0])
        session.stop()
    print(f"rows per second on one core (Spark local[1]: the cached DataFrame to Arrow "
          f"batches of {BATCH:,}, the UDF, the scores written to Parquet; loops: numpy "
          f"batches of {BATCH:,} fed to a one-thread session), median of {rounds} rounds:")
    tf_loop = np.array(rates["TensorFlow loop"])
    for name, values in rates.items():
        ratio = np.median(np.array(values) / tf_loop)
        print(f"  {name:34s} {np.median(values):9,.0f}   {ratio:.2f}x the TensorFlow loop")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", choices=["search", "inference", "both"],
                        default="both")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=5, help="search: epochs per trial")
    args = parser.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode, on the loopback
    if args.what in ("search", "both"):
        bench_search(args.rounds, args.epochs)
    if args.what in ("inference", "both"):
        bench_inference(args.rounds)


if __name__ == "__main__":
    main()
