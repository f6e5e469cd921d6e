"""Sequential, and the model-level functions of keras.models."""
from runnel.keras import backend
from runnel.keras.base_layer import InputLayer, Input, shape_of
from runnel.keras.training import Model
from runnel.keras.saving import (load_model, model_from_config, model_from_json,  # noqa: F401
                                 save_model)


class Sequential(Model):
    """A stack of layers, each taking the previous one's output. The first layer gives the
    input shape (input_shape=, input_dim=, an InputLayer or keras.Input(shape)); without one
    the model is built when it first sees data."""

    def __init__(self, layers=None, name=None):
        super().__init__(name=name or backend.unique_layer_name("sequential"))
        self._stack = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        history = getattr(layer, "_keras_history", None)
        if history is not None and isinstance(history[0], InputLayer):
            layer = history[0]  # keras.Input(shape=...) as the first entry
        if not hasattr(layer, "__call__") or not hasattr(layer, "get_config"):
            raise TypeError(f"Sequential.add takes a Keras layer, got {layer!r}")
        built_model = isinstance(layer, Model) and layer.built
        if built_model and (len(layer.inputs) != 1 or len(layer.outputs) != 1):
            raise ValueError(f"model {layer.name!r} has {len(layer.inputs)} inputs and "
                             f"{len(layer.outputs)} outputs; a Sequential's layers take one "
                             "and make one")
        if isinstance(layer, InputLayer):
            if self._stack or self.outputs:
                raise ValueError(f"{layer.name}: an input can only be a Sequential's first "
                                 "entry")
            self._start(layer.output)
            return
        shape = shape_of(layer.inputs[0]) if built_model else layer._batch_input_shape
        if not self._stack and not self.outputs and shape is not None:
            self._start(Input(batch_shape=shape, name=f"{layer.name}_input", dtype=layer.dtype))
        self._stack.append(layer)
        if self.outputs:
            self._connect([layer])

    def _start(self, input_tensor):
        self.inputs, self.outputs = [input_tensor], [input_tensor]

    def _connect(self, layers):
        output = self.outputs[0]
        for layer in layers:
            output = layer(output)
            if isinstance(output, list):
                raise ValueError(f"layer {layer.name!r} has several outputs; a Sequential "
                                 "model's layers must have one")
        self._init_graph(self.inputs, [output])

    def pop(self):
        raise NotImplementedError("Sequential.pop is not supported: the graph keeps the "
                                  "layer's ops; build a new model from model.layers[:-1]")

    def build(self, input_shape=None):
        """Connects the layers to an input of `input_shape` (batch dim included)."""
        if self.outputs:
            return
        if input_shape is None:
            raise ValueError("Sequential.build needs the input shape")
        self._start(Input(batch_shape=tuple(input_shape), name=f"{self.name}_input"))
        self._connect(self._stack)

    def _ensure_built(self, x):
        if self.outputs:
            return
        if x is None or not hasattr(x, "shape"):
            raise ValueError(f"model {self.name!r} is not built yet: give its first layer "
                             "input_shape=, or call build(input_shape) or fit it on an array")
        self.build((None,) + tuple(x.shape[1:]))

    @property
    def layers(self):
        """The added layers (known before the model is built; no InputLayer, as in Keras)."""
        return list(self._stack)

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "layers": [
            {"class_name": type(layer).__name__, "config": layer.get_config()}
            for layer in self._stack]}
        if self.inputs and not config["layers"][0]["config"].get("batch_input_shape"):
            config["layers"][0]["config"]["batch_input_shape"] = list(shape_of(self.inputs[0]))
        return config
