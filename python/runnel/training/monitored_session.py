"""tf.train.MonitoredSession and MonitoredTrainingSession: a training loop's session that
initializes or restores the model (the chief) or waits for it (the other workers), runs
hooks around every run, and, when a task fails or restarts (UnavailableError,
AbortedError), makes a new session and goes on: the chief restores the latest checkpoint,
so nothing is lost beyond the steps since."""
import sys
import time

from runnel import errors
from runnel.client import session as session_lib
from runnel.framework import ops
from runnel.framework.api_export import tf_export
from runnel.ops import control_flow_ops
from runnel.ops import variables
from runnel.training import basic_session_run_hooks
from runnel.training import coordinator
from runnel.training import saver as saver_lib
from runnel.training import session_run_hook
from runnel.training import sync_replicas_optimizer

# The errors a new session can recover from: a task died, restarted or lost its graphs.
_RECOVERABLE = (errors.AbortedError, errors.UnavailableError)
_USE_DEFAULT = object()


@tf_export("train.Scaffold")
class Scaffold:
    """The ops a MonitoredSession needs to start: initialize, check readiness, save."""

    def __init__(self, init_op=None, init_feed_dict=None, init_fn=None, ready_op=None,
                 ready_for_local_init_op=None, local_init_op=None, summary_op=None,
                 saver=None, copy_from_scaffold=None):
        self.init_op, self.init_feed_dict, self.init_fn = init_op, init_feed_dict, init_fn
        self.ready_op, self.ready_for_local_init_op = ready_op, ready_for_local_init_op
        self.local_init_op, self.summary_op, self.saver = local_init_op, summary_op, saver

    def finalize(self):
        """Makes the default ops for what was not given, then finalizes the graph."""
        if self.init_op is None:
            self.init_op = variables.global_variables_initializer()
        if self.ready_op is None:
            self.ready_op = sync_replicas_optimizer._all_initialized(
                variables.global_variables())
        if self.ready_for_local_init_op is None:
            self.ready_for_local_init_op = self.ready_op
        if self.local_init_op is None:
            self.local_init_op = control_flow_ops.group(
                variables.local_variables_initializer(), name="local_init")
        if self.saver is None and variables.global_variables():
            self.saver = saver_lib.Saver()
        ops.get_default_graph().finalize()
        return self


class _SessionCreator:
    def __init__(self, scaffold, master, config):
        self.scaffold = scaffold or Scaffold()
        self._master, self._config = master, config

    def _new_session(self):
        return session_lib.Session(self._master, config=self._config)


@tf_export("train.ChiefSessionCreator")
class ChiefSessionCreator(_SessionCreator):
    """Restores the latest checkpoint of `checkpoint_dir`, or else runs the init op."""

    def __init__(self, scaffold=None, master="", config=None, checkpoint_dir=None,
                 checkpoint_filename_with_path=None):
        super().__init__(scaffold, master, config)
        self._dir, self._path = checkpoint_dir, checkpoint_filename_with_path

    def create_session(self):
        self.scaffold.finalize()
        sess = self._new_session()
        path = self._path or (saver_lib.latest_checkpoint(self._dir) if self._dir else None)
        if path and self.scaffold.saver is not None:
            self.scaffold.saver.restore(sess, path)
            print(f"restored {path}", file=sys.stderr)
        else:
            sess.run(self.scaffold.init_op, self.scaffold.init_feed_dict)
            if self.scaffold.init_fn is not None:
                self.scaffold.init_fn(self.scaffold, sess)
        sess.run(self.scaffold.local_init_op)
        if not sess.run(self.scaffold.ready_op):
            raise RuntimeError("the model is not ready after initialization")
        return sess


@tf_export("train.WorkerSessionCreator")
class WorkerSessionCreator(_SessionCreator):
    """Waits (up to `max_wait_secs`) for the chief to initialize the model."""

    def __init__(self, scaffold=None, master="", config=None, max_wait_secs=30 * 60):
        super().__init__(scaffold, master, config)
        self._max_wait = max_wait_secs

    def create_session(self):
        self.scaffold.finalize()
        sess = self._new_session()
        deadline = time.time() + self._max_wait
        while not sess.run(self.scaffold.ready_for_local_init_op):
            if time.time() > deadline:
                sess.close()
                raise errors.DeadlineExceededError(
                    f"the model was not initialized within {self._max_wait} s")
            time.sleep(0.2)
        sess.run(self.scaffold.local_init_op)
        return sess


@tf_export("train.MonitoredSession")
class MonitoredSession:
    """Runs like a Session, with hooks around each run and recovery from task failures."""

    def __init__(self, session_creator=None, hooks=None, stop_grace_period_secs=120):
        self._creator = session_creator or ChiefSessionCreator()
        self._hooks = list(hooks or [])
        self._grace = stop_grace_period_secs
        for hook in self._hooks:
            hook.begin()
        self._sess = None
        self._should_stop = False
        self._create()

    def _create(self):
        self._coord = coordinator.Coordinator()
        self._sess = self._creator.create_session()
        for hook in self._hooks:
            hook.after_create_session(self._sess, self._coord)
        coordinator.start_queue_runners(self._sess, coord=self._coord)

    @property
    def graph(self):
        return self._sess.graph

    def should_stop(self):
        return self._should_stop or self._coord.should_stop()

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs `fetches` with every hook's additions; a failed or restarted task makes a
        new session (restoring the latest checkpoint on the chief) and runs again."""
        while True:
            try:
                return self._run_once(fetches, feed_dict, options, run_metadata)
            except _RECOVERABLE as e:
                print(f"a task failed ({type(e).__name__}: {e}); starting a new session",
                      file=sys.stderr)
                self._close_session()
                self._create_retrying()

    def _create_retrying(self):
        while True:
            try:
                self._create()
                return
            except _RECOVERABLE as e:
                print(f"cannot start a session yet ({e}); retrying", file=sys.stderr)
                self._close_session()
                time.sleep(1)

    def _run_once(self, fetches, feed_dict, options, run_metadata):
        context = session_run_hook.SessionRunContext(
            session_run_hook.SessionRunArgs(fetches, feed_dict, options), self._sess)
        hook_fetches, feeds = {}, dict(feed_dict or {})
        for hook in self._hooks:
            args = hook.before_run(context)
            if args is None:
                continue
            if args.fetches is not None:
                hook_fetches[hook] = args.fetches
            for key, value in (args.feed_dict or {}).items():
                if key in feeds:
                    raise RuntimeError(f"a hook feeds {key}, which is fed already")
                feeds[key] = value
        results = self._sess.run([fetches, hook_fetches], feed_dict=feeds or None,
                                 options=options, run_metadata=run_metadata)
        for hook in self._hooks:
            hook.after_run(context, session_run_hook.SessionRunValues(
                results[1].get(hook), options, run_metadata))
        self._should_stop = self._should_stop or context.stop_requested
        return results[0]

    def _close_session(self):
        if self._sess is None:
            return
        self._coord.request_stop()
        try:
            self._sess.close()  # cancels runs in flight (a queue runner's)
        finally:
            self._sess = None
        try:
            self._coord.join(stop_grace_period_secs=self._grace, ignore_live_threads=True)
        except Exception:  # noqa: BLE001 - the threads' errors end with the session
            pass

    def close(self):
        self._close(ok=True)

    def _close(self, ok):
        try:
            if ok and self._sess is not None:
                for hook in self._hooks:
                    hook.end(self._sess)
        finally:
            self._close_session()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        clean = exc_type is None or issubclass(exc_type, (errors.OutOfRangeError, StopIteration))
        self._close(ok=clean)
        return exc_type is not None and clean


@tf_export("train.MonitoredTrainingSession")
def MonitoredTrainingSession(master="", is_chief=True, checkpoint_dir=None, scaffold=None,
                             hooks=None, chief_only_hooks=None,
                             save_checkpoint_secs=_USE_DEFAULT, save_summaries_steps=_USE_DEFAULT,
                             save_summaries_secs=_USE_DEFAULT, config=None,
                             stop_grace_period_secs=120, log_step_count_steps=100,
                             max_wait_secs=7200, save_checkpoint_steps=_USE_DEFAULT,
                             summary_dir=None):
    """A MonitoredSession for training: the chief initializes or restores the model and,
    with a `checkpoint_dir`, saves a checkpoint every `save_checkpoint_secs` (600 by
    default) or `save_checkpoint_steps`; the other workers wait for the chief."""
    scaffold = scaffold or Scaffold()
    all_hooks = list(hooks or [])
    if is_chief:
        creator = ChiefSessionCreator(scaffold, master, config, checkpoint_dir)
        all_hooks += list(chief_only_hooks or [])
        if save_checkpoint_steps is _USE_DEFAULT and save_checkpoint_secs is _USE_DEFAULT:
            save_checkpoint_secs, save_checkpoint_steps = 600, None
        save_checkpoint_secs = None if save_checkpoint_secs is _USE_DEFAULT \
            else save_checkpoint_secs
        save_checkpoint_steps = None if save_checkpoint_steps is _USE_DEFAULT \
            else save_checkpoint_steps
        if checkpoint_dir and (save_checkpoint_secs or save_checkpoint_steps):
            all_hooks.append(basic_session_run_hooks.CheckpointSaverHook(
                checkpoint_dir, save_secs=save_checkpoint_secs or None,
                save_steps=None if save_checkpoint_secs else save_checkpoint_steps,
                scaffold=scaffold))
    else:
        creator = WorkerSessionCreator(scaffold, master, config, max_wait_secs)
    return MonitoredSession(creator, all_hooks, stop_grace_period_secs)
