"""Layer: the unit models are made of. Calling a layer on tensors builds its weights (once)
and its ops into the default graph, and records the call as a node, so that a Model can
find the layers between its inputs and outputs, and save or rebuild that structure."""
import inspect
import re

import numpy as np

from runnel.framework import dtypes
from runnel.framework import ops
from runnel.ops import array_ops
from runnel.ops import variables
from runnel.keras import backend
from runnel.keras import initializers
from runnel.keras import regularizers


def _snake_case(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def to_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def shape_of(tensor):
    """A tensor's static shape as a tuple with None for unknown dims."""
    return tuple(tensor.shape.as_list()) if tensor.shape.ndims is not None else None


class Node:
    """One call of `layer`: the tensors it took, the tensors it made, and the ops that call
    made to run with each training step (BatchNormalization's moving averages)."""

    def __init__(self, layer, inputs, outputs, arguments, updates=()):
        self.layer, self.inputs, self.outputs, self.arguments = layer, inputs, outputs, arguments
        self.updates = list(updates)


# Runnel's own layer and model classes by name, for rebuilding saved models: each class
# defined in runnel.keras registers itself (a user's classes come through custom_objects).
LAYER_CLASSES = {}


class Layer:
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("runnel.keras.") and not cls.__name__.startswith("_"):
            LAYER_CLASSES[cls.__name__] = cls

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None,
                 batch_input_shape=None, batch_size=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword arguments "
                            f"{sorted(kwargs)}")
        self.name = name or backend.unique_layer_name(_snake_case(type(self).__name__))
        self.trainable = trainable
        self.dtype = dtype or "float32"
        self.built = False
        self._weights = []
        self._losses = []
        self._call_updates = []     # made by the call in progress; its node copies them
        self._inbound_nodes = []
        if input_shape is not None and batch_input_shape is None:
            batch_input_shape = (batch_size,) + tuple(to_list(input_shape))
        self._batch_input_shape = tuple(batch_input_shape) if batch_input_shape else None

    # --- weights ------------------------------------------------------------------------
    def add_weight(self, name, shape, initializer="zeros", regularizer=None, trainable=True,
                   dtype=None):
        init = initializers.get(initializer)
        dtype = dtypes.as_dtype(dtype or self.dtype)
        shape = [int(d) for d in shape]
        with ops.name_scope(None), ops.name_scope(self.name + "/"):
            weight = variables.Variable(lambda: init(shape, dtype), name=name, dtype=dtype)
        weight._keras_trainable = trainable
        self._weights.append(weight)
        regularizer = regularizers.get(regularizer)
        if regularizer is not None:
            with ops.name_scope(f"{self.name}/{name}/regularizer"):
                self._losses.append(regularizer(weight.value()))
        return weight

    @property
    def weights(self):
        return list(self._weights)

    @property
    def trainable_weights(self):
        return [w for w in self._weights if self.trainable and w._keras_trainable]

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    @property
    def losses(self):
        """Regularization penalties of this layer's weights (added to the training loss)."""
        return list(self._losses)

    def add_update(self, updates):
        """Ops the current call makes that each training step must run."""
        self._call_updates.extend(to_list(updates))

    @property
    def updates(self):
        return [u for node in self._inbound_nodes for u in node.updates]

    def get_weights(self):
        return backend.batch_get_value(self.weights)

    def set_weights(self, weights):
        mine = self.weights  # a Model's: its layers' weights
        if len(weights) != len(mine):
            raise ValueError(f"{type(self).__name__} {self.name!r} has {len(mine)} weights "
                             f"({[w.name for w in mine]}), got {len(weights)} arrays")
        for w, value in zip(mine, weights):
            expected = tuple(w.shape.as_list())
            if np.shape(value) != expected:
                raise ValueError(f"{type(self).__name__} {self.name!r}: weight {w.name} has "
                                 f"shape {expected}, got an array of shape {np.shape(value)}")
        backend.batch_set_value(zip(mine, weights))

    def count_params(self):
        return int(sum(np.prod(w.shape.as_list()) for w in self.weights))

    # --- calls ---------------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, **kwargs):
        return inputs

    # Masks: a [batch, time] boolean tensor rides on a sequence tensor (`_keras_mask`), made
    # by Masking or Embedding(mask_zero=True). A layer whose call takes `mask` gets its
    # inputs' masks; compute_mask gives its outputs' (by default: passed on by the layers
    # that support masking, dropped by the others).
    supports_masking = False

    def compute_mask(self, inputs, mask=None):
        return mask if self.supports_masking else None

    def __call__(self, inputs, **kwargs):
        tensors = to_list(inputs)
        for t in tensors:
            if not isinstance(t, ops.Tensor):
                raise TypeError(f"layer {self.name!r} was called on {t!r}; call layers on "
                                "symbolic tensors (keras.Input, or another layer's output)")
        shapes = [shape_of(t) for t in tensors]
        if not self.built:
            self.build(shapes if isinstance(inputs, (list, tuple)) else shapes[0])
            self.built = True
        masks = [getattr(t, "_keras_mask", None) for t in tensors]
        mask = masks if isinstance(inputs, (list, tuple)) else masks[0]
        call_kwargs = dict(kwargs)
        if any(m is not None for m in masks) and \
                "mask" in inspect.signature(self.call).parameters:
            call_kwargs["mask"] = mask
        self._call_updates = []  # none left from a call that failed
        with ops.name_scope(self.name):
            outputs = self.call(inputs, **call_kwargs)
            out_masks = self.compute_mask(inputs, mask)
        node = Node(self, tensors, to_list(outputs), kwargs, self._call_updates)
        out_masks = out_masks if isinstance(out_masks, (list, tuple)) else \
            [out_masks] + [None] * (len(node.outputs) - 1)
        for t, m in zip(node.outputs, out_masks):
            t._keras_mask = m
        for i, t in enumerate(node.outputs):
            t._keras_history = (self, len(self._inbound_nodes), i)
        self._inbound_nodes.append(node)
        return outputs

    @property
    def input(self):
        inputs = self._only_node().inputs
        return inputs[0] if len(inputs) == 1 else inputs

    @property
    def output(self):
        outputs = self._only_node().outputs
        return outputs[0] if len(outputs) == 1 else outputs

    @property
    def output_shape(self):
        return shape_of(self.output)

    def _only_node(self):
        if not self._inbound_nodes:
            raise AttributeError(f"layer {self.name!r} has not been called yet, so it has no "
                                 "input or output")
        return self._inbound_nodes[0]

    # --- configuration -------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class InputLayer(Layer):
    """Where data enters a model: a placeholder of shape batch_input_shape."""

    def __init__(self, input_shape=None, batch_size=None, dtype=None, batch_input_shape=None,
                 name=None, sparse=False, **kwargs):
        if input_shape is None and batch_input_shape is None:
            raise ValueError("an Input needs its shape (input_shape or batch_input_shape)")
        super().__init__(name=name or backend.unique_layer_name("input"), dtype=dtype,
                         input_shape=input_shape, batch_input_shape=batch_input_shape,
                         batch_size=batch_size, **kwargs)
        self.built = True
        with ops.name_scope(None):
            placeholder = array_ops.placeholder(dtypes.as_dtype(self.dtype),
                                                list(self._batch_input_shape), name=self.name)
        placeholder._keras_history = (self, 0, 0)
        self._inbound_nodes.append(Node(self, [], [placeholder], {}))

    def get_config(self):
        return {"batch_input_shape": list(self._batch_input_shape), "dtype": self.dtype,
                "name": self.name}


def Input(shape=None, batch_size=None, name=None, dtype=None, batch_shape=None,  # noqa: N802
          tensor=None, **kwargs):
    """A symbolic input of `shape` (without the batch dim) to start a functional model."""
    if tensor is not None:
        raise NotImplementedError("Input(tensor=...) is not supported; feed data through fit")
    if shape is None and batch_shape is None:
        raise ValueError("Input needs shape= (the shape of one example, e.g. (28, 28, 1))")
    layer = InputLayer(input_shape=shape, batch_size=batch_size, name=name, dtype=dtype,
                       batch_input_shape=batch_shape, **kwargs)
    return layer.output
