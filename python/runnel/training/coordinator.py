"""tf.train.Coordinator and tf.train.QueueRunner: threads that run ops in a loop (a queue's
enqueue, SyncReplicasOptimizer's aggregation on the chief) until asked to stop."""
import threading

from runnel import errors
from runnel.framework import ops
from runnel.framework.api_export import tf_export


@tf_export("train.Coordinator")
class Coordinator:
    """Tells threads when to stop and collects the first exception one of them raised."""

    def __init__(self, clean_stop_exception_types=None):
        self._clean = tuple(clean_stop_exception_types or (errors.OutOfRangeError,))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._exception = None
        self._threads = []

    def request_stop(self, ex=None):
        with self._lock:
            if ex is not None and self._exception is None and not isinstance(ex, self._clean):
                self._exception = ex
            self._stop.set()

    def should_stop(self):
        return self._stop.is_set()

    def wait_for_stop(self, timeout=None):
        return self._stop.wait(timeout)

    def clear_stop(self):
        with self._lock:
            self._stop.clear()
            self._exception = None

    def register_thread(self, thread):
        with self._lock:
            self._threads.append(thread)

    def join(self, threads=None, stop_grace_period_secs=120, ignore_live_threads=False):
        """Waits for the threads; raises the first exception one reported."""
        self._stop.wait()
        for t in list(threads or []) + self._threads:
            t.join(stop_grace_period_secs)
        alive = [t.name for t in list(threads or []) + self._threads if t.is_alive()]
        with self._lock:
            self._threads = []
            if self._exception is not None:
                raise self._exception
        if alive and not ignore_live_threads:
            raise RuntimeError(f"threads still running after the grace period: {alive}")

    def stop_on_exception(self):
        coord = self

        class _Context:
            def __enter__(self):
                return coord

            def __exit__(self, exc_type, exc, tb):
                if exc is not None:
                    coord.request_stop(exc)
                return True
        return _Context()


@tf_export("train.QueueRunner")
class QueueRunner:
    """Runs `enqueue_ops`, one thread each, until the coordinator stops or an op fails."""

    def __init__(self, queue=None, enqueue_ops=None, close_op=None, cancel_op=None,
                 queue_closed_exception_types=None):
        self._queue = queue
        self._enqueue_ops = list(enqueue_ops or [])
        self._close_op = close_op
        self._cancel_op = cancel_op
        self._closed_types = tuple(queue_closed_exception_types or (errors.OutOfRangeError,))

    @property
    def queue(self):
        return self._queue

    @property
    def enqueue_ops(self):
        return list(self._enqueue_ops)

    def _run(self, sess, op, coord):
        try:
            while coord is None or not coord.should_stop():
                sess.run(op)
        except self._closed_types:
            pass
        except (errors.CancelledError, RuntimeError):
            pass  # the session closed under the loop
        except Exception as e:  # noqa: BLE001 - reported through the coordinator
            if coord is not None:
                coord.request_stop(e)
            else:
                raise

    def create_threads(self, sess, coord=None, daemon=False, start=False):
        threads = [threading.Thread(target=self._run, args=(sess, op, coord), daemon=daemon)
                   for op in self._enqueue_ops]
        for t in threads:
            if coord is not None:
                coord.register_thread(t)
            if start:
                t.start()
        return threads


@tf_export("train.add_queue_runner")
def add_queue_runner(qr, collection="queue_runners"):
    ops.get_default_graph().add_to_collection(collection, qr)


@tf_export("train.start_queue_runners")
def start_queue_runners(sess=None, coord=None, daemon=True, start=True,
                        collection="queue_runners"):
    sess = sess or ops.get_default_session()
    threads = []
    for qr in ops.get_default_graph().get_collection(collection):
        threads.extend(qr.create_threads(sess, coord=coord, daemon=daemon, start=start))
    return threads
