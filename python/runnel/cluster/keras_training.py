"""Data-parallel training of one runnel.keras model over partitions of rows, in the modes
of Elephas and Deeplearning4j:

- "synchronous": each epoch, every partition trains one pass over its rows from the same
  weights, and the driver averages the results (weighted by rows);
- "averaging": the same every `frequency` batches (Deeplearning4j's
  ParameterAveragingTrainingMaster), so an epoch is several rounds;
- "asynchronous": the driver serves the weights and the optimizer on a Runnel parameter
  server (tf.train.Server, job "ps"); each partition computes gradients on its batches,
  pushes them and gets the updated weights back in the same call (Downpour SGD).

The engine (runnel.spark) supplies `map_blocks(fn, payload)`: runs `fn(block, payload)` on
every block (a partition's rows as (index, x, y) arrays) and returns the results. The
functions run there are at module level, so the workers import them."""
import math
import socket

import numpy as np

from runnel.cluster import frozen

MODES = ("synchronous", "averaging", "asynchronous")

# The worker process's model: (key, model), reloaded when another model (or a cleared
# Keras session) takes its place.
_model = [None, None]


def train(model, map_blocks, block_rows, epochs, batch_size, mode="synchronous",
          frequency=None, ps_host=None, verbose=0):
    """Trains the compiled `model` over the blocks; returns {"loss": [per epoch]} and leaves
    the trained weights in `model`. `block_rows`: rows per block."""
    from runnel.keras import saving
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if model.optimizer is None:
        raise ValueError("compile the model before fitting it")
    if mode == "averaging" and (not isinstance(frequency, int) or frequency < 1):
        raise ValueError(f"mode 'averaging' needs frequency >= 1 (batches between "
                         f"averages), got {frequency!r}")
    if not block_rows or max(block_rows) == 0:
        raise ValueError("no rows to train on")
    data = saving.model_to_bytes(model, include_optimizer=False)
    spec = {"model": data, "key": frozen.digest(data), "batch_size": batch_size}
    if mode == "asynchronous":
        return _train_async(model, map_blocks, spec, epochs, ps_host, verbose)
    # The optimizer's state (its slots and step count) is averaged with the weights, as
    # Deeplearning4j averages its updaters: a round starts from the same state on every
    # block, whichever worker process ran which block before. None: freshly initialized.
    weights, optimizer_state, history = model.get_weights(), None, {"loss": []}
    per_round = frequency * batch_size if mode == "averaging" else max(block_rows)
    rounds = max(math.ceil(max(block_rows) / per_round), 1)
    for epoch in range(epochs):
        losses, rows = 0.0, 0
        for step in range(rounds):
            round_spec = dict(spec, weights=weights, optimizer_state=optimizer_state,
                              epoch=epoch, rows=(step * per_round, (step + 1) * per_round))
            results = [r for r in map_blocks(train_round, round_spec) if r[2]]
            counts = np.array([n for _, _, n, _ in results], np.float64)
            weights = _average([w for w, _, _, _ in results], counts)
            optimizer_state = _average([o for _, o, _, _ in results], counts)
            losses += sum(loss * n for _, _, n, loss in results)
            rows += counts.sum()
        history["loss"].append(losses / max(rows, 1))
        if verbose:
            print(f"epoch {epoch + 1}/{epochs}: loss {history['loss'][-1]:.4f}", flush=True)
    model.set_weights(weights)
    return history


def _average(lists, counts):
    """The element-wise average of lists of arrays, weighted by `counts`."""
    return [np.average(np.stack(arrays), axis=0, weights=counts).astype(arrays[0].dtype)
            for arrays in zip(*lists)]


def _worker_model(spec):
    """The worker's copy of the model (built once per process), compiled."""
    from runnel.framework import ops
    from runnel.keras import backend
    from runnel.keras import saving
    key, model = _model
    if key != spec["key"] or model is None or \
            model.outputs[0].graph is not ops.get_default_graph():
        backend.clear_session()
        model = saving.load_model(spec["model"])
        model._build_functions()
        _model[:] = [spec["key"], model]
    return model


def _epoch_order(block, epoch):
    """The block's rows in this epoch's order: shuffled, the same on every round."""
    index, x, _ = block
    return np.random.default_rng([index, epoch]).permutation(len(x))


def train_round(block, spec):
    """Trains on the block's rows `spec["rows"]` of this epoch's order from the given
    weights and optimizer state: (new weights, new optimizer state, rows trained, mean
    loss)."""
    from runnel.keras import backend
    _, x, y = block
    start, stop = spec["rows"]
    rows = _epoch_order(block, spec["epoch"])[start:stop]
    if not len(rows):
        return None, None, 0, 0.0
    model = _worker_model(spec)
    model.set_weights(spec["weights"])
    state = model.optimizer.weights
    if spec["optimizer_state"] is None:
        backend.get_session().run([v.initializer for v in state])
    else:
        backend.batch_set_value(zip(state, spec["optimizer_state"]))
    size, total = spec["batch_size"], 0.0
    for first in range(0, len(rows), size):
        batch = rows[first:first + size]
        loss = model.train_on_batch(x[batch], y[batch])
        total += (loss[0] if isinstance(loss, list) else loss) * len(batch)
    return (model.get_weights(), backend.batch_get_value(state), len(rows),
            total / len(rows))


# --- asynchronous: a parameter server on the driver ---------------------------------------
def _ps_graph(shapes, dtypes, optimizer):
    """The parameter server's graph, built the same on the driver and every worker
    (between-graph replication: the variables are shared by name): the trainable weights,
    and `push`, which applies fed gradients with the model's optimizer and then reads the
    weights back."""
    from runnel.framework import dtypes as dtypes_lib
    from runnel.framework import ops
    from runnel.keras import optimizers
    from runnel.ops import array_ops
    from runnel.ops import control_flow_ops
    from runnel.ops import gen_ops
    from runnel.ops import variables
    graph = ops.Graph()
    with graph.as_default(), ops.device("/job:ps/task:0"):
        weights = [variables.Variable(array_ops.placeholder(dtypes_lib.as_dtype(d), s,
                                                            name=f"initial_{i}"),
                                      name=f"weight_{i}")
                   for i, (s, d) in enumerate(zip(shapes, dtypes))]
        grads = [array_ops.placeholder(w.dtype.base_dtype, s, name=f"grad_{i}")
                 for i, (w, s) in enumerate(zip(weights, shapes))]
        apply = optimizers.get(optimizer).apply_gradients(list(zip(grads, weights)))
        with ops.control_dependencies([apply]):
            pushed = [gen_ops.identity(w) for w in weights]
        init = control_flow_ops.group(*[v.initializer for v in
                                        graph.get_collection("variables")])
    return {"graph": graph, "weights": weights, "grads": grads, "push": pushed, "init": init}


def _train_async(model, map_blocks, spec, epochs, ps_host, verbose):
    from runnel.client import session as session_lib
    from runnel.keras import backend
    from runnel.keras import optimizers
    from runnel.training import server_lib
    trainable = model.trainable_weights
    values = backend.batch_get_value(trainable)
    shapes = [list(v.shape) for v in values]
    dtypes = [v.dtype.name for v in values]
    optimizer = optimizers.serialize(model.optimizer)
    host = ps_host or socket.gethostname()
    port = _free_port()
    server = server_lib.Server({"ps": [f"{host}:{port}"]}, job_name="ps", task_index=0)
    try:
        ps = _ps_graph(shapes, dtypes, optimizer)
        session = session_lib.Session(server.target, graph=ps["graph"])
        feed = {ps["graph"].get_tensor_by_name(f"initial_{i}:0"): v
                for i, v in enumerate(values)}
        session.run(ps["init"], feed)
        results = map_blocks(train_async_block, dict(
            spec, ps=f"{host}:{port}", shapes=shapes, dtypes=dtypes, optimizer=optimizer,
            epochs=epochs))
        trained = session.run(ps["weights"])
        session.close()
    finally:
        server.stop()
    backend.batch_set_value(zip(trainable, trained))
    results = [r for r in results if r is not None]
    rows = [n for n, _ in results]
    history = {"loss": [float(np.average([losses[e] for _, losses in results], weights=rows))
                        for e in range(epochs)]}
    if verbose:
        print(f"asynchronous training: loss per epoch {history['loss']}", flush=True)
    return history


def _free_port():
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def train_async_block(block, spec):
    """All epochs over the block: per batch, local gradients pushed to the parameter
    server, whose answer (the weights after every push so far) the next batch starts from.
    Returns the block's rows and its mean loss in each epoch."""
    from runnel.client import session as session_lib
    from runnel.keras import backend
    from runnel.ops import gradients
    _, x, y = block
    if not len(x):
        return None
    model = _worker_model(spec)
    if getattr(model, "_async_grads", None) is None:
        model._async_grads = gradients.gradients(model.total_loss, model.trainable_weights)
    ps = _ps_graph(spec["shapes"], spec["dtypes"], spec["optimizer"])
    remote = session_lib.Session(f"runnel://{spec['ps']}", graph=ps["graph"])
    local = backend.get_session()
    try:
        weights = remote.run(ps["weights"])
        losses = []
        for epoch in range(spec["epochs"]):
            order, total = _epoch_order(block, epoch), 0.0
            for first in range(0, len(order), spec["batch_size"]):
                rows = order[first:first + spec["batch_size"]]
                backend.batch_set_value(zip(model.trainable_weights, weights))
                xs, ys = model._standardize(x[rows], y[rows])
                values = local.run([model.total_loss] + model._async_grads,
                                   model._feed(xs, ys, training=True))
                weights = remote.run(ps["push"], dict(zip(ps["grads"], values[1:])))
                total += float(values[0]) * len(rows)
            losses.append(total / len(order))
        return len(x), losses
    finally:
        remote.close()
