"""Runnel on the cluster engines users already run (Spark, Dask): the engine-neutral parts
of runnel.spark and runnel.dask. `search` runs hyperparameter trials as tasks, `frozen`
runs a frozen graph over batches of rows, loaded once per worker process, and
`keras_training` trains one Keras model data-parallel over partitions."""
