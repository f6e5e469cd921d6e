"""Optimizers with TensorFlow 1.x's interface: compute_gradients, apply_gradients and
minimize. Each update is a fused C++ kernel writing the variable in place."""
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework.api_export import tf_export
from runnel.ops import array_ops
from runnel.ops import control_flow_ops
from runnel.ops import gen_ops
from runnel.ops import gradients as gradients_lib
from runnel.ops import variables


@tf_export("train.Optimizer")
class Optimizer:
    def __init__(self, use_locking, name):
        if not name:
            raise ValueError("an optimizer needs a name")
        self._use_locking = use_locking
        self._name = name

    def get_name(self):
        return self._name

    def compute_gradients(self, loss, var_list=None, gate_gradients=1, aggregation_method=None,
                          colocate_gradients_with_ops=False, grad_loss=None):
        """[(gradient or None, variable)] for `var_list` (default: trainable variables)."""
        if var_list is None:
            var_list = variables.trainable_variables()
        if not var_list:
            raise ValueError("no variables to optimize")
        grads = gradients_lib.gradients(loss, list(var_list), grad_ys=grad_loss)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        grads_and_vars = [(g, v) for g, v in grads_and_vars if g is not None]
        if not grads_and_vars:
            raise ValueError("no gradients provided for any variable")
        self._create_slots([v for _, v in grads_and_vars])
        with ops.name_scope(name or self._name):
            self._prepare()
            updates = []
            for g, v in grads_and_vars:  # each update runs where its variable lives
                with ops.colocate_with(v):
                    updates.append(self._apply_dense(g, v).op)
            updates = self._finish(updates)
            if global_step is None:
                return control_flow_ops.group(*updates, name="update")
            with ops.control_dependencies(updates):
                return gen_ops.assign_add(global_step._ref(),
                                          array_ops.cast(1, global_step.dtype)).op

    # --- slots: per-variable state such as momentum ---------------------------------------
    def _create_slots(self, var_list):
        pass

    def _prepare(self):
        pass

    def _finish(self, update_ops):
        return update_ops

    def _zeros_slot(self, var, slot_name, value=0.0):
        """A non-trainable variable shaped like `var`, named `<var>/<optimizer>`."""
        slots = self.__dict__.setdefault("_slots", {}).setdefault(slot_name, {})
        if var in slots:
            return slots[var]
        graph = var.graph
        # Outside any control context (minimize under control_dependencies(UPDATE_OPS)):
        # the slot's initializer must not wait for the training step's update ops. On the
        # variable's device: the update op reads both.
        with graph.as_default(), graph.name_scope(""), graph.control_dependencies(None), \
                graph._in_cond_context(None), graph.colocate_with(var.op):
            if var.shape.is_fully_defined():
                initial = gen_ops.fill(var.shape.as_list(),
                                       ops.convert_to_tensor(value, dtype=var.dtype.base_dtype))
            else:
                initial = array_ops.zeros_like(var.initial_value) + value
            slot = variables.Variable(initial, trainable=False, name=f"{var.op.name}/{self._name}",
                                      collections=[variables.GraphKeys.GLOBAL_VARIABLES])
        slots[var] = slot
        return slot

    def get_slot(self, var, name):
        return self.__dict__.get("_slots", {}).get(name, {}).get(var)

    def get_slot_names(self):
        return sorted(self.__dict__.get("_slots", {}))

    def _scalar(self, value, var):
        """A hyperparameter as a tensor of the variable's dtype."""
        dtype = var.dtype.base_dtype
        if isinstance(value, ops.Tensor):
            return array_ops.cast(value, dtype)
        return ops.convert_to_tensor(value, dtype=dtype)

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=1,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        grads_and_vars = self.compute_gradients(loss, var_list=var_list, grad_loss=grad_loss)
        missing = [v.name for g, v in grads_and_vars if g is None]
        if len(missing) == len(grads_and_vars):
            raise ValueError(f"no gradients for any variable; check that the loss depends on "
                             f"them: {missing}")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def _apply_dense(self, grad, var):
        raise NotImplementedError


@tf_export("train.GradientDescentOptimizer")
class GradientDescentOptimizer(Optimizer):
    """var -= learning_rate * gradient."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _apply_dense(self, grad, var):
        return gen_ops.apply_gradient_descent(var._ref(), self._scalar(self._learning_rate, var),
                                              grad, use_locking=self._use_locking)


@tf_export("train.MomentumOptimizer")
class MomentumOptimizer(Optimizer):
    """accum = momentum * accum + grad; var -= lr * accum (or the Nesterov form)."""

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super().__init__(use_locking, name)
        self._learning_rate, self._momentum, self._nesterov = learning_rate, momentum, use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "momentum")

    def _apply_dense(self, grad, var):
        return gen_ops.apply_momentum(var._ref(), self.get_slot(var, "momentum")._ref(),
                                      self._scalar(self._learning_rate, var), grad,
                                      self._scalar(self._momentum, var),
                                      use_locking=self._use_locking, use_nesterov=self._nesterov)


@tf_export("train.AdagradOptimizer")
class AdagradOptimizer(Optimizer):
    """accum += grad^2; var -= lr * grad / sqrt(accum)."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        if initial_accumulator_value <= 0:
            raise ValueError("initial_accumulator_value must be positive")
        super().__init__(use_locking, name)
        self._learning_rate, self._initial = learning_rate, initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "accumulator", self._initial)

    def _apply_dense(self, grad, var):
        return gen_ops.apply_adagrad(var._ref(), self.get_slot(var, "accumulator")._ref(),
                                     self._scalar(self._learning_rate, var), grad,
                                     use_locking=self._use_locking)


@tf_export("train.RMSPropOptimizer")
class RMSPropOptimizer(Optimizer):
    """RMSProp, optionally with momentum and centered (dividing by the variance)."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False,
                 centered=False, name="RMSProp"):
        super().__init__(use_locking, name)
        self._learning_rate, self._decay, self._momentum = learning_rate, decay, momentum
        self._epsilon, self._centered = epsilon, centered

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "rms", 1.0)
            self._zeros_slot(v, "momentum")
            if self._centered:
                self._zeros_slot(v, "mg")

    def _apply_dense(self, grad, var):
        hyper = [self._scalar(h, var) for h in
                 (self._learning_rate, self._decay, self._momentum, self._epsilon)]
        rms, mom = self.get_slot(var, "rms")._ref(), self.get_slot(var, "momentum")._ref()
        if self._centered:
            return gen_ops.apply_centered_rms_prop(var._ref(), self.get_slot(var, "mg")._ref(),
                                                   rms, mom, *hyper, grad,
                                                   use_locking=self._use_locking)
        return gen_ops.apply_rms_prop(var._ref(), rms, mom, *hyper, grad,
                                      use_locking=self._use_locking)


@tf_export("train.AdamOptimizer")
class AdamOptimizer(Optimizer):
    """Adam (Kingma & Ba), with TensorFlow's epsilon placement and bias correction through
    the beta1_power / beta2_power variables."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        self._learning_rate, self._beta1, self._beta2, self._epsilon = \
            learning_rate, beta1, beta2, epsilon
        self._powers = None

    def _create_slots(self, var_list):
        first = min(var_list, key=lambda v: v.name)
        if self._powers is None:
            graph = first.graph
            with graph.as_default(), graph.name_scope(""):
                self._powers = (
                    variables.Variable(float(self._beta1), trainable=False, name="beta1_power",
                                       dtype=first.dtype.base_dtype),
                    variables.Variable(float(self._beta2), trainable=False, name="beta2_power",
                                       dtype=first.dtype.base_dtype))
        for v in var_list:
            self._zeros_slot(v, "m")
            self._zeros_slot(v, "v")

    def _apply_dense(self, grad, var):
        b1p, b2p = (array_ops.cast(p.value(), var.dtype.base_dtype) for p in self._powers)
        return gen_ops.apply_adam(var._ref(), self.get_slot(var, "m")._ref(),
                                  self.get_slot(var, "v")._ref(), b1p, b2p,
                                  self._scalar(self._learning_rate, var),
                                  self._scalar(self._beta1, var), self._scalar(self._beta2, var),
                                  self._scalar(self._epsilon, var), grad,
                                  use_locking=self._use_locking)

    def _finish(self, update_ops):
        with ops.control_dependencies(update_ops):
            b1, b2 = self._powers
            return update_ops + [b1.assign(b1.value() * self._beta1).op,
                                 b2.assign(b2.value() * self._beta2).op]


@tf_export("train.get_or_create_global_step")
def get_or_create_global_step(graph=None):
    graph = graph or ops.get_default_graph()
    steps = graph.get_collection(variables.GraphKeys.GLOBAL_STEP)
    if steps:
        return steps[0]
    with graph.as_default(), graph.name_scope(""):
        step = variables.Variable(0, trainable=False, name="global_step", dtype=dtypes.int64,
                                  collections=[variables.GraphKeys.GLOBAL_VARIABLES,
                                               variables.GraphKeys.GLOBAL_STEP])
    return step


@tf_export("train.get_global_step")
def get_global_step(graph=None):
    steps = (graph or ops.get_default_graph()).get_collection(variables.GraphKeys.GLOBAL_STEP)
    return steps[0] if steps else None
