"""The hooks MonitoredTrainingSession uses: stop at a global step, save checkpoints."""
import os
import time

from runnel.framework.api_export import tf_export
from runnel.training import optimizer as optimizer_lib
from runnel.training import session_run_hook


def _global_step_tensor():
    step = optimizer_lib.get_global_step()
    if step is None:
        raise RuntimeError("this hook needs a global step (tf.train.get_or_create_global_step)")
    return step


@tf_export("train.StopAtStepHook")
class StopAtStepHook(session_run_hook.SessionRunHook):
    """Asks the loop to stop once the global step reaches `last_step` (or `num_steps` past
    where it was when the session started)."""

    def __init__(self, num_steps=None, last_step=None):
        if (num_steps is None) == (last_step is None):
            raise ValueError("give exactly one of num_steps and last_step")
        self._num_steps = num_steps
        self._last_step = last_step

    def begin(self):
        self._step = _global_step_tensor()

    def after_create_session(self, session, coord):
        if self._last_step is None:
            self._last_step = int(session.run(self._step)) + self._num_steps

    def before_run(self, run_context):
        return session_run_hook.SessionRunArgs(self._step)

    def after_run(self, run_context, run_values):
        # The step as fetched may predate this run's update: read it again near the end.
        if int(run_values.results) + 1 >= self._last_step:
            if int(run_context.session.run(self._step)) >= self._last_step:
                run_context.request_stop()


@tf_export("train.CheckpointSaverHook")
class CheckpointSaverHook(session_run_hook.SessionRunHook):
    """Saves a checkpoint when the session starts, every `save_steps` global steps or
    `save_secs` seconds, and at the end."""

    def __init__(self, checkpoint_dir, save_secs=None, save_steps=None, saver=None,
                 checkpoint_basename="model.ckpt", scaffold=None, listeners=None):
        if (save_secs is None) == (save_steps is None):
            raise ValueError("give exactly one of save_secs and save_steps")
        self._dir = checkpoint_dir
        self._path = os.path.join(checkpoint_dir, checkpoint_basename)
        self._secs, self._steps = save_secs, save_steps
        self._saver, self._scaffold = saver, scaffold
        self._last_step, self._last_time = None, None

    def begin(self):
        self._step = _global_step_tensor()

    def _saver_now(self):
        if self._saver is not None:
            return self._saver
        if self._scaffold is not None:
            return self._scaffold.saver
        from runnel.training import saver as saver_lib
        self._saver = saver_lib.Saver()
        return self._saver

    def _save(self, session, step):
        self._saver_now().save(session, self._path, global_step=step)
        self._last_step, self._last_time = step, time.time()

    def after_create_session(self, session, coord):
        step = int(session.run(self._step))
        if self._last_step is None or step != self._last_step:
            self._save(session, step)

    def before_run(self, run_context):
        return session_run_hook.SessionRunArgs(self._step)

    def after_run(self, run_context, run_values):
        step = int(run_values.results) + 1
        due = (self._steps is not None and step >= self._last_step + self._steps) or \
              (self._secs is not None and time.time() >= self._last_time + self._secs)
        if due:
            self._save(run_context.session, int(run_context.session.run(self._step)))

    def end(self, session):
        step = int(session.run(self._step))
        if step != self._last_step:
            self._save(session, step)
