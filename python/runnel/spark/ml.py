"""A runnel.keras model as a Spark ML pipeline stage: `KerasEstimator(model=compiled
model).fit(df)` trains it data-parallel over the DataFrame's partitions (a features vector
or array column, a label column) in one of runnel.cluster.keras_training's modes, and
gives a `KerasModel`, whose `transform` adds a prediction column (the class for a
classifier's several outputs, the value for one output) by running the trained model,
frozen, with runnel.spark.predict. Both save and load as Spark ML stages (alone or inside a
Pipeline): parameters as Spark's metadata, the model as bytes beside it."""
import functools
import io

import numpy as np
from pyspark import keyword_only
from pyspark.ml import Estimator, Model
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasFeaturesCol, HasLabelCol, HasPredictionCol
from pyspark.ml.util import DefaultParamsReader, DefaultParamsWriter, MLReadable, MLReader, \
    MLWritable, MLWriter

from runnel.cluster import keras_training
from runnel.spark import batch


class _KerasParams(HasFeaturesCol, HasPredictionCol):
    outputCol = Param(Params._dummy(), "outputCol",
                      "a column for the model's whole output per row (empty: none)",
                      typeConverter=TypeConverters.toString)

    def __init__(self):
        super().__init__()
        self._setDefault(outputCol="")


class KerasEstimator(Estimator, _KerasParams, HasLabelCol, MLWritable, MLReadable):
    """KerasEstimator(model=compiled keras model, mode="synchronous", epochs=10,
    batchSize=32, frequency=10, numWorkers=0). numWorkers: the partitions trained side by
    side (0: Spark's default parallelism)."""

    mode = Param(Params._dummy(), "mode", "synchronous, averaging (every `frequency` "
                 "batches) or asynchronous (a parameter server on the driver)",
                 typeConverter=TypeConverters.toString)
    epochs = Param(Params._dummy(), "epochs", "passes over the data",
                   typeConverter=TypeConverters.toInt)
    batchSize = Param(Params._dummy(), "batchSize", "rows per training step",
                      typeConverter=TypeConverters.toInt)
    frequency = Param(Params._dummy(), "frequency", "averaging mode: batches between "
                      "averages", typeConverter=TypeConverters.toInt)
    numWorkers = Param(Params._dummy(), "numWorkers", "partitions trained side by side "
                       "(0: Spark's default parallelism)", typeConverter=TypeConverters.toInt)
    verbose = Param(Params._dummy(), "verbose", "1: a line per epoch",
                    typeConverter=TypeConverters.toInt)

    @keyword_only
    def __init__(self, model=None, featuresCol="features", labelCol="label",
                 predictionCol="prediction", outputCol="", mode="synchronous", epochs=10,
                 batchSize=32, frequency=10, numWorkers=0, verbose=0):
        super().__init__()
        self._setDefault(mode="synchronous", epochs=10, batchSize=32, frequency=10,
                         numWorkers=0, verbose=0)
        kwargs = dict(self._input_kwargs)
        model = kwargs.pop("model", None)
        self._model_bytes = None
        if model is not None:
            self.setModel(model)
        self._set(**kwargs)
        if self.getOrDefault(self.mode) not in keras_training.MODES:
            raise ValueError(f"mode must be one of {keras_training.MODES}, got "
                             f"{self.getOrDefault(self.mode)!r}")

    def setModel(self, model):
        """The compiled runnel.keras model to train (kept as bytes; `fit` leaves it as it
        was)."""
        from runnel.keras import saving
        if model.optimizer is None:
            raise ValueError("KerasEstimator needs a compiled model (model.compile(...))")
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise ValueError(f"KerasEstimator takes models of one input and one output; "
                             f"{model.name} has {len(model.inputs)} and {len(model.outputs)}")
        self._model_bytes = saving.model_to_bytes(model)
        return self

    def _fit(self, dataset):
        from runnel.keras import backend
        from runnel.keras import saving
        if self._model_bytes is None:
            raise ValueError("KerasEstimator has no model: pass model= or call setModel")
        context = dataset.sparkSession.sparkContext
        batch.check_workers(context)
        workers = self.getOrDefault(self.numWorkers) or context.defaultParallelism
        blocks = _blocks(dataset, self.getFeaturesCol(), self.getLabelCol(), workers)
        try:
            rows = blocks.map(lambda block: len(block[1])).collect()
            # The driver's Keras session stays the caller's: their models keep their values.
            with backend.isolated_session():
                model = saving.load_model(self._model_bytes)
                history = keras_training.train(
                    model, functools.partial(_map_blocks, blocks), rows,
                    epochs=self.getOrDefault(self.epochs),
                    batch_size=self.getOrDefault(self.batchSize),
                    mode=self.getOrDefault(self.mode),
                    frequency=self.getOrDefault(self.frequency),
                    ps_host=context.getConf().get("spark.driver.host"),
                    verbose=self.getOrDefault(self.verbose))
                trained = saving.model_to_bytes(model)
                frozen_graph = _freeze(model, backend.get_session())
        finally:
            blocks.unpersist()
        result = KerasModel(featuresCol=self.getFeaturesCol(),
                            predictionCol=self.getPredictionCol(),
                            outputCol=self.getOrDefault(self.outputCol))
        result._set_model(trained, *frozen_graph)
        result.history = history
        return self._copyValues(result)

    def write(self):
        return _Writer(self)

    @classmethod
    def read(cls):
        return _Reader(cls)


class KerasModel(Model, _KerasParams, MLWritable, MLReadable):
    """The trained model: `transform(df)` adds `predictionCol` (and `outputCol` when set);
    `keras_model()` gives it back as a runnel.keras model."""

    @keyword_only
    def __init__(self, featuresCol="features", predictionCol="prediction", outputCol=""):
        super().__init__()
        self._set(**self._input_kwargs)
        self._model_bytes = self._frozen = None
        self._input = self._output = None
        self.history = None

    def _set_model(self, model_bytes, frozen_graph, input_name, output_name):
        self._model_bytes, self._frozen = model_bytes, frozen_graph
        self._input, self._output = input_name, output_name

    def keras_model(self):
        """A runnel.keras model with the trained weights, in the default graph."""
        from runnel.keras import saving
        return saving.load_model(self._model_bytes)

    def _transform(self, dataset):
        from pyspark.sql import functions
        output = self.getOrDefault(self.outputCol) or "__runnel_output"
        out = batch.predict(dataset, self._frozen, {self.getFeaturesCol(): self._input},
                                   {self._output: output})
        values = out[output]
        if isinstance(out.schema[output].dataType, _array_type()):
            # argmax, as Spark's classifiers give it: a double
            single = functions.size(values) == 1
            index = functions.array_position(values, functions.array_max(values)) - 1
            prediction = functions.when(single, values[0]).otherwise(index)
        else:
            prediction = values
        out = out.withColumn(self.getPredictionCol(), prediction.cast("double"))
        return out if self.getOrDefault(self.outputCol) else out.drop(output)

    def write(self):
        return _Writer(self)

    @classmethod
    def read(cls):
        return _Reader(cls)


def _array_type():
    from pyspark.sql.types import ArrayType
    return ArrayType


def _freeze(model, session):
    """The model as a frozen graph: (bytes, input tensor name, output tensor name)."""
    from runnel.framework import graph_util
    output = model.outputs[0]
    graph_def = graph_util.convert_variables_to_constants(
        session, output.graph.as_graph_def(), [output.op.name])
    return graph_def.SerializeToString(), model.inputs[0].name, output.name


# --- the data, as one block of numpy arrays per partition ---------------------------------
def _blocks(dataset, features, label, workers):
    """An RDD of (partition index, x, y) arrays, one per partition, cached."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.ml.linalg import VectorUDT
    for name in (features, label):
        if name not in dataset.columns:
            raise ValueError(f"no column {name!r} in the DataFrame (it has "
                             f"{dataset.columns})")
    column = dataset[features]
    if isinstance(dataset.schema[features].dataType, VectorUDT):
        column = vector_to_array(column, "float32")
    rows = dataset.select(column.alias("x"), dataset[label].cast("float").alias("y"))
    packed = rows.repartition(workers).mapInPandas(_pack_partition,
                                                   "index int, x binary, y binary")
    return packed.rdd.map(_unpack).persist()


def _pack_partition(batches):
    from pyspark import TaskContext
    frames = list(batches)
    x = [np.stack(f["x"].to_numpy()) for f in frames if len(f)]
    y = [f["y"].to_numpy() for f in frames if len(f)]
    x = np.concatenate(x).astype(np.float32) if x else np.zeros((0, 0), np.float32)
    y = np.concatenate(y).astype(np.float32) if y else np.zeros(0, np.float32)
    import pandas as pd
    yield pd.DataFrame({"index": [TaskContext.get().partitionId()],
                        "x": [_npy(x)], "y": [_npy(y)]})


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _unpack(row):
    return (row["index"], np.load(io.BytesIO(row["x"])), np.load(io.BytesIO(row["y"])))


def _map_blocks(blocks, fn, payload):
    """fn(block, payload) on every block; the payload is broadcast, once per job."""
    broadcast = blocks.context.broadcast(payload)
    try:
        return blocks.map(functools.partial(_apply, fn, broadcast)).collect()
    finally:
        broadcast.destroy()


def _apply(fn, broadcast, block):
    return fn(block, broadcast.value)


# --- persistence: Spark ML's metadata, and the model's bytes beside it ---------------------
class _Writer(MLWriter):
    def __init__(self, instance):
        super().__init__()
        self.instance = instance

    def saveImpl(self, path):
        stage = self.instance
        extra = {"input": getattr(stage, "_input", None), "output": getattr(stage, "_output",
                                                                               None)}
        DefaultParamsWriter.saveMetadata(stage, path, self.sc, extraMetadata=extra)
        blobs = [(name, getattr(stage, attr)) for name, attr in
                 (("model", "_model_bytes"), ("frozen", "_frozen"))
                 if getattr(stage, attr, None) is not None]
        if blobs:
            spark = self.sparkSession
            spark.createDataFrame(blobs, "name string, data binary").coalesce(1) \
                .write.mode("overwrite").parquet(f"{path}/blobs")


class _Reader(MLReader):
    def __init__(self, cls):
        super().__init__()
        self.cls = cls

    def load(self, path):
        metadata = DefaultParamsReader.loadMetadata(path, self.sc)
        stage = self.cls()
        DefaultParamsReader.getAndSetParams(stage, metadata)
        stage._resetUid(metadata["uid"])
        try:
            blobs = {r["name"]: bytes(r["data"])
                     for r in self.sparkSession.read.parquet(f"{path}/blobs").collect()}
        except Exception:  # noqa: BLE001 - AnalysisException: saved without a model
            blobs = {}
        if isinstance(stage, KerasModel):
            stage._set_model(blobs.get("model"), blobs.get("frozen"), metadata.get("input"),
                             metadata.get("output"))
        else:
            stage._model_bytes = blobs.get("model")
        return stage
