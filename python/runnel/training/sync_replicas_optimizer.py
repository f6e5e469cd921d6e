"""tf.train.SyncReplicasOptimizer: synchronous data-parallel training, as TensorFlow 1.x does
it. Each worker puts its gradients into a ConditionalAccumulator per variable (on the
variable's ps task) and then waits for a token from a queue; the chief's queue runner takes
the average of `replicas_to_aggregate` gradients from every accumulator, applies it with
the wrapped optimizer, advances the global step and releases the workers with new tokens.
A gradient computed at an older global step than the accumulators' is stale and dropped.
"""
from runnel.framework import ops
from runnel.framework.api_export import tf_export
from runnel.ops import array_ops
from runnel.ops import control_flow_ops
from runnel.ops import data_flow_ops
from runnel.ops import gen_ops
from runnel.ops import variables
from runnel.training import coordinator
from runnel.training import optimizer as optimizer_lib
from runnel.training import session_run_hook


@tf_export("train.SyncReplicasOptimizer")
class SyncReplicasOptimizer(optimizer_lib.Optimizer):
    """Aggregates `replicas_to_aggregate` workers' gradients per step before applying them.

    `opt = tf.train.SyncReplicasOptimizer(tf.train.AdamOptimizer(), 2, 2)`;
    `train_op = opt.minimize(loss, global_step)`; run it in a MonitoredTrainingSession with
    `opt.make_session_run_hook(is_chief)` among the hooks.
    """

    def __init__(self, opt, replicas_to_aggregate, total_num_replicas=None,
                 variable_averages=None, variables_to_average=None, use_locking=False,
                 name="sync_replicas"):
        super().__init__(use_locking, name)
        if variable_averages is not None:
            raise NotImplementedError("variable_averages is not supported")
        if total_num_replicas is None:
            total_num_replicas = replicas_to_aggregate
        self._opt = opt
        self._replicas_to_aggregate = int(replicas_to_aggregate)
        self._total_num_replicas = int(total_num_replicas)
        self._tokens_per_step = max(self._total_num_replicas, self._replicas_to_aggregate)
        self._gradients_applied = False
        self._global_step = None
        self._sync_token_queue = None
        self._chief_queue_runner = None
        self.local_step_init_op = None
        self.chief_init_op = None
        self.ready_for_local_init_op = None

    def compute_gradients(self, *args, **kwargs):
        return self._opt.compute_gradients(*args, **kwargs)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        if global_step is None:
            raise ValueError("SyncReplicasOptimizer needs the global_step")
        if self._gradients_applied:
            raise ValueError("apply_gradients may be called only once")
        grads_and_vars = [(g, v) for g, v in grads_and_vars if g is not None]
        if not grads_and_vars:
            raise ValueError("no gradients provided for any variable")
        self._global_step = global_step
        # The local step lives on this worker: a no-op made here anchors it.
        local_anchor = gen_ops.no_op(name="sync_rep_local_anchor")
        with ops.colocate_with(local_anchor):
            self._local_step = variables.Variable(
                array_ops.zeros([], global_step.dtype.base_dtype), trainable=False,
                collections=[variables.GraphKeys.LOCAL_VARIABLES], name="sync_rep_local_step")
        self.local_step_init_op = self._local_step.assign(global_step.value()).op
        chief_init_ops = [self.local_step_init_op]
        self.ready_for_local_init_op = _all_initialized(variables.global_variables())

        train_ops, aggregated, var_list, accumulators = [], [], [], []
        with ops.name_scope(name or self._name):
            for grad, var in grads_and_vars:
                var_list.append(var)
                with ops.device(var.device):
                    accumulator = data_flow_ops.ConditionalAccumulator(
                        grad.dtype, shape=var.shape,
                        shared_name=var.name + "/grad_accum")
                    train_ops.append(accumulator.apply_grad(grad,
                                                            local_step=self._local_step.value()))
                    aggregated.append(accumulator.take_grad(self._replicas_to_aggregate))
                    accumulators.append((accumulator, var.device))
            with ops.device(global_step.device), ops.name_scope(""):
                update_op = self._opt.apply_gradients(list(zip(aggregated, var_list)),
                                                      global_step)
                self._sync_token_queue = data_flow_ops.FIFOQueue(
                    -1, global_step.dtype.base_dtype, shapes=(), name="sync_token_q",
                    shared_name="sync_token_q")
                # Workers wait for a token after handing in their gradients.
                with ops.control_dependencies(train_ops):
                    token = self._sync_token_queue.dequeue()
                train_op = self._local_step.assign(token).op
                with ops.control_dependencies([update_op]):
                    # A read made after the update: the tokens carry the new step.
                    tokens = gen_ops.fill([self._tokens_per_step], global_step.read_value())
                    sync_op = self._sync_token_queue.enqueue_many((tokens,))
                self._chief_queue_runner = coordinator.QueueRunner(None, [sync_op])
            for accumulator, device in accumulators:
                with ops.device(device):
                    chief_init_ops.append(accumulator.set_global_step(global_step.value()))
            self.chief_init_op = control_flow_ops.group(*chief_init_ops)
        self._gradients_applied = True
        return train_op

    def get_chief_queue_runner(self):
        self._check_applied("get_chief_queue_runner")
        return self._chief_queue_runner

    def get_init_tokens_op(self, num_tokens=-1):
        """Fills the token queue so the workers can start (the chief runs it once)."""
        self._check_applied("get_init_tokens_op")
        if num_tokens == -1:
            num_tokens = self._replicas_to_aggregate
        elif num_tokens < self._tokens_per_step - self._replicas_to_aggregate:
            raise ValueError(f"num_tokens must be at least "
                             f"{self._tokens_per_step - self._replicas_to_aggregate}")
        if num_tokens == 0:
            return gen_ops.no_op(name="no_init_tokens")
        with ops.device(self._global_step.device), ops.name_scope(""):
            tokens = gen_ops.fill([num_tokens], self._global_step.value())
            return self._sync_token_queue.enqueue_many((tokens,))

    def make_session_run_hook(self, is_chief, num_tokens=-1):
        return _SyncReplicasHook(self, is_chief, num_tokens)

    def get_slot(self, *args, **kwargs):
        return self._opt.get_slot(*args, **kwargs)

    def get_slot_names(self, *args, **kwargs):
        return self._opt.get_slot_names(*args, **kwargs)

    def _check_applied(self, what):
        if not self._gradients_applied:
            raise ValueError(f"{what} needs apply_gradients (or minimize) first")


def _all_initialized(var_list):
    """A bool tensor: whether every variable of `var_list` is initialized."""
    if not var_list:
        return ops.convert_to_tensor(True)
    flags = []
    for v in var_list:
        with ops.colocate_with(v):
            flags.append(gen_ops.is_variable_initialized(v._ref()))
    return gen_ops.all(array_ops.stack(flags), ops.convert_to_tensor(0))


class _SyncReplicasHook(session_run_hook.SessionRunHook):
    """Runs the local (or chief) init op once the shared variables are ready; on the chief,
    fills the token queue and starts the aggregating queue runner."""

    def __init__(self, optimizer, is_chief, num_tokens):
        self._optimizer = optimizer
        self._is_chief = is_chief
        self._num_tokens = num_tokens

    def begin(self):
        opt = self._optimizer
        opt._check_applied("the SyncReplicasOptimizer hook")
        self._local_init_op = opt.chief_init_op if self._is_chief else opt.local_step_init_op
        self._ready = opt.ready_for_local_init_op
        self._runner = opt.get_chief_queue_runner() if self._is_chief else None
        self._init_tokens = opt.get_init_tokens_op(self._num_tokens) if self._is_chief else None

    def after_create_session(self, session, coord):
        if not session.run(self._ready):
            raise RuntimeError("the model is not ready for SyncReplicasOptimizer's local init: "
                               "some global variables are not initialized")
        session.run(self._local_init_op)
        if self._init_tokens is not None:
            session.run(self._init_tokens)
        if self._runner is not None:
            self._runner.create_threads(session, coord=coord, daemon=True, start=True)


