"""runnel.spark's batch inference (`predict`, a frozen graph as a pandas UDF) and the
check that Spark's Python workers can import runnel."""
import sys

import numpy as np

from runnel.cluster import frozen

_checked_contexts = set()


def predict(df, graph, inputs, outputs, threads=1):
    """`df` with the frozen graph's outputs as new columns.

    graph: a .pb path, its bytes, or a GraphDef. inputs: {column: tensor}, where a column
    holds arrays (reshaped to the tensor's per-row shape), numbers, Spark ML vectors, or
    PNG/JPEG bytes (decoded to [height, width, channels]), and a tuple of numeric columns
    feeds one tensor side by side. outputs: {tensor: new column}; a tensor of one value
    per row becomes a number column, others an array column (rows flattened).
    threads: the session threads per Python worker (a Spark task has one core by default).

    The graph runs in a pandas UDF (Arrow batches) that only sees the input columns; the
    other columns stay in Spark as they are.
    """
    import pandas as pd
    from pyspark.sql import functions
    data, inputs, outputs, probe = frozen.prepare(graph, inputs, outputs, df.columns)
    context = df.sparkSession.sparkContext
    check_workers(context)
    broadcast, key = context.broadcast(data), frozen.digest(data)

    def run_graph(rows: pd.DataFrame) -> pd.DataFrame:
        return predict_frame(rows, broadcast, key, inputs, outputs, threads)

    run = functions.pandas_udf(run_graph, _schema(probe.output_specs())).asNondeterministic()
    # Nondeterministic: Spark then runs the UDF once per row, not once per output field.
    result = "__runnel_outputs"
    out = df.withColumn(result, run(functions.struct(*_input_columns(df, inputs))))
    return out.select(*[out[c] for c in df.columns],
                      *[out[result][c].alias(c) for c in outputs.values()])


def predict_frame(rows, graph, key, inputs, outputs, threads):
    """The pandas UDF, on the workers: a DataFrame of the outputs for a batch of rows."""
    import pandas as pd
    model = frozen.load(graph.value, key, inputs, outputs, threads)
    return pd.DataFrame(model.run(rows), index=rows.index)


def _input_columns(df, inputs):
    """The input columns, Spark ML vectors as arrays."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.ml.linalg import VectorUDT
    columns = []
    for column in inputs:
        for name in column if isinstance(column, tuple) else (column,):
            if name not in df.columns:
                raise ValueError(f"no column {name!r} in the DataFrame (it has {df.columns})")
            value = df[name]
            if isinstance(df.schema[name].dataType, VectorUDT):
                value = vector_to_array(value, "float32").alias(name)
            columns.append(value)
    return columns


def _schema(outputs):
    from pyspark.sql import types
    scalars = {"float32": types.FloatType(), "float64": types.DoubleType(),
               "int32": types.IntegerType(), "int64": types.LongType(),
               "bool": types.BooleanType()}
    fields = []
    for column, dtype, rank in outputs:
        name = np.dtype(dtype).name
        if name not in scalars:
            raise ValueError(f"output column {column!r}: no Spark type for dtype {name}")
        kind = scalars[name] if rank == 0 else types.ArrayType(scalars[name])
        fields.append(types.StructField(column, kind))
    return types.StructType(fields)


def check_workers(context):
    """Runs a one-task job that imports runnel on a Python worker, once per SparkContext:
    a worker that cannot is an error naming the interpreter to use."""
    if id(context) in _checked_contexts:
        return
    try:
        context.parallelize([0], 1).map(_worker_python).collect()
    except Exception as e:  # noqa: BLE001 - py4j wraps the worker's error
        if "No module named 'runnel'" not in str(e):
            raise
        python = context.pythonExec
        raise RuntimeError(
            f"Spark's Python workers ({python}) cannot import runnel. Run them with the "
            f"interpreter that has it: PYSPARK_PYTHON={sys.executable} (or the Spark "
            "setting spark.pyspark.python) before the SparkContext starts, and runnel on "
            "their PYTHONPATH") from None
    _checked_contexts.add(id(context))


def _worker_python(_):
    return sys.executable
