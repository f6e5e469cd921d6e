"""Optimizers with TensorFlow 1.x's interface: compute_gradients, apply_gradients and
minimize. Each update is a fused C++ kernel writing the variable in place."""
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.ops import array_ops
from runnel.ops import control_flow_ops
from runnel.ops import gen_ops
from runnel.ops import gradients as gradients_lib
from runnel.ops import variables


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
        with ops.name_scope(name or self._name):
            updates = [self._apply_dense(g, v).op for g, v in grads_and_vars]
            if global_step is None:
                return control_flow_ops.group(*updates, name="update")
            with ops.control_dependencies(updates):
                return gen_ops.assign_add(global_step._ref(),
                                          array_ops.cast(1, global_step.dtype)).op

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


class GradientDescentOptimizer(Optimizer):
    """var -= learning_rate * gradient."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _apply_dense(self, grad, var):
        lr = array_ops.cast(ops.convert_to_tensor(self._learning_rate), var.dtype.base_dtype) \
            if isinstance(self._learning_rate, ops.Tensor) else \
            ops.convert_to_tensor(self._learning_rate, dtype=var.dtype.base_dtype)
        return gen_ops.apply_gradient_descent(var._ref(), lr, grad, use_locking=self._use_locking)


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


def get_global_step(graph=None):
    steps = (graph or ops.get_default_graph()).get_collection(variables.GraphKeys.GLOBAL_STEP)
    return steps[0] if steps else None
