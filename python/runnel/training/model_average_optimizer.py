"""Model averaging (TensorFlow contrib's ModelAverageOptimizer, Deeplearning4j's Spark
parameter averaging): each worker trains its own copy of the model for `average_iter`
steps with no traffic, then every worker's parameters are averaged on the ps and copied
back, in lockstep.

    getter = tf.train.ModelAverageCustomGetter(worker_device)
    with tf.device(tf.train.replica_device_setter(...)), \\
            tf.variable_scope("", custom_getter=getter):
        ... build the model with tf.layers / tf.get_variable ...
    opt = tf.train.ModelAverageOptimizer(tf.train.AdamOptimizer(), num_worker, is_chief,
                                         getter, average_iter=100)
    train_op = opt.minimize(loss, global_step)
    hooks = [opt.make_session_run_hook()]

The model's variables are local to the worker; the getter makes one global copy of each
on the ps. Each round every worker puts its parameters into an accumulator per variable;
the chief's queue runner takes the mean of `num_worker` of them, stores it in the global
copy, advances the global step by `average_iter` and releases the workers, which copy the
means back.
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

GLOBAL_VARIABLE_NAME = "global_center_variable"


@tf_export("train.ModelAverageCustomGetter")
class ModelAverageCustomGetter:
    """A variable_scope custom_getter: trainable variables are made on `worker_device` as
    local variables, each with a global copy made where the device scope puts variables."""

    def __init__(self, worker_device):
        self._worker_device = worker_device
        self._local_to_global = {}

    def __call__(self, getter, name, trainable=True, collections=None, **kwargs):
        if not trainable:
            return getter(name, trainable=trainable, collections=collections, **kwargs)
        with ops.device(self._worker_device):
            local = getter(name, trainable=True,
                           collections=[variables.GraphKeys.LOCAL_VARIABLES,
                                        variables.GraphKeys.TRAINABLE_VARIABLES], **kwargs)
        if local not in self._local_to_global:
            # Initialized the way the local copy is (on the chief, which initializes it),
            # so the model is ready once the chief has run its init op.
            self._local_to_global[local] = variables.Variable(
                local.initial_value, trainable=False, name=f"{GLOBAL_VARIABLE_NAME}/{name}")
        return local

    @property
    def local_to_global(self):
        return dict(self._local_to_global)


@tf_export("train.ModelAverageOptimizer")
class ModelAverageOptimizer(optimizer_lib.Optimizer):
    """Trains the worker's copy with `opt`; averages every `average_iter` steps."""

    def __init__(self, opt, num_worker, is_chief, custom_getter, average_iter=100,
                 use_locking=True, name="ModelAverageOptimizer"):
        super().__init__(use_locking, name)
        if average_iter < 1:
            raise ValueError("average_iter must be at least 1")
        self._opt = opt
        self._num_worker = int(num_worker)
        self._is_chief = is_chief
        self._getter = custom_getter
        self._average_iter = int(average_iter)
        self._applied = False

    def compute_gradients(self, *args, **kwargs):
        return self._opt.compute_gradients(*args, **kwargs)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        if global_step is None:
            raise ValueError("ModelAverageOptimizer needs the global_step")
        if self._applied:
            raise ValueError("apply_gradients may be called only once")
        pairs = self._getter.local_to_global
        if not pairs:
            raise ValueError("no variables were made through the ModelAverageCustomGetter")
        graph = ops.get_default_graph()
        # The wrapped optimizer's state (slots) belongs to this worker's copy: local too.
        before = set(graph.get_collection(variables.GraphKeys.GLOBAL_VARIABLES))
        local_anchor = next(iter(pairs))
        with ops.colocate_with(local_anchor):
            update = self._opt.apply_gradients(grads_and_vars, name=name)
            self._local_step = variables.Variable(
                array_ops.zeros([], global_step.dtype.base_dtype), trainable=False,
                collections=[variables.GraphKeys.LOCAL_VARIABLES], name="local_step")
            self._round = variables.Variable(
                array_ops.zeros([], global_step.dtype.base_dtype), trainable=False,
                collections=[variables.GraphKeys.LOCAL_VARIABLES], name="average_round")
        added = [v for v in graph.get_collection(variables.GraphKeys.GLOBAL_VARIABLES)
                 if v not in before]
        globals_ref = graph.get_collection_ref(variables.GraphKeys.GLOBAL_VARIABLES)
        for v in added:
            globals_ref.remove(v)
            graph.add_to_collection(variables.GraphKeys.LOCAL_VARIABLES, v)
        with ops.control_dependencies([update]):
            train_op = self._local_step.assign_add(
                ops.convert_to_tensor(1, global_step.dtype.base_dtype)).op

        takes, pushes, pulls, accumulators = [], [], [], []
        with ops.name_scope(self._name):
            for local, center in pairs.items():
                with ops.device(center.device):
                    accumulator = data_flow_ops.ConditionalAccumulator(
                        local.dtype.base_dtype, shape=local.shape,
                        shared_name=center.op.name + "/average_accum")
                    accumulators.append(accumulator)
                    pushes.append(accumulator.apply_grad(local.value(),
                                                         local_step=self._round.value()))
                    takes.append(center.assign(accumulator.take_grad(self._num_worker)).op)
            with ops.device(global_step.device):
                queue = data_flow_ops.FIFOQueue(-1, global_step.dtype.base_dtype, shapes=(),
                                                name="average_token_q",
                                                shared_name="average_token_q")
                with ops.control_dependencies(takes):
                    advance = gen_ops.assign_add(
                        global_step._ref(),
                        ops.convert_to_tensor(self._average_iter, global_step.dtype.base_dtype))
                with ops.control_dependencies([advance]):
                    tokens = gen_ops.fill([self._num_worker], global_step.read_value())
                    release = queue.enqueue_many((tokens,))
                with ops.control_dependencies(pushes):
                    token = queue.dequeue()
            with ops.control_dependencies([token]):
                for local, center in pairs.items():
                    pulls.append(local.assign(center.read_value()).op)
                pulls.append(self._round.assign_add(
                    ops.convert_to_tensor(1, global_step.dtype.base_dtype)).op)
            self._average_op = control_flow_ops.group(*pulls, name="average")
            self._copy_from_center = control_flow_ops.group(
                *[local.assign(center.value()).op for local, center in pairs.items()],
                name="copy_from_center")
            self._chief_runner = coordinator.QueueRunner(None, [release])
            self._reset_accumulators = control_flow_ops.group(
                *[a.set_global_step(ops.convert_to_tensor(0, global_step.dtype.base_dtype))
                  for a in accumulators], name="reset_accumulators")
        self._global_step = global_step
        self._applied = True
        return train_op

    def make_session_run_hook(self):
        if not self._applied:
            raise ValueError("make_session_run_hook needs apply_gradients (or minimize) first")
        return _ModelAverageHook(self)


class _ModelAverageHook(session_run_hook.SessionRunHook):
    """Starts every worker from the ps's parameters, averages every `average_iter` steps,
    and on the chief runs the queue runner that completes each round."""

    def __init__(self, optimizer):
        self._opt = optimizer

    def after_create_session(self, session, coord):
        opt = self._opt
        if opt._is_chief:
            session.run(opt._reset_accumulators)
            opt._chief_runner.create_threads(session, coord=coord, daemon=True, start=True)
        session.run(opt._copy_from_center)

    def before_run(self, run_context):
        return session_run_hook.SessionRunArgs(self._opt._local_step)

    def after_run(self, run_context, run_values):
        if (int(run_values.results) + 1) % self._opt._average_iter == 0:
            run_context.session.run(self._opt._average_op)
