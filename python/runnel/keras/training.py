"""Model: the layers between some inputs and outputs, and how to train them (compile, fit,
evaluate, predict). The model is the graph its layers built in the default graph; training
adds the loss, metrics and optimizer's updates to it once, and each batch is one
session.run."""
import collections
import inspect
import math

import numpy as np

from runnel.framework import dtypes
from runnel.framework import ops
from runnel.ops import array_ops
from runnel.ops import control_flow_ops
from runnel.ops import gen_ops
from runnel.ops import math_ops
from runnel.keras import backend
from runnel.keras import callbacks as callbacks_lib
from runnel.keras import losses as losses_lib
from runnel.keras import metrics as metrics_lib
from runnel.keras import optimizers
from runnel.keras import saving
from runnel.keras.base_layer import Input, Layer, shape_of, to_list


def _history(tensor):
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        raise ValueError(f"{tensor.name} is not the output of a Keras layer: a Model's inputs "
                         "come from keras.Input and its outputs from layers")
    return history


class Model(Layer):
    """Model(inputs, outputs): the layers that lead from `inputs` (keras.Input tensors) to
    `outputs`."""

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        super().__init__(name=name or backend.unique_layer_name(
            "model" if type(self) is Model else type(self).__name__.lower()), **kwargs)
        self.optimizer = None
        self.stop_training = False
        self._compiled = None
        # Made on first use after compile: the training op, the targets' placeholders, the
        # loss function of each output and the loss training minimizes.
        self._train_op, self._targets, self._loss_fns = None, [], []
        self._sample_weights = []  # per output: [batch] weights of each sample's loss
        self.total_loss = None
        # _nodes: the calls from the inputs to the outputs, in call order.
        self.inputs, self.outputs, self._layers, self._nodes = [], [], [], []
        if inputs is not None and outputs is not None:
            self._init_graph(to_list(inputs), to_list(outputs))

    # --- topology ------------------------------------------------------------------------
    def _init_graph(self, inputs, outputs):
        for t in inputs:
            layer, _, _ = _history(t)
            if not layer._inbound_nodes or layer._inbound_nodes[0].inputs:
                raise ValueError(f"model inputs must be keras.Input tensors; {t.name} comes "
                                 f"from layer {layer.name!r}")
        self.inputs, self.outputs = inputs, outputs
        seen, order = set(), []
        input_ids = {id(t) for t in inputs}

        def visit(tensor):
            layer, node_index, _ = _history(tensor)
            node = layer._inbound_nodes[node_index]
            if id(node) in seen:
                return
            seen.add(id(node))
            if not node.inputs and id(tensor) not in input_ids:
                raise ValueError(f"the outputs depend on {tensor.name}, which is not among "
                                 "the model's inputs")
            for t in node.inputs:
                visit(t)
            order.append(node)

        for t in outputs:
            visit(t)
        self._nodes = order
        self._layers = []
        for node in order:
            if node.layer not in self._layers:
                self._layers.append(node.layer)
        self.built = True
        self._train_op = None

    # --- subclassed models: class M(keras.Model) with its own call ----------------------
    def _is_subclassed(self):
        return type(self).call is not Model.call

    def _tracked_layers(self):
        """The layers a subclassed model holds in its attributes (lists too), in order."""
        found = []
        for value in vars(self).values():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, Layer) and item is not self and item not in found:
                    found.append(item)
        return found

    def build(self, input_shape):
        """A subclassed model's graph: its call on inputs of `input_shape` (a shape with
        the batch dim, or a list of them)."""
        if not self._is_subclassed() or self.outputs:
            return
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        self._build_from(shapes, [self.dtype] * len(shapes))

    def _build_from(self, shapes, dtypes_):
        inputs = [Input(batch_shape=tuple(shape), dtype=dtype,
                        name=f"input_{k + 1}" if len(shapes) > 1 else "input")
                  for k, (shape, dtype) in enumerate(zip(shapes, dtypes_))]
        outputs = to_list(self.call(inputs if len(inputs) > 1 else inputs[0]))
        for t in outputs:
            if not isinstance(t, ops.Tensor):
                raise TypeError(f"model {self.name!r}: call must return tensors, got {t!r}")
        self.inputs, self.outputs = inputs, outputs
        self._layers = self._tracked_layers()
        self._nodes = []
        self.built = True
        self._train_op = None

    @property
    def layers(self):
        """The layers from the inputs to the outputs, each once, in call order (a
        subclassed model's: those its attributes hold)."""
        if self._is_subclassed() and not self._layers:
            return self._tracked_layers()
        return list(self._layers)

    @property
    def weights(self):
        unique = []
        for layer in self.layers:
            for w in layer.weights:
                if w not in unique:
                    unique.append(w)
        return unique

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def losses(self):
        return [loss for layer in self.layers for loss in layer.losses]

    @property
    def updates(self):
        """What each training step must also run (batch norms' moving averages): that of
        the calls between this model's inputs and outputs only, since a layer also used
        elsewhere (in a model nesting this one, or nested in it) has other calls too."""
        if self._is_subclassed():
            return [u for layer in self.layers for node in layer._inbound_nodes
                    for u in node.updates]
        return [u for node in self._nodes for u in node.updates]

    @property
    def input_names(self):
        return [_history(t)[0].name for t in self.inputs]

    @property
    def output_names(self):
        if self._is_subclassed():
            return [f"output_{k + 1}" for k in range(len(self.outputs))]
        return [_history(t)[0].name for t in self.outputs]

    def get_layer(self, name=None, index=None):
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; the layers are "
                         f"{[layer.name for layer in self.layers]}")

    @property
    def input(self):
        return self.inputs[0] if len(self.inputs) == 1 else self.inputs

    @property
    def output(self):
        return self.outputs[0] if len(self.outputs) == 1 else self.outputs

    def call(self, inputs, training=None):
        """The model used as a layer: its layers called again, in order, from `inputs`
        (the same weights; new ops). The updates those calls make are this call's.
        `training=False` keeps Dropout off and BatchNormalization on its moving averages
        inside (fine-tuning a frozen base), whatever the learning phase."""
        given = to_list(inputs)
        if len(given) != len(self.inputs):
            raise ValueError(f"model {self.name!r} takes {len(self.inputs)} inputs "
                             f"({self.input_names}), got {len(given)}")
        made = {id(t): g for t, g in zip(self.inputs, given)}
        for node in self._nodes:
            if not node.inputs:
                continue  # an InputLayer
            args = [made[id(t)] for t in node.inputs]
            arguments = dict(node.arguments)
            if training is not None and \
                    "training" in inspect.signature(node.layer.call).parameters:
                arguments["training"] = training
            outputs = node.layer(args if len(args) > 1 else args[0], **arguments)
            made.update(zip(map(id, node.outputs), to_list(outputs)))
            self.add_update(node.layer._inbound_nodes[-1].updates)
        outputs = [made[id(t)] for t in self.outputs]
        return outputs[0] if len(outputs) == 1 else outputs

    def _ensure_built(self, x):
        if self.built:
            return
        if self._is_subclassed() and x is not None and not _is_generator(x):
            arrays = [np.asarray(a) for a in (x if isinstance(x, (list, tuple)) else [x])]
            self._build_from([(None,) + a.shape[1:] for a in arrays],
                             ["float32" if a.dtype == np.float64 else a.dtype.name
                              for a in arrays])
            return
        raise ValueError(f"model {self.name!r} has no inputs yet: give its first layer an "
                         "input_shape, or build it with keras.Input (a subclassed model: "
                         "call it on arrays, or build(input_shape))")

    # --- training ------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                **kwargs):
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='mse' or "
                             "loss='sparse_categorical_crossentropy'")
        unknown = set(kwargs) - {"weighted_metrics", "run_eagerly", "steps_per_execution"}
        if unknown:
            raise TypeError(f"compile: unexpected arguments {sorted(unknown)}")
        for item in loss.values() if isinstance(loss, dict) else to_list(loss):
            losses_lib.get(item)  # an unknown name fails here, listing the valid ones
        self.optimizer = optimizers.get(optimizer)
        self._compiled = (loss, metrics or [], loss_weights)
        self._train_op = None
        self.loss = loss

    def _per_output(self, value, what):
        names = self.output_names
        if isinstance(value, dict):
            missing = set(value) - set(names)
            if missing:
                raise ValueError(f"{what} names outputs {sorted(missing)}; the model's outputs "
                                 f"are {names}")
            return [value.get(n) for n in names]
        if isinstance(value, (list, tuple)) and len(names) > 1:
            if len(value) != len(names):
                raise ValueError(f"{what} has {len(value)} entries for {len(names)} outputs")
            return list(value)
        return [value] * len(names)

    def _build_functions(self):
        """The loss, metrics and training op (once per compile)."""
        if self._train_op is not None:
            return
        if self._compiled is None:
            raise RuntimeError("You must compile your model before training/testing. Use "
                               "model.compile(optimizer, loss)")
        loss, metrics, loss_weights = self._compiled
        self._loss_fns = losses = [losses_lib.get(item)
                                   for item in self._per_output(loss, "loss")]
        weights = self._per_output(loss_weights, "loss_weights") if loss_weights is not None \
            else [1.0] * len(self.outputs)
        metric_lists = self._per_output(metrics, "metrics") if isinstance(metrics, dict) \
            else [metrics] * len(self.outputs)
        multi = len(self.outputs) > 1
        graph = self.outputs[0].graph
        with graph.as_default(), ops.name_scope("training"):
            # Sparse class ids may come as [N] or [N, 1]; other targets have the output's rank.
            self._targets = [array_ops.placeholder(
                dtypes.float32, None if fn is losses_lib.sparse_categorical_crossentropy
                or out.shape.ndims is None else [None] * out.shape.ndims, name=f"{name}_target")
                for out, fn, name in zip(self.outputs, losses, self.output_names)]
            named = collections.OrderedDict()
            total = 0.0
            self._sample_weights = []
            for out, target, fn, weight, name in zip(self.outputs, self._targets, losses,
                                                      weights, self.output_names):
                per_sample = fn(target, out)
                # Each sample's loss times its weight (ones unless fed), over the batch
                # size, as Keras 2 does.
                sample_weight = array_ops.placeholder_with_default(
                    array_ops.ones(array_ops.shape(per_sample)[:1]), [None],
                    name=f"{name}_sample_weights")
                self._sample_weights.append(sample_weight)
                rank = per_sample.shape.ndims or 1
                weights = gen_ops.reshape(sample_weight, [-1] + [1] * (rank - 1))
                mask = _loss_mask(out, per_sample)
                if mask is None:
                    value = math_ops.reduce_mean(per_sample * weights)
                else:  # over the valid (unmasked) entries only, as Keras 2 does
                    value = _masked_mean(per_sample * weights, mask)
                if multi:
                    named[f"{name}_loss"] = value
                total = total + weight * value
            for penalty in self.losses:
                total = total + penalty
            names = ["loss"] + list(named)
            tensors = [total] + list(named.values())
            for out, target, fn, name, wanted in zip(self.outputs, self._targets, losses,
                                                     self.output_names, metric_lists):
                for m in to_list(wanted or []):
                    metric_name, metric_fn = metrics_lib.get(m, fn, shape_of(out))
                    names.append(f"{name}_{metric_name}" if multi else metric_name)
                    per_sample = metric_fn(target, out)
                    mask = _loss_mask(out, per_sample)
                    tensors.append(math_ops.reduce_mean(per_sample) if mask is None
                                   else _masked_mean(per_sample, mask))
            self.metrics_names = names
            self._metric_tensors = tensors
            self.total_loss = total
            trainable = self.trainable_weights
            if not trainable:
                train_op = control_flow_ops.no_op()
            else:
                train_op = self.optimizer.get_updates(total, trainable)
            updates = self.updates
            self._train_op = control_flow_ops.group(train_op, *updates) if updates \
                else train_op

    # --- data ----------------------------------------------------------------------------
    def _arrays(self, data, tensors, names, what):
        """`data` (an array, a list, or a dict by name) as one array per tensor, checked
        against the tensors' shapes."""
        if data is None:
            raise ValueError(f"no {what} data given")
        if isinstance(data, dict):
            missing = [n for n in names if n not in data]
            if missing:
                raise ValueError(f"no {what} data for {missing}; got keys {sorted(data)}")
            data = [data[n] for n in names]
        per_tensor = isinstance(data, (list, tuple)) and (len(tensors) > 1 or (
            len(data) == 1 and isinstance(data[0], np.ndarray)))
        data = list(data) if per_tensor else [data]
        if len(data) != len(tensors):
            raise ValueError(f"the model expects {len(tensors)} {what} arrays ({names}), got "
                             f"{len(data)}")
        arrays = []
        for array, tensor, name in zip(data, tensors, names):
            array = np.asarray(array)
            if array.dtype == object:
                raise ValueError(f"{what} {name!r}: could not make an array of the data "
                                 "(rows of different lengths?)")
            expected = shape_of(tensor) if what == "input" else None
            if expected is not None:
                if array.ndim == len(expected) - 1 and expected[-1] == 1:
                    array = array[..., None]
                if array.ndim != len(expected) or any(
                        e is not None and e != a for e, a in zip(expected[1:], array.shape[1:])):
                    raise ValueError(
                        f"Error when checking input: expected {name} to have shape "
                        f"{tuple(expected[1:])} (plus the batch dim) but got an array of "
                        f"shape {array.shape}")
            if what == "input" and array.dtype != tensor.dtype.as_numpy_dtype:
                array = array.astype(tensor.dtype.as_numpy_dtype)
            arrays.append(array)
        return arrays

    def _standardize(self, x, y=None):
        """Inputs (and targets, once the loss is built) as checked arrays of the dtypes
        fed: the whole data once, or each batch of a generator."""
        xs = self._arrays(x, self.inputs, self.input_names, "input")
        ys = self._arrays(y, self.outputs, self.output_names, "target") if y is not None \
            else []
        sizes = {len(a) for a in xs + ys}
        if len(sizes) > 1:
            raise ValueError("Data cardinality is ambiguous: x sizes: "
                             f"{', '.join(str(len(a)) for a in xs)}; y sizes: "
                             f"{', '.join(str(len(a)) for a in ys)}. Make sure all arrays "
                             "contain the same number of samples.")
        ys = [self._check_target(array, out, fn, name).astype(np.float32, copy=False)
              for array, out, fn, name in zip(ys, self.outputs, self._loss_fns,
                                              self.output_names)]
        return xs, ys

    def _check_target(self, array, out, fn, name):
        """`array` checked as targets for `out` scored by the loss `fn` (class ids for a
        sparse loss, else the output's shape, a missing trailing dim of 1 added as Keras
        does)."""
        expected = shape_of(out)
        if expected is None:
            return array
        if fn is losses_lib.sparse_categorical_crossentropy:
            if array.ndim not in (len(expected) - 1, len(expected)) or (
                    array.ndim == len(expected) and array.shape[-1] != 1):
                raise ValueError(f"target {name!r}: sparse_categorical_crossentropy takes "
                                 f"class ids of shape {tuple(expected[:-1])}, got shape "
                                 f"{array.shape}")
            classes = expected[-1]
            if classes and array.size and (array.min() < 0 or array.max() >= classes):
                raise ValueError(f"target {name!r}: class ids must be in [0, {classes}), got "
                                 f"values from {array.min()} to {array.max()}")
            return array
        if array.ndim == len(expected) - 1 and expected[-1] == 1:
            array = array[..., None]
        if array.ndim != len(expected) or any(
                e is not None and e != a for e, a in zip(expected[1:], array.shape[1:])):
            hint = " (use sparse_categorical_crossentropy for class ids, or " \
                   "keras.utils.to_categorical)" if fn is losses_lib.categorical_crossentropy \
                else ""
            raise ValueError(f"target {name!r}: expected shape {tuple(expected[1:])} (plus the "
                             f"batch dim) to match the output, got {array.shape}{hint}")
        return array

    def _feed(self, xs, ys, training, ws=None):
        feed = dict(zip(self.inputs, xs))
        feed.update(zip(self._targets, ys))
        if ws is not None:
            feed.update((t, w) for t, w in zip(self._sample_weights, ws) if w is not None)
        if training:
            feed[backend.learning_phase()] = True
        return feed

    def _run_batch(self, session, xs, ys, training, ws=None):
        """The loss and metrics of one standardized batch (its samples' losses weighted by
        `ws`, one array or None per output), after a training step on it when
        `training`."""
        if not training:
            return session.run(self._metric_tensors, self._feed(xs, ys, False, ws))
        return session.run([self._train_op] + self._metric_tensors,
                           self._feed(xs, ys, True, ws))[1:]

    def _sample_weight_arrays(self, ys, sample_weight, class_weight):
        """Per output, each sample's weight (None: all 1): `sample_weight` (an array, or a
        list or dict by output) times the weight `class_weight` gives its class."""
        count = len(ys)
        if sample_weight is None:
            ws = [None] * count
        elif isinstance(sample_weight, dict) or (isinstance(sample_weight, (list, tuple))
                                                 and count > 1):
            ws = self._per_output(sample_weight, "sample_weight")
        elif count == 1:
            ws = [sample_weight]
        else:
            raise ValueError("sample_weight for a model of several outputs must be a list or "
                             "a dict by output")
        result = []
        for w, y, name in zip(ws, ys, self.output_names):
            if w is not None:
                w = np.asarray(w, np.float32)
                if w.shape != (len(y),):
                    raise ValueError(f"sample_weight for {name!r} must be a vector of one "
                                     f"weight per sample ({len(y)}), got shape {w.shape}")
            result.append(w)
        if class_weight is not None:
            per_output = self._per_output(class_weight, "class_weight") if count > 1 \
                else [class_weight]
            for k, (weights, y) in enumerate(zip(per_output, ys)):
                if not weights:
                    continue
                ids = (y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else
                       np.round(y.reshape(len(y), -1)[:, 0])).astype(np.int64)
                unknown = set(np.unique(ids).tolist()) - set(int(c) for c in weights)
                if unknown:
                    raise ValueError(f"class_weight has no weight for classes "
                                     f"{sorted(unknown)} of output {self.output_names[k]!r}")
                by_class = np.vectorize(lambda c: float(weights[c]))(ids).astype(np.float32)
                result[k] = by_class if result[k] is None else result[k] * by_class
        return result

    # --- fit / evaluate / predict ------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            **kwargs):
        if kwargs.pop("nb_epoch", None) is not None:
            raise TypeError("nb_epoch is Keras 1's name: use epochs")
        if kwargs:
            raise TypeError(f"fit: unexpected arguments {sorted(kwargs)}")
        batch_size = batch_size or 32
        self._ensure_built(None if _is_generator(x) else x)
        self._build_functions()
        val = validation_data
        if _is_generator(x):
            if class_weight is not None or sample_weight is not None:
                raise ValueError("fit: with a generator, yield (x, y, sample_weight) batches "
                                 "instead of passing sample_weight or class_weight")
            batches = self._generator_batches(x, steps_per_epoch)
            steps = steps_per_epoch or _len(x)
        else:
            xs, ys = self._standardize(x, y)
            ws = self._sample_weight_arrays(ys, sample_weight, class_weight)
            if validation_split and val is None:
                if not 0 < validation_split < 1:
                    raise ValueError(f"validation_split must be in (0, 1), got "
                                     f"{validation_split}")
                cut = math.floor(len(xs[0]) * (1 - validation_split))
                if cut == 0:
                    raise ValueError(f"Training data contains {len(xs[0])} samples, which "
                                     "is not sufficient to split it into a validation and "
                                     f"training set as validation_split={validation_split} "
                                     "asks")
                val = ([a[cut:] for a in xs], [a[cut:] for a in ys],
                       [None if w is None else w[cut:] for w in ws])
                xs, ys = [a[:cut] for a in xs], [a[:cut] for a in ys]
                ws = [None if w is None else w[:cut] for w in ws]
            n = len(xs[0])
            steps = math.ceil(n / batch_size)

            def batches(epoch):
                order = np.random.permutation(n) if shuffle else np.arange(n)
                for start in range(0, n, batch_size):
                    rows = order[start:start + batch_size]
                    yield ([a[rows] for a in xs], [a[rows] for a in ys],
                           [None if w is None else w[rows] for w in ws])
        if val is validation_data and val is not None and not _is_generator(val):
            if len(val) not in (2, 3):
                raise ValueError("validation_data must be (x_val, y_val) or (x_val, y_val, "
                                 "val_sample_weight)")
            vx, vy = self._standardize(val[0], val[1])
            val = (vx, vy, self._sample_weight_arrays(vy, val[2] if len(val) == 3 else None,
                                                      None))

        self.history = callbacks_lib.History()
        # As in Keras, the user's callbacks see the epoch's logs first (and may add to them,
        # like the learning rate), then the progress bar and the history.
        cbs = list(callbacks or []) + ([callbacks_lib.ProgbarLogger(verbose)] if verbose
                                       else []) + [self.history]
        params = {"epochs": epochs, "steps": steps, "verbose": verbose,
                  "batch_size": batch_size, "metrics": self.metrics_names}
        cblist = callbacks_lib.CallbackList(cbs, self, params)
        session = backend.get_session()
        self.stop_training = False
        cblist.on_train_begin({})
        for epoch in range(initial_epoch, epochs):
            cblist.on_epoch_begin(epoch, {})
            totals = np.zeros(len(self.metrics_names))
            seen = 0
            for step, batch in enumerate(batches(epoch)):
                if steps is not None and step >= steps:
                    break
                bx, by, bw = batch if len(batch) == 3 else (*batch, None)
                size = len(bx[0])
                cblist.on_train_batch_begin(step, {"batch": step, "size": size})
                values = self._run_batch(session, bx, by, training=True, ws=bw)
                totals += np.asarray(values, dtype=np.float64) * size
                seen += size
                logs = dict(zip(self.metrics_names, (totals / seen).tolist()))
                cblist.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(zip(self.metrics_names, (totals / max(seen, 1)).tolist()))
            if val is not None:
                val_values = self._evaluate_batches(
                    self._generator_batches(val, validation_steps) if _is_generator(val)
                    else _array_batches(*val[:2], batch_size, val[2]), validation_steps)
                epoch_logs.update({f"val_{k}": v for k, v in zip(self.metrics_names,
                                                                   val_values)})
            cblist.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cblist.on_train_end({})
        return self.history

    def _evaluate_batches(self, batches, steps=None):
        session = backend.get_session()
        totals, seen = np.zeros(len(self.metrics_names)), 0
        for step, batch in enumerate(batches(0) if callable(batches) else batches):
            if steps is not None and step >= steps:
                break
            bx, by, bw = batch if len(batch) == 3 else (*batch, None)
            size = len(bx[0])
            values = self._run_batch(session, bx, by, training=False, ws=bw)
            totals += np.asarray(values, dtype=np.float64) * size
            seen += size
        if not seen:
            raise ValueError("no data to evaluate on")
        return (totals / seen).tolist()

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None,
                 steps=None, return_dict=False, **kwargs):
        self._ensure_built(x)
        self._build_functions()
        if _is_generator(x):
            batches = self._generator_batches(x, steps)
        else:
            xs, ys = self._standardize(x, y)
            batches = _array_batches(xs, ys, batch_size or 32,
                                     self._sample_weight_arrays(ys, sample_weight, None))
        values = self._evaluate_batches(batches, steps)
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in zip(self.metrics_names, values)))
        if return_dict:
            return dict(zip(self.metrics_names, values))
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose=0, steps=None, **kwargs):
        self._ensure_built(x)
        session = backend.get_session()
        if _is_generator(x):
            batches = (b[0] for b in self._generator_batches(x, steps, targets=False)(0))
        else:
            xs, _ = self._standardize(x)
            n, size = len(xs[0]), batch_size or 32
            batches = ([a[i:i + size] for a in xs] for i in range(0, n, size))
        parts = [session.run(self.outputs, self._feed(bx, [], False)) for bx in batches]
        if not parts:
            raise ValueError("predict: no input data")
        outputs = [np.concatenate([p[i] for p in parts]) for i in range(len(self.outputs))]
        return outputs[0] if len(outputs) == 1 else outputs

    def predict_on_batch(self, x):
        self._ensure_built(x)
        xs, _ = self._standardize(x)
        outputs = backend.get_session().run(self.outputs, self._feed(xs, [], False))
        return outputs[0] if len(outputs) == 1 else outputs

    def train_on_batch(self, x, y):
        return self._on_batch(x, y, training=True)

    def test_on_batch(self, x, y):
        return self._on_batch(x, y, training=False)

    def _on_batch(self, x, y, training):
        self._ensure_built(x)
        self._build_functions()
        xs, ys = self._standardize(x, y)
        values = [float(v) for v in self._run_batch(backend.get_session(), xs, ys, training)]
        return values[0] if len(values) == 1 else values

    def _generator_batches(self, data, steps, targets=True):
        """Standardized batches from a keras.utils.Sequence (len batches per epoch, shuffled
        by its on_epoch_end) or a Python generator (`steps` per epoch, or until it ends)."""
        def items():
            if hasattr(data, "__getitem__") and hasattr(data, "__len__"):
                for i in range(len(data)):
                    yield data[i]
                if hasattr(data, "on_epoch_end"):
                    data.on_epoch_end()
                return
            for i, item in enumerate(data):
                yield item
                if steps is not None and i + 1 >= steps:
                    return

        def batches(epoch):
            for item in items():
                bx, by, bw = _split_batch(item, targets)
                xs, ys = self._standardize(bx, by)
                yield xs, ys, self._sample_weight_arrays(ys, bw, None)
        return batches

    # --- description -----------------------------------------------------------------
    def summary(self, line_length=None, print_fn=None):
        saving.print_summary(self, line_length, print_fn or print)

    def get_config(self):
        if self._is_subclassed():
            raise NotImplementedError(
                f"model {self.name!r} is subclassed: its call is Python code, so it has no "
                "config; save its weights (save_weights) and rebuild it from its class")
        return saving.functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return saving.model_from_config({"class_name": cls.__name__, "config": config},
                                        custom_objects)

    def to_json(self, **kwargs):
        return saving.to_json(self, **kwargs)

    def save(self, filepath, overwrite=True, include_optimizer=True, **kwargs):
        saving.save_model(self, filepath, overwrite, include_optimizer)

    def save_weights(self, filepath, overwrite=True, **kwargs):
        saving.save_weights(self, filepath)

    def load_weights(self, filepath, **kwargs):
        saving.load_weights(self, filepath)


def _loss_mask(output, per_sample):
    """The output's mask (padded steps of a sequence) as floats shaped like the per-sample
    loss, or None."""
    mask = getattr(output, "_keras_mask", None)
    if mask is None or per_sample.shape.ndims != mask.shape.ndims:
        return None
    return array_ops.cast(mask, per_sample.dtype)


def _masked_mean(values, mask):
    """The mean of `values` over the entries the mask keeps."""
    return math_ops.reduce_sum(values * mask) / math_ops.maximum(math_ops.reduce_sum(mask), 1.0)


def _is_generator(data):
    return data is not None and not isinstance(data, (np.ndarray, list, tuple, dict)) and (
        hasattr(data, "__next__") or hasattr(data, "__getitem__") and hasattr(data, "__len__")
        and not hasattr(data, "shape"))


def _len(data):
    try:
        return len(data)
    except TypeError:
        return None


def _split_batch(item, targets=True):
    if isinstance(item, tuple):
        if len(item) not in (1, 2, 3):
            raise ValueError(f"a generator must yield (x, y) or (x, y, sample_weight), got a "
                             f"tuple of {len(item)}")
        return item[0], (item[1] if len(item) > 1 else None), \
            (item[2] if len(item) > 2 else None)
    if targets:
        raise ValueError("a generator for fit/evaluate must yield (x, y) tuples")
    return item, None, None


def _array_batches(xs, ys, batch_size, ws=None):
    n = len(xs[0])
    ws = ws or [None] * len(ys)
    return lambda epoch: (([a[i:i + batch_size] for a in xs], [a[i:i + batch_size] for a in ys],
                           [None if w is None else w[i:i + batch_size] for w in ws])
                          for i in range(0, n, batch_size))
