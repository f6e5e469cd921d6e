"""Keras optimizers over Runnel's training ops, with Keras's names and defaults. The
learning rate lives in a variable once the optimizer is compiled into a model, so that
callbacks (ReduceLROnPlateau, LearningRateScheduler) and `K.set_value(opt.lr, x)` change
it between steps."""
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.ops import variables
from runnel.training import optimizer as tf_optimizers
from runnel.keras import backend
from runnel.keras._names import lookup


class Optimizer:
    """Keras's optimizer interface. Subclasses name their hyperparameters (`_HYPER`) and make
    the graph optimizer that applies the updates (`_make`)."""

    _HYPER = ()

    def __init__(self, learning_rate, name, **kwargs):
        lr = kwargs.pop("lr", None)  # Keras 2.0's name
        unknown = set(kwargs) - {"decay", "clipnorm", "clipvalue"}
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(unknown)}")
        if kwargs.get("decay") or kwargs.get("clipnorm") or kwargs.get("clipvalue"):
            raise NotImplementedError(f"{type(self).__name__}: decay, clipnorm and clipvalue "
                                      "are not supported; use LearningRateScheduler")
        self._learning_rate = float(lr if lr is not None else learning_rate)
        self._name = name
        self._lr_variable = None
        self.iterations = None
        self.weights = []   # once compiled: learning rate, iterations, then the slots

    @property
    def learning_rate(self):
        return self._lr_variable if self._lr_variable is not None else self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if self._lr_variable is not None:
            backend.set_value(self._lr_variable, float(value))
        else:
            self._learning_rate = float(value)

    lr = learning_rate

    def get_updates(self, loss, params):
        """The op that takes one step on `params` (variables) down `loss`."""
        return self._step(lambda opt: opt.minimize(loss, global_step=self.iterations,
                                                   var_list=params))

    def apply_gradients(self, grads_and_vars):
        """The op that takes one step with the given (gradient, variable) pairs."""
        return self._step(lambda opt: opt.apply_gradients(grads_and_vars,
                                                          global_step=self.iterations))

    def _step(self, make_op):
        graph = ops.get_default_graph()
        before = set(id(v) for v in graph.get_collection("variables"))
        with ops.name_scope(self._name):
            if self._lr_variable is None:
                self._lr_variable = variables.Variable(self._learning_rate, trainable=False,
                                                       name="learning_rate",
                                                       dtype=dtypes.float32)
                self.iterations = variables.Variable(0, trainable=False, name="iterations",
                                                     dtype=dtypes.int64)
        train_op = make_op(self._make(self._lr_variable.value()))
        # The state is this step's: compiling again makes new slots, and a saved model
        # holds only those its training op uses.
        self.weights = [self._lr_variable, self.iterations] + [
            v for v in graph.get_collection("variables") if id(v) not in before
            and v is not self._lr_variable and v is not self.iterations]
        return train_op

    def get_config(self):
        config = {"name": self._name, "learning_rate": float(backend.get_value(
            self._lr_variable) if self._lr_variable is not None else self._learning_rate)}
        config.update({h: getattr(self, h) for h in self._HYPER})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _make(self, learning_rate):
        raise NotImplementedError


class SGD(Optimizer):
    _HYPER = ("momentum", "nesterov")

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _make(self, lr):
        if self.momentum == 0 and not self.nesterov:
            return tf_optimizers.GradientDescentOptimizer(lr, name=self._name)
        return tf_optimizers.MomentumOptimizer(lr, self.momentum, name=self._name,
                                               use_nesterov=self.nesterov)


class _ZeroStartRMSProp(tf_optimizers.RMSPropOptimizer):
    """Keras starts the mean square at 0 where TensorFlow 1.x's RMSProp starts it at 1."""

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "rms")
            self._zeros_slot(v, "momentum")
            if self._centered:
                self._zeros_slot(v, "mg")


class RMSprop(Optimizer):
    _HYPER = ("rho", "momentum", "epsilon", "centered")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name="RMSprop", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = \
            float(rho), float(momentum), float(epsilon), bool(centered)

    def _make(self, lr):
        return _ZeroStartRMSProp(lr, decay=self.rho, momentum=self.momentum,
                                 epsilon=self.epsilon, centered=self.centered, name=self._name)


class Adam(Optimizer):
    _HYPER = ("beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="Adam", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _make(self, lr):
        return tf_optimizers.AdamOptimizer(lr, self.beta_1, self.beta_2, self.epsilon,
                                           name=self._name)


class Adagrad(Optimizer):
    _HYPER = ("initial_accumulator_value",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name="Adagrad", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)

    def _make(self, lr):
        return tf_optimizers.AdagradOptimizer(lr, self.initial_accumulator_value,
                                              name=self._name)


_OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adagrad": Adagrad}
_CLASSES = {c.__name__: c for c in (SGD, RMSprop, Adam, Adagrad)}


def get(identifier):
    """An optimizer for a name ('adam'), a serialized {'class_name', 'config'}, or itself."""
    if isinstance(identifier, dict):
        cls = lookup("optimizer class", _CLASSES, identifier["class_name"])
        return cls.from_config(identifier["config"])
    if isinstance(identifier, str):
        return lookup("optimizer", _OPTIMIZERS, identifier.lower())()
    if not isinstance(identifier, Optimizer):
        raise ValueError(f"Unknown optimizer: {identifier!r}. Give a name "
                         f"({', '.join(sorted(_OPTIMIZERS))}) or a keras.optimizers object")
    return identifier


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
