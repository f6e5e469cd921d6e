"""Describing and storing models: summary(), to_json / model_from_json, and save /
load_model in one file (a zip holding the architecture and compile settings as JSON, the
weights and the optimizer's state as .npy arrays), written to a temporary name and
renamed."""
import io
import json
import os
import zipfile

import numpy as np

from runnel.framework import file_io
from runnel.keras import backend
from runnel.keras import losses as losses_lib
from runnel.keras import optimizers
from runnel.keras.base_layer import LAYER_CLASSES, InputLayer, shape_of, to_list

_FORMAT = "runnel.keras/1"


def _layer_classes(custom_objects):
    classes = dict(LAYER_CLASSES, Functional=LAYER_CLASSES["Model"])
    classes.update(custom_objects or {})
    return classes


def functional_config(model):
    ids = {}
    for node in model._nodes:
        ids.setdefault(node.layer.name, []).append(node)

    def ref(tensor):
        layer, index, position = tensor._keras_history
        node = layer._inbound_nodes[index]
        return [layer.name, ids[layer.name].index(node), position]
    layers = []
    for layer in model.layers:
        layers.append({"class_name": type(layer).__name__, "name": layer.name,
                       "config": layer.get_config(),
                       "inbound_nodes": [[ref(t) + [node.arguments] for t in node.inputs]
                                         for node in ids[layer.name] if node.inputs]})
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": [ref(t) for t in model.inputs],
            "output_layers": [ref(t) for t in model.outputs]}


def model_from_config(config, custom_objects=None):
    """A new model (its layers in the default graph) from {'class_name', 'config'}."""
    classes = _layer_classes(custom_objects)
    class_name, config = config["class_name"], config["config"]
    if class_name == "Sequential":
        model = classes["Sequential"](name=config.get("name"))
        for entry in config["layers"]:
            model.add(_layer(classes, entry))
        model.trainable = config.get("trainable", True)
        return model
    made, outputs = {}, {}
    pending = list(config["layers"])
    while pending:
        progressed = False
        for entry in list(pending):
            layer = made.get(entry["name"]) or _layer(classes, entry)
            made[entry["name"]] = layer
            if entry["class_name"] == "InputLayer":
                outputs[(layer.name, 0)] = layer._inbound_nodes[0].outputs
                pending.remove(entry)
                progressed = True
                continue
            done = len([k for k in outputs if k[0] == layer.name])
            for node in entry["inbound_nodes"][done:]:
                keys = [(name, index) for name, index, _, _ in node]
                if not all(k in outputs for k in keys):
                    break
                args = [outputs[(name, index)][position] for name, index, position, _ in node]
                result = layer(args if len(args) > 1 else args[0], **node[0][3])
                outputs[(layer.name, done)] = to_list(result)
                done += 1
                progressed = True
            if done == len(entry["inbound_nodes"]):
                pending.remove(entry)
        if not progressed:
            raise ValueError(f"the model config's layers {[e['name'] for e in pending]} take "
                             "inputs no layer makes")

    def tensors(refs):
        return [outputs[(name, index)][position] for name, index, position in refs]
    model = classes["Model"](tensors(config["input_layers"]), tensors(config["output_layers"]),
                           name=config.get("name"))
    model.trainable = config.get("trainable", True)
    return model


def _layer(classes, entry):
    class_name = entry["class_name"]
    if class_name not in classes:
        raise ValueError(f"Unknown layer: {class_name!r}. Pass custom layers to load_model "
                         "with custom_objects={'Name': Class}")
    config = dict(entry["config"])
    return classes[class_name].from_config(config)


def _model_config(model):
    return {"class_name": "Sequential" if type(model).__name__ == "Sequential" else "Model",
            "config": model.get_config()}


def to_json(model, **kwargs):
    return json.dumps(dict(_model_config(model), keras_version="runnel",
                           backend="runnel"), **kwargs)


def model_from_json(json_string, custom_objects=None):
    return model_from_config(json.loads(json_string), custom_objects)


def _archive(meta, weights, state=()):
    """model.json, then weights/NNNNN.npy and optimizer/NNNNN.npy, as the bytes of one zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model.json", json.dumps(meta))
        _write_arrays(archive, "weights", weights)
        _write_arrays(archive, "optimizer", state)
    return buffer.getvalue()


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def _write_arrays(archive, prefix, arrays):
    for i, array in enumerate(arrays):
        archive.writestr(f"{prefix}/{i:05d}.npy", _npy(array))


def _read_arrays(archive, prefix):
    names = sorted(n for n in archive.namelist() if n.startswith(prefix + "/"))
    return [np.load(io.BytesIO(archive.read(n)), allow_pickle=False) for n in names]


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False")
    file_io.write_atomically(os.fspath(filepath), model_to_bytes(model, include_optimizer))


def model_to_bytes(model, include_optimizer=True):
    """What save_model writes, as bytes (to send a model to other processes)."""
    meta = {"format": _FORMAT, "model": _model_config(model)}
    if model._compiled is not None:
        loss, metrics, loss_weights = model._compiled
        meta["compile"] = {
            "loss": _loss_name(loss), "metrics": metrics, "loss_weights": loss_weights,
            "optimizer": optimizers.serialize(model.optimizer)}
    state = backend.batch_get_value(model.optimizer.weights) \
        if include_optimizer and model.optimizer is not None else []
    return _archive(meta, model.get_weights(), state)


def _loss_name(loss):
    if isinstance(loss, dict):
        return {k: losses_lib.serialize(losses_lib.get(v)) for k, v in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [losses_lib.serialize(losses_lib.get(v)) for v in loss]
    return losses_lib.serialize(losses_lib.get(loss))


def _open(filepath):
    """The archive at `filepath` (or in bytes) and its model.json."""
    if isinstance(filepath, (bytes, bytearray)):
        source, name = io.BytesIO(filepath), "the model bytes"
    else:
        source = name = os.fspath(filepath)
        if not os.path.exists(source):
            raise FileNotFoundError(f"no model file at {source}")
    try:
        archive = zipfile.ZipFile(source)
        meta = json.loads(archive.read("model.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise ValueError(f"{name} is not a model saved by runnel.keras ({e})") from None
    if meta.get("format") != _FORMAT:
        raise ValueError(f"{name}: unknown format {meta.get('format')!r}")
    return archive, meta


def load_model(filepath, custom_objects=None, compile=True):  # noqa: A002 (Keras's name)
    """The model saved at `filepath` (or given as model_to_bytes's bytes), with its weights
    and, when it was compiled, its optimizer and that optimizer's state (training resumes
    where it stopped)."""
    archive, meta = _open(filepath)
    where = filepath if not isinstance(filepath, (bytes, bytearray)) else "the model bytes"
    with archive:
        model = model_from_config(meta["model"], custom_objects)
        _set_all(model.weights, _read_arrays(archive, "weights"), where, "weights")
        settings = meta.get("compile")
        if compile and settings:
            model.compile(optimizer=optimizers.get(settings["optimizer"]),
                          loss=settings["loss"], metrics=settings["metrics"],
                          loss_weights=settings["loss_weights"])
            state = _read_arrays(archive, "optimizer")
            if state:
                model._build_functions()
                _set_all(model.optimizer.weights, state, where, "optimizer state")
    return model


def _set_all(variables, arrays, filepath, what):
    if len(arrays) != len(variables):
        raise ValueError(f"{filepath} holds {len(arrays)} {what} arrays, the model has "
                         f"{len(variables)}")
    for v, a in zip(variables, arrays):
        if tuple(v.shape.as_list()) != a.shape:
            raise ValueError(f"{filepath}: {what} for {v.name} has shape {a.shape}, expected "
                             f"{tuple(v.shape.as_list())}")
    backend.batch_set_value(zip(variables, arrays))


def save_weights(model, filepath):
    file_io.write_atomically(os.fspath(filepath), _archive(
        {"format": _FORMAT, "weights_only": True}, model.get_weights()))


def load_weights(model, filepath):
    archive, _ = _open(filepath)
    with archive:
        _set_all(model.weights, _read_arrays(archive, "weights"), filepath, "weights")


def print_summary(model, line_length, print_fn):
    functional = type(model).__name__ != "Sequential"
    widths = [33, 27, 12] + ([28] if functional else [])
    if line_length:
        widths[-1] = max(10, line_length - sum(widths[:-1]))
    total = sum(widths)
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if functional
                                                               else [])

    def row(fields):
        print_fn("".join(f" {str(f)[:w - 2]:<{w - 1}}" for f, w in zip(fields, widths)))
    print_fn(f'Model: "{model.name}"')
    print_fn("_" * total)
    row(headers)
    print_fn("=" * total)
    layers = model.layers  # a Sequential's have no InputLayer
    for i, layer in enumerate(layers):
        nodes = [n for n in model._nodes if n.layer is layer]
        shape = [shape_of(t) for n in nodes for t in n.outputs]
        shape = shape[0] if len(shape) == 1 else shape
        fields = [f"{layer.name} ({type(layer).__name__})", _shape_text(shape),
                  f"{layer.count_params()}"]
        if functional:
            sources = [f"{t._keras_history[0].name}[{t._keras_history[1]}]"
                       f"[{t._keras_history[2]}]" for n in nodes for t in n.inputs]
            fields.append(sources[0] if sources else "[]")
            row(fields)
            for extra in sources[1:]:
                row(["", "", "", extra])
        else:
            row(fields)
        print_fn(("=" if i == len(layers) - 1 else "_") * total)
    trainable = int(sum(np.prod(w.shape.as_list()) for w in model.trainable_weights))
    count = model.count_params()
    print_fn(f"Total params: {count:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {count - trainable:,}")
    print_fn("_" * total)


def _shape_text(shape):
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"
