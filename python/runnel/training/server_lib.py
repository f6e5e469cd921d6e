"""tf.train.ClusterSpec: a cluster's jobs ("ps", "worker", ...) and their tasks' addresses,
as TensorFlow describes them (a dict of lists or of {index: address}, or a ClusterDef)."""
from runnel.framework.api_export import tf_export
from runnel.proto import cluster_pb2


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
