"""tf.train.ClusterSpec: a cluster's jobs ("ps", "worker", ...) and their tasks' addresses,
as TensorFlow describes them (a dict of lists or of {index: address}, or a ClusterDef);
tf.train.Server: one task of such a cluster, served in this process
(distributed/server.h)."""
from runnel import _runnel
from runnel.framework.api_export import tf_export
from runnel.proto import cluster_pb2
from runnel.proto import config_pb2


@tf_export("train.ClusterSpec")
class ClusterSpec:
    """`ClusterSpec({"ps": ["ps0:2222"], "worker": ["w0:2222", "w1:2222"]})`."""

    def __init__(self, cluster):
        if isinstance(cluster, ClusterSpec):
            self._jobs = {job: dict(tasks) for job, tasks in cluster._jobs.items()}
        elif isinstance(cluster, cluster_pb2.ClusterDef):
            self._jobs = {}
            for job in cluster.job:
                if job.name in self._jobs:
                    raise ValueError(f"duplicate job {job.name!r} in the ClusterDef")
                self._jobs[job.name] = dict(job.tasks)
        elif isinstance(cluster, dict):
            self._jobs = {}
            for job, tasks in cluster.items():
                if isinstance(tasks, dict):
                    self._jobs[job] = {int(i): str(a) for i, a in tasks.items()}
                elif isinstance(tasks, (list, tuple)):
                    self._jobs[job] = {i: str(a) for i, a in enumerate(tasks)}
                else:
                    raise TypeError(f"the tasks of job {job!r} must be a list or a dict of "
                                    f"addresses, got {type(tasks).__name__}")
        else:
            raise TypeError("cluster must be a dict, a ClusterDef or a ClusterSpec, got "
                            f"{type(cluster).__name__}")
        for job, tasks in self._jobs.items():
            if not isinstance(job, str) or not job:
                raise ValueError(f"job names must be non-empty strings, got {job!r}")
            for index, address in tasks.items():
                if index < 0 or not address:
                    raise ValueError(f"task {index} of job {job!r} has no address")

    @property
    def jobs(self):
        return sorted(self._jobs)

    def num_tasks(self, job_name):
        return len(self._tasks(job_name))

    def task_indices(self, job_name):
        return sorted(self._tasks(job_name))

    def task_address(self, job_name, task_index):
        tasks = self._tasks(job_name)
        if task_index not in tasks:
            raise ValueError(f"no task {task_index} in job {job_name!r} "
                             f"(tasks: {sorted(tasks)})")
        return tasks[task_index]

    def job_tasks(self, job_name):
        """The addresses of the job's tasks by index, None where an index is missing."""
        tasks = self._tasks(job_name)
        return [tasks.get(i) for i in range(max(tasks) + 1)] if tasks else []

    def as_dict(self):
        """Each job's tasks as a list when their indices are 0..n-1, else as a dict."""
        out = {}
        for job, tasks in self._jobs.items():
            dense = sorted(tasks) == list(range(len(tasks)))
            out[job] = [tasks[i] for i in range(len(tasks))] if dense else dict(tasks)
        return out

    def as_cluster_def(self):
        cluster = cluster_pb2.ClusterDef()
        for job in self.jobs:
            job_def = cluster.job.add(name=job)
            for index, address in self._jobs[job].items():
                job_def.tasks[index] = address
        return cluster

    def _tasks(self, job_name):
        if job_name not in self._jobs:
            raise ValueError(f"no job {job_name!r} in the cluster (jobs: {self.jobs})")
        return self._jobs[job_name]

    def __bool__(self):
        return bool(self._jobs)

    def __eq__(self, other):
        return isinstance(other, ClusterSpec) and self._jobs == other._jobs

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return f"ClusterSpec({self.as_dict()!r})"


@tf_export("train.Server")
class Server:
    """One task of a cluster, served by this process until it ends.

    `tf.train.Server(cluster, job_name="worker", task_index=0)`; `tf.Session(server.target)`
    then runs graphs on the whole cluster. `config` (a tf.ConfigProto) sets the task's
    devices and threads, and `runnel_options={"curve_key_dir": DIR}` its CURVE keys.
    """

    def __init__(self, server_or_cluster_def, job_name=None, task_index=None, protocol=None,
                 config=None, start=True):
        if protocol not in (None, "grpc", "runnel"):
            raise ValueError(f"protocol {protocol!r} is not supported (Runnel speaks its own "
                             "ZeroMQ protocol; None, 'grpc' or 'runnel' select it)")
        cluster = ClusterSpec(server_or_cluster_def)
        if job_name is None:
            if len(cluster.jobs) != 1:
                raise ValueError(f"job_name must be given for a cluster of several jobs "
                                 f"({cluster.jobs})")
            job_name = cluster.jobs[0]
        if task_index is None:
            indices = cluster.task_indices(job_name)
            if len(indices) != 1:
                raise ValueError(f"task_index must be given: job {job_name!r} has tasks "
                                 f"{indices}")
            task_index = indices[0]
        cluster.task_address(job_name, task_index)  # names what exists when it does not
        if config is not None and not isinstance(config, config_pb2.ConfigProto):
            raise TypeError(f"config must be a tf.ConfigProto, got {type(config).__name__}")
        self._server = _runnel.Server(
            cluster.as_cluster_def().SerializeToString(), job_name, int(task_index),
            config.SerializeToString() if config is not None else b"")
        self._job_name, self._task_index = job_name, int(task_index)
        if start:
            self.start()

    @staticmethod
    def create_local_server(config=None, start=True):
        """A one-task cluster on a free loopback port."""
        return Server({"localhost": ["localhost:0"]}, job_name="localhost", task_index=0,
                      config=config, start=start)

    def start(self):
        """Starts serving (a server made with start=False)."""
        self._server.start()

    def join(self):
        """Blocks until the server stops (runnel-server stops on SIGTERM)."""
        self._server.join()

    def stop(self):
        """Stops serving: calls to this task fail, its steps abort, join() returns."""
        self._server.stop()

    @property
    def target(self):
        """"runnel://host:port", for tf.Session(target)."""
        return self._server.target()
