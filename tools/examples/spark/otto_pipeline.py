"""A Spark ML pipeline for Otto-style tabular data (93 count features, 9 classes):
StringIndexer -> VectorAssembler -> StandardScaler -> a runnel.keras MLP trained
data-parallel by runnel.spark.KerasEstimator, in each mode (synchronous: averaged every
epoch; averaging: every --frequency batches; asynchronous: a parameter server on the
driver), against the same model trained in one process. The fitted pipeline is saved and
loaded as Spark ML persistence.

    python3 tools/examples/spark/otto_pipeline.py [--csv train.csv] [--workers 2]

Without --csv it uses synthetic Otto-like data (tools/examples/keras/mlp_classifier.py's).
"""
import argparse
import tempfile

import numpy as np
import pandas as pd
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.feature import StandardScaler, StringIndexer, VectorAssembler
from pyspark.sql import SparkSession

import runnel.spark
from runnel import keras

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--csv", help="Kaggle's Otto train.csv (id, feat_1..feat_93, target)")
parser.add_argument("--examples", type=int, default=20000)
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--workers", type=int, default=2)
parser.add_argument("--frequency", type=int, default=10)
args = parser.parse_args()


def synthetic(n, rng):
    priors = np.array([3, 26, 13, 4, 4, 23, 5, 14, 8], np.float64)
    classes = rng.choice(9, size=n, p=priors / priors.sum())
    base = rng.lognormal(-1.0, 1.0, size=93)
    profiles = base * rng.lognormal(0.0, 0.5, size=(9, 93))
    counts = rng.poisson(profiles[classes] * rng.lognormal(0.0, 0.8, size=(n, 93)))
    frame = pd.DataFrame(counts, columns=[f"feat_{i + 1}" for i in range(93)])
    frame["target"] = [f"Class_{c + 1}" for c in classes]
    return frame


def mlp():
    model = keras.Sequential([
        keras.layers.Dense(200, activation="relu", input_shape=(93,)),
        keras.layers.Dropout(0.2), keras.layers.Dense(50, activation="relu"),
        keras.layers.Dense(9, activation="softmax")])
    model.compile("rmsprop", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


if __name__ == "__main__":
    frame = pd.read_csv(args.csv).drop(columns="id") if args.csv else \
        synthetic(args.examples, np.random.default_rng(1))
    features = [c for c in frame.columns if c.startswith("feat_")]
    frame[features] = np.log1p(frame[features].astype(np.float64))
    cut = len(frame) * 4 // 5
    spark = (SparkSession.builder.master(f"local[{args.workers}]")
             .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    train = spark.createDataFrame(frame[:cut]).repartition(args.workers).cache()
    test = spark.createDataFrame(frame[cut:]).cache()
    prepare = [StringIndexer(inputCol="target", outputCol="label"),
               VectorAssembler(inputCols=features, outputCol="features"),
               StandardScaler(inputCol="features", outputCol="scaled", withMean=True)]

    # One process: the same scaling and model, trained by fit.
    indexer = prepare[0].fit(train)
    labels = {label: i for i, label in enumerate(indexer.labels)}
    x, x_test = frame[features][:cut].to_numpy(), frame[features][cut:].to_numpy()
    mean, std = x.mean(0), x.std(0, ddof=1)
    model = mlp()
    model.fit((x - mean) / std, frame["target"][:cut].map(labels).to_numpy(), batch_size=32,
              epochs=args.epochs, verbose=0)
    single = model.evaluate((x_test - mean) / std, frame["target"][cut:].map(labels).to_numpy(),
                            verbose=0)[1]
    print(f"one process: test accuracy {single:.4f}")
    for mode in ("synchronous", "averaging", "asynchronous"):
        estimator = runnel.spark.KerasEstimator(
            model=mlp(), featuresCol="scaled", labelCol="label", mode=mode, epochs=args.epochs,
            batchSize=32, frequency=args.frequency, numWorkers=args.workers)
        fitted = Pipeline(stages=prepare + [estimator]).fit(train)
        path = tempfile.mkdtemp() + "/otto"
        fitted.write().overwrite().save(path)
        predicted = PipelineModel.load(path).transform(test)
        accuracy = predicted.selectExpr("avg(cast(prediction = label as double))").first()[0]
        print(f"{mode}: test accuracy {accuracy:.4f} ({accuracy - single:+.4f} against one "
              f"process), loss per epoch {np.round(fitted.stages[-1].history['loss'], 4)}")
