"""Parallel hyperparameter search: each trial, `train_fn(params) -> metrics`, runs as one
task on the engine the user already has (Spark, Dask, or processes on this machine), builds
and trains its own Runnel graph there with one thread per kind by default, and comes back
as a row of a pandas DataFrame. A trial that raises is a row with its error, not the end of
the search."""
import concurrent.futures
import itertools
import multiprocessing
import numbers
import os
import socket
import threading
import time
import traceback
import warnings

import numpy as np

ENGINES = ("local", "spark", "dask")

# Keras's session and the default graph are per process: a worker process runs one trial
# at a time (Dask workers with several threads queue theirs here).
_trial_lock = threading.Lock()


def search(train_fn, params, engine="local", parallelism=None, metric=None, mode="max",
           num_samples=None, seed=0, threads_per_trial=1, spark=None, client=None,
           verbose=1, on_trial=None):
    """Runs `train_fn(params)` for every trial of `params` and returns a pandas DataFrame,
    one row per trial, best first.

    params: a grid, {"units": [64, 128], "lr": [1e-3, 1e-2], "epochs": 3} (every
        combination of the lists; other values fixed); a list of dicts, one per trial; or a
        sampler, `fn(rng) -> dict`, called `num_samples` times with a numpy Generator
        seeded by `seed`.
    train_fn: builds and trains a model, returns its metrics as a dict of numbers (or one
        number, named "score"); a "model" entry (bytes: a frozen graph, model_to_bytes)
        is kept for the best trial only.
    engine: "local" (this process, or `parallelism` spawned processes, which need a
        module-level train_fn; in this process each trial starts, as after
        keras.backend.clear_session(), on a fresh default graph, so the caller's graph and
        Keras session are cleared), "spark" (each trial a Spark job of one task; `spark`:
        a SparkSession or SparkContext, by default the active one) or "dask" (each trial
        a task; `client`: a distributed.Client, by default the current one).
    parallelism: trials at once (default: the engine's cores; 1 locally).
    metric, mode: the metric that ranks the trials ("max" or "min"); default the first
        metric the first finished trial returned.
    threads_per_trial: the intra- and inter-op threads of the sessions a trial makes
        (tf.config.threading), so trials side by side do not fight over cores.
    verbose: 1 prints a line as each trial finishes; on_trial(row) is called too.

    The DataFrame has a column per parameter and per metric, then "time_s", "worker",
    "error" (None, or the trial's exception with its traceback) and "model"; its
    attrs hold "metric", "mode" and "best_params".
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
    if not callable(train_fn):
        raise TypeError(f"train_fn must be callable, got {type(train_fn).__name__}")
    trials = expand_trials(params, num_samples, seed)
    runner = {"local": _run_local, "spark": _run_spark, "dask": _run_dask}[engine]
    progress = _Progress(len(trials), metric, mode, verbose, on_trial)
    results = runner(train_fn, trials, parallelism, threads_per_trial, progress,
                     spark=spark, client=client)
    return _frame(results, trials, progress)


def expand_trials(params, num_samples=None, seed=0):
    """The list of parameter dicts that `params` (grid, list or sampler) stands for."""
    if callable(params):
        if not num_samples or num_samples < 1:
            raise ValueError("a sampler needs num_samples >= 1 (how many trials to draw)")
        rng = np.random.default_rng(seed)
        trials = [params(rng) for _ in range(num_samples)]
    elif isinstance(params, dict):
        grid = {k: list(v) if isinstance(v, (list, tuple)) else [v] for k, v in params.items()}
        empty = [k for k, v in grid.items() if not v]
        if empty:
            raise ValueError(f"the grid has no values for {empty}")
        trials = [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
    elif isinstance(params, (list, tuple)):
        trials = list(params)
    else:
        raise TypeError("params must be a grid dict, a list of dicts or a sampler function, "
                        f"got {type(params).__name__}")
    for i, trial in enumerate(trials):
        if not isinstance(trial, dict):
            raise TypeError(f"trial {i}'s parameters must be a dict, got "
                            f"{type(trial).__name__}")
    if not trials:
        raise ValueError("no trials to run")
    return trials


def run_trial(train_fn, index, params, threads):
    """One trial, in whatever process the engine runs it: a fresh default graph and Keras
    session, `threads` threads per session, the metrics or the error, and how long."""
    from runnel.client import session
    from runnel.keras import backend
    with _trial_lock:
        saved = (session.get_intra_op_parallelism_threads(),
                 session.get_inter_op_parallelism_threads())
        session.set_intra_op_parallelism_threads(threads)
        session.set_inter_op_parallelism_threads(threads)
        backend.clear_session()
        start = time.perf_counter()
        metrics, model, error = {}, None, None
        try:
            metrics, model = _metrics(train_fn(dict(params)))
        except Exception as e:  # noqa: BLE001 - a failed trial is a result
            error = f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
        finally:
            backend.clear_session()
            session.set_intra_op_parallelism_threads(saved[0])
            session.set_inter_op_parallelism_threads(saved[1])
        return {"trial": index, "metrics": metrics, "model": model, "error": error,
                "time_s": time.perf_counter() - start,
                "worker": f"{socket.gethostname()}:{os.getpid()}"}


def _metrics(result):
    if isinstance(result, numbers.Number):
        return {"score": float(result)}, None
    if not isinstance(result, dict):
        raise TypeError("train_fn must return a dict of metrics or a number, got "
                        f"{type(result).__name__}")
    result = dict(result)
    model = result.pop("model", None)
    if model is not None and not isinstance(model, (bytes, bytearray)):
        raise TypeError(f"train_fn's 'model' must be bytes, got {type(model).__name__}")
    metrics = {}
    for name, value in result.items():
        if not isinstance(value, numbers.Number):
            raise TypeError(f"train_fn's metric {name!r} must be a number, got {value!r}")
        metrics[name] = float(value)
    return metrics, model


class _Progress:
    """Reports trials as they finish and keeps only the best trial's model bytes."""

    def __init__(self, total, metric, mode, verbose, on_trial):
        self.total, self.metric, self.mode = total, metric, mode
        self.verbose, self.on_trial = verbose, on_trial
        self.done, self.best, self.best_model = 0, None, None
        self._lock = threading.Lock()

    def finished(self, result, params):
        with self._lock:
            self.done += 1
            model, result["model"] = result["model"], None
            if result["error"] is None:
                if self.metric is None:
                    self.metric = next(iter(result["metrics"]), None)
                value = result["metrics"].get(self.metric)
                if value is None:
                    result["error"] = (f"train_fn returned no {self.metric!r} metric (it "
                                       f"returned {sorted(result['metrics'])})")
                elif self.best is None or self._better(value, self.best[1]):
                    self.best, self.best_model = (result["trial"], value), model
            if self.verbose:
                print(self._line(result, params), flush=True)
            if self.on_trial is not None:
                self.on_trial(dict(result, params=params))

    def _better(self, value, than):
        return value > than if self.mode == "max" else value < than

    def _line(self, result, params):
        head = f"trial {self.done}/{self.total} {params}"
        if result["error"] is not None:
            return f"{head} failed: {result['error'].splitlines()[0]}"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in result["metrics"].items())
        return f"{head}: {shown} in {result['time_s']:.1f} s (best {self.best[1]:.4g})"


def _frame(results, trials, progress):
    import pandas as pd
    metric, mode = progress.metric, progress.mode
    best = progress.best[0] if progress.best is not None else None
    rows = []
    for result in sorted(results, key=lambda r: r["trial"]):
        row = {"trial": result["trial"]}
        row.update(trials[result["trial"]])
        row.update(result["metrics"])
        row.update(time_s=result["time_s"], worker=result["worker"], error=result["error"],
                   model=progress.best_model if result["trial"] == best else None)
        rows.append(row)
    columns = list(dict.fromkeys(itertools.chain(
        ["trial"], *(t.keys() for t in trials), *(r["metrics"].keys() for r in results),
        ["time_s", "worker", "error", "model"])))
    frame = pd.DataFrame(rows, columns=columns)
    if metric in frame:
        frame = frame.sort_values(metric, ascending=mode == "min", na_position="last",
                                  kind="stable").reset_index(drop=True)
    frame.attrs.update(metric=metric, mode=mode,
                       best_params=trials[best] if best is not None else None)
    return frame


def _run_local(train_fn, trials, parallelism, threads, progress, **_):
    parallelism = parallelism or 1
    if parallelism == 1:
        results = []
        for i, params in enumerate(trials):
            results.append(run_trial(train_fn, i, params, threads))
            progress.finished(results[-1], params)
        return results
    # Fresh interpreters (spawn): forking a process that runs Runnel's threads is unsafe.
    # train_fn must be picklable: a module-level function.
    with concurrent.futures.ProcessPoolExecutor(
            parallelism, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run_trial, train_fn, i, params, threads): i
                   for i, params in enumerate(trials)}
        return _collect(futures, trials, progress)


def _run_spark(train_fn, trials, parallelism, threads, progress, spark=None, **_):
    context = spark_context(spark)
    parallelism = parallelism or context.defaultParallelism

    def one(i):
        # Each trial its own job of one task, from its own driver thread, as hyperopt's
        # SparkTrials does: trials finish (and are reported) in any order.
        context.setJobDescription(f"runnel search: trial {i + 1}/{len(trials)}")
        payload = (train_fn, i, trials[i], threads)
        return context.parallelize([payload], 1).map(lambda p: run_trial(*p)).collect()[0]

    with concurrent.futures.ThreadPoolExecutor(parallelism) as pool:
        futures = {pool.submit(one, i): i for i in range(len(trials))}
        return _collect(futures, trials, progress)


def spark_context(spark):
    if spark is None:
        from pyspark.sql import SparkSession
        spark = SparkSession.getActiveSession()
        if spark is None:
            raise ValueError("engine='spark' needs a running SparkSession (or pass spark=)")
    return getattr(spark, "sparkContext", spark)


def _run_dask(train_fn, trials, parallelism, threads, progress, client=None, **_):
    from distributed import as_completed, get_client
    client = client or get_client()
    nthreads = client.nthreads()
    if any(n > 1 for n in nthreads.values()):
        warnings.warn("Dask workers with several threads run one trial at a time each; "
                      "give them one thread each (threads_per_worker=1) to run trials side "
                      "by side", stacklevel=3)
    parallelism = parallelism or sum(nthreads.values())
    pending = iter(range(len(trials)))
    futures = {}

    def submit():
        i = next(pending, None)
        if i is not None:
            futures[client.submit(run_trial, train_fn, i, trials[i], threads, pure=False,
                                  key=f"runnel-trial-{i}-{time.time_ns()}")] = i
            return True
        return False

    while len(futures) < parallelism and submit():
        pass
    running = as_completed(list(futures))
    results = []
    for future in running:
        results.append(_result(future, futures[future], trials, progress))
        if submit():
            running.add(list(futures)[-1])
    return results


def _collect(futures, trials, progress):
    return [_result(f, futures[f], trials, progress)
            for f in concurrent.futures.as_completed(futures)]


def _result(future, index, trials, progress):
    """The trial's result, or its error when the task itself failed (a worker that died)."""
    try:
        result = future.result()
    except Exception as e:  # noqa: BLE001 - a lost task is a failed trial
        result = {"trial": index, "metrics": {}, "model": None, "time_s": float("nan"),
                  "worker": None, "error": f"the task failed: {type(e).__name__}: {e}"}
    progress.finished(result, trials[index])
    return result
