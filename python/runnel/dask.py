"""Runnel on Dask (dask.distributed), in the cluster the user already runs:

- `search(train_fn, params, client=...)`: hyperparameter search, each trial a Dask task
  (runnel.cluster.search);
- `predict(ddf, graph, inputs, outputs)`: a frozen graph applied to a Dask DataFrame with
  map_partitions, the graph sent once to each worker (one task of the graph's bytes) and
  loaded once per worker process."""
import functools

from runnel.cluster import frozen
from runnel.cluster import search as search_lib


def search(train_fn, params, client=None, **kwargs):
    """runnel.cluster.search.search with engine="dask" (see there for the arguments)."""
    return search_lib.search(train_fn, params, engine="dask", client=client, **kwargs)


def predict(ddf, graph, inputs, outputs, threads=1):
    """`ddf` (a dask.dataframe.DataFrame) with the frozen graph's outputs as new columns;
    `graph`, `inputs`, `outputs` and `threads` as runnel.spark.predict's."""
    import dask
    import numpy as np
    import pandas as pd
    data, inputs, outputs, probe = frozen.prepare(graph, inputs, outputs, ddf.columns)
    meta = ddf._meta.copy()
    for column, dtype, rank in probe.output_specs():
        meta[column] = pd.Series([], dtype=np.dtype(dtype) if rank == 0 else object)
    return ddf.map_partitions(
        functools.partial(predict_partition, key=frozen.digest(data), inputs=inputs,
                          outputs=outputs, threads=threads),
        dask.delayed(data, pure=True), meta=meta)


def predict_partition(frame, data, key, inputs, outputs, threads):
    """map_partitions' function, on the workers: the partition with the outputs added."""
    frame = frame.copy()
    if len(frame):
        for column, values in frozen.load(data, key, inputs, outputs, threads).run(frame).items():
            frame[column] = values
    return frame
