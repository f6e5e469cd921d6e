"""tf.train.SessionRunHook and the values it sees: how code joins a MonitoredSession's runs
(ask for more fetches before a run, read them after, ask the loop to stop)."""
import collections

from runnel.framework.api_export import tf_export


@tf_export("train.SessionRunHook")
class SessionRunHook:
    """Override what you need: begin() before the graph is finalized,
    after_create_session() when a session (re)starts, before_run()/after_run() around each
    run, end() when the loop ends without an error."""

    def begin(self):
        pass

    def after_create_session(self, session, coord):
        pass

    def before_run(self, run_context):
        return None

    def after_run(self, run_context, run_values):
        pass

    def end(self, session):
        pass


@tf_export("train.SessionRunArgs")
class SessionRunArgs(collections.namedtuple("SessionRunArgs",
                                            ["fetches", "feed_dict", "options"])):
    """What a hook adds to a run: fetches (any structure), feeds and options."""

    def __new__(cls, fetches, feed_dict=None, options=None):
        return super().__new__(cls, fetches, feed_dict, options)


@tf_export("train.SessionRunValues")
class SessionRunValues(collections.namedtuple("SessionRunValues",
                                              ["results", "options", "run_metadata"])):
    """The hook's fetches, evaluated."""


@tf_export("train.SessionRunContext")
class SessionRunContext:
    """The run in progress: its arguments, the session, and a way to end the loop."""

    def __init__(self, original_args, session):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

    @property
    def original_args(self):
        return self._original_args

    @property
    def session(self):
        return self._session

    @property
    def stop_requested(self):
        return self._stop_requested

    def request_stop(self):
        self._stop_requested = True
