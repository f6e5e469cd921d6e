"""The distributed runtime from Python: tf.train.Server, tf.Session(server.target), variables
on ps tasks, runnel-server, faults (a dead ps), CURVE keys, and data-parallel training of the
Fashion-MNIST MLP by separate processes (tools/examples/distributed_mlp.py)."""
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

import runnel as tf
from conftest import BUILD, ROOT

RUNNEL_SERVER = BUILD / "bin" / "runnel-server"
EXAMPLE = ROOT / "tools" / "examples" / "distributed_mlp.py"
FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")
PS = "/job:ps/replica:0/task:0"


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def cluster_of(ps=1, workers=1):
    ports = free_ports(ps + workers)
    cluster = {"ps": [f"localhost:{p}" for p in ports[:ps]],
               "worker": [f"localhost:{p}" for p in ports[ps:]]}
    return {job: tasks for job, tasks in cluster.items() if tasks}


def spec_text(cluster):
    return ";".join(f"{job}={','.join(addresses)}" for job, addresses in cluster.items())


def start_runnel_server(cluster, job, task, *extra):
    process = subprocess.Popen(
        [str(RUNNEL_SERVER), "--cluster", spec_text(cluster), "--job", job, "--task", str(task),
         *extra], stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()
    assert "serving at" in line, line
    return process


def model(setter=None):
    """A linear model trained by SGD, its variables on a ps task when `setter` says so."""
    with tf.device(setter):
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2) / 10, name="w")
        b = tf.Variable(np.zeros(2, np.float32), name="b")
        y = tf.matmul(x, w) + b
        loss = tf.reduce_mean(tf.square(y - 1.0))
        train = tf.train.GradientDescentOptimizer(0.05).minimize(loss)
    return x, w, b, train


def train(session, x, train_op, steps=20):
    rng = np.random.RandomState(0)
    for _ in range(steps):
        session.run(train_op, {x: rng.uniform(-1, 1, (8, 3)).astype(np.float32)})


def test_local_server_runs_what_a_direct_session_runs():
    server = tf.train.Server.create_local_server()
    assert re.fullmatch(r"runnel://localhost:\d+", server.target)
    a = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    product = tf.matmul(a, a) + 1
    with tf.Session(server.target) as remote, tf.Session() as local:
        np.testing.assert_array_equal(remote.run(product), local.run(product))
        assert remote.sess_str == server.target
        names = [d.name for d in remote.list_devices()]
        assert names == ["/job:localhost/replica:0/task:0/device:CPU:0"]


def test_training_with_variables_on_ps_gives_the_one_process_result():
    cluster = cluster_of(ps=1, workers=1)
    servers = [tf.train.Server(cluster, "ps", 0), tf.train.Server(cluster, "worker", 0)]
    setter = tf.train.replica_device_setter(cluster=cluster, worker_device="/job:worker/task:0")
    x, w, b, train_op = model(setter)
    assert w.device == "/job:ps/task:0"
    with tf.Session(servers[1].target) as sess:
        sess.run(tf.global_variables_initializer())
        train(sess, x, train_op)
        remote = sess.run([w, b])
    tf.reset_default_graph()
    x, w, b, train_op = model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        train(sess, x, train_op)
        local = sess.run([w, b])
    for r, l in zip(remote, local):
        np.testing.assert_array_equal(r, l)


def test_ps_variables_outlive_sessions_and_are_shared_by_name():
    cluster = cluster_of(ps=1, workers=2)
    ps = tf.train.Server(cluster, "ps", 0)
    workers = [tf.train.Server(cluster, "worker", i) for i in range(2)]
    setter = tf.train.replica_device_setter(cluster=cluster, worker_device="/job:worker/task:0")
    x, w, _, train_op = model(setter)
    with tf.Session(workers[0].target) as sess:
        sess.run(tf.global_variables_initializer())
        train(sess, x, train_op, steps=3)
        trained = sess.run(w)
    # Another client's graph, built separately, names the same variables.
    tf.reset_default_graph()
    setter = tf.train.replica_device_setter(cluster=cluster, worker_device="/job:worker/task:1")
    _, w, _, _ = model(setter)
    with tf.Session(workers[1].target) as sess:
        np.testing.assert_array_equal(sess.run(w), trained)
    del ps


def test_server_arguments_are_checked():
    cluster = cluster_of()
    with pytest.raises(ValueError, match="job_name must be given"):
        tf.train.Server(cluster)
    with pytest.raises(ValueError, match="no task 3"):
        tf.train.Server(cluster, "worker", 3)
    with pytest.raises(ValueError, match="not supported"):
        tf.train.Server(cluster, "worker", 0, protocol="grpc+verbs")
    with pytest.raises(tf.errors.InvalidArgumentError, match="not runnel://host:port"):
        tf.Session("http://localhost:1")


def test_runnel_server_stops_cleanly_on_sigterm():
    process = start_runnel_server(cluster_of(), "ps", 0)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert "stopped" in process.stderr.read()


EXIT_WITH_A_SERVER = """
import numpy as np
import runnel as tf
server = tf.train.Server.create_local_server()
x = tf.placeholder(tf.float32, [None])
y = tf.reduce_sum(x * 2.0)
sess = tf.Session(server.target)
for _ in range(100):
    sess.run(y, {x: np.ones(1 << 18, np.float32)})
print("done")
"""


def test_a_process_exits_cleanly_while_its_server_releases_fed_arrays():
    """The server's worker, called directly, may drop the last reference to a fed array on
    its own thread as Python exits: that must neither wait for the GIL Python holds while
    it destroys the server nor take it during finalization (which aborted 6 runs in 10)."""
    env = dict(os.environ, PYTHONPATH=str(BUILD / "python"))
    for _ in range(5):
        result = subprocess.run([sys.executable, "-c", EXIT_WITH_A_SERVER], env=env,
                                capture_output=True, text=True, timeout=60)
        assert (result.returncode, result.stdout) == (0, "done\n"), result.stderr


def test_runnel_server_rejects_bad_arguments():
    result = subprocess.run([str(RUNNEL_SERVER), "--cluster", "ps=localhost:1", "--job", "w",
                             "--task", "0"], capture_output=True, text=True)
    assert result.returncode != 0
    assert "no job 'w'" in result.stderr


def test_dead_ps_fails_the_run_with_unavailable_naming_it_within_the_deadline():
    cluster = cluster_of(ps=1, workers=1)
    ps = start_runnel_server(cluster, "ps", 0)
    try:
        worker = tf.train.Server(cluster, "worker", 0)
        setter = tf.train.replica_device_setter(cluster=cluster,
                                                worker_device="/job:worker/task:0")
        x, w, _, train_op = model(setter)
        config = tf.ConfigProto(runnel_options={"peer_timeout_ms": "1000"})
        with tf.Session(worker.target, config=config) as sess:
            sess.run(tf.global_variables_initializer())
            train(sess, x, train_op, steps=2)
            ps.kill()
            ps.wait()
            start = time.time()
            with pytest.raises(tf.errors.UnavailableError, match=PS):
                train(sess, x, train_op, steps=1)
            assert time.time() - start < 4
    finally:
        ps.kill()
        ps.wait()


def test_curve_keys_admit_the_cluster_and_refuse_another_key(tmp_path):
    keys, other = tmp_path / "keys", tmp_path / "other"
    for d in (keys, other):
        subprocess.run([str(RUNNEL_SERVER), "--keygen", str(d)], check=True,
                       capture_output=True)
    assert (keys / "server.key_secret").stat().st_mode & 0o077 == 0
    # The other directory's client key pair, with this cluster's server public key.
    (other / "server.key").write_text((keys / "server.key").read_text())
    (other / "server.key_secret").unlink()
    cluster = cluster_of(ps=1, workers=0)
    ps = start_runnel_server(cluster, "ps", 0, "--keys", str(keys))
    try:
        target = "runnel://" + cluster["ps"][0]
        value = tf.constant(3.0) * 2
        config = tf.ConfigProto(runnel_options={"curve_key_dir": str(keys)})
        with tf.Session(target, config=config) as sess:
            assert sess.run(value) == 6.0
        config = tf.ConfigProto(runnel_options={"curve_key_dir": str(other),
                                                "peer_timeout_ms": "2000"})
        with pytest.raises(tf.errors.UnauthenticatedError, match="refused"):
            tf.Session(target, config=config)
        with pytest.raises(tf.errors.UnauthenticatedError, match="refused"):
            tf.Session(target, config=tf.ConfigProto(runnel_options={"peer_timeout_ms": "2000"}))
    finally:
        ps.terminate()
        ps.wait()


def run_example(*args):
    env = dict(os.environ, PYTHONPATH=str(BUILD / "python"))
    return subprocess.Popen([sys.executable, str(EXAMPLE), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def accuracy_of(output):
    match = re.search(r"test accuracy ([0-9.]+)", output)
    assert match, output
    return float(match.group(1))


needs_fashion = pytest.mark.skipif(
    not FASHION.exists(), reason="Fashion-MNIST is not installed (Debian package "
    "dataset-fashion-mnist)")
EPOCHS = ["--epochs", "8"]


@pytest.fixture(scope="module")
def one_process_accuracy():
    local = run_example("--local", *EPOCHS)
    out = local.communicate(timeout=600)[0]
    assert local.returncode == 0, out
    return accuracy_of(out)


@needs_fashion
@pytest.mark.parametrize("mode, last_step", [("async", 4800), ("sync", 2400),
                                             ("average", 2400)])
def test_training_by_two_worker_processes_matches_one_process(one_process_accuracy, mode,
                                                              last_step):
    """1 ps and 2 workers train the MLP on halves of the data: asynchronously (every batch
    one update), synchronously (every update averages one batch from each worker), or each
    its own copy, averaged every 50 steps (the global step counts each worker's steps)."""
    cluster = cluster_of(ps=1, workers=2)
    ps = start_runnel_server(cluster, "ps", 0)
    try:
        spec = ["--cluster", spec_text(cluster), "--job", "worker", "--mode", mode]
        workers = [run_example(*spec, "--task", str(i), *EPOCHS) for i in (1, 0)]
        outputs = [p.communicate(timeout=600)[0] for p in workers]
        for p, out in zip(workers, outputs):
            assert p.returncode == 0, out
    finally:
        ps.terminate()
        ps.wait()
    chief = outputs[1]
    step = int(re.search(r"global step (\d+)", chief).group(1))
    # Asynchronous workers may each finish the step they were in when the last came.
    assert last_step <= step <= last_step + 2, chief
    assert abs(accuracy_of(chief) - one_process_accuracy) <= 0.01, chief


@needs_fashion
def test_a_restarted_chief_resumes_from_its_last_checkpoint(tmp_path):
    cluster = cluster_of(ps=1, workers=1)
    ps = start_runnel_server(cluster, "ps", 0)
    args = ["--cluster", spec_text(cluster), "--job", "worker", "--task", "0", "--epochs", "2",
            "--checkpoint-dir", str(tmp_path), "--checkpoint-steps", "100"]
    try:
        first = run_example(*args)
        deadline = time.time() + 120
        # The state file names a checkpoint once all of its files are in place.
        state = tmp_path / "checkpoint"
        while not (state.exists() and re.search(r'ckpt-[1-9]', state.read_text())):
            assert time.time() < deadline and first.poll() is None, first.stdout.read()
            time.sleep(0.05)
        first.kill()
        first.wait()
        second = run_example(*args)
        out = second.communicate(timeout=600)[0]
        assert second.returncode == 0, out
    finally:
        ps.terminate()
        ps.wait()
    restored = re.search(r"restored .*model\.ckpt-(\d+)", out)
    assert restored and int(restored.group(1)) >= 100, out  # a checkpoint the first one saved
    assert "global step 1200" in out, out
    assert accuracy_of(out) > 0.8


class _Faults(tf.train.SessionRunHook):
    """Records the global step after each run; at `at` kills the ps and starts a new one."""

    def __init__(self, at, restart):
        self.at, self.restart, self.steps = at, restart, []

    def begin(self):
        self._step = tf.train.get_global_step()

    def before_run(self, run_context):
        return tf.train.SessionRunArgs(self._step)

    def after_run(self, run_context, run_values):
        self.steps.append(int(run_values.results))
        if self.steps[-1] == self.at and self.restart is not None:
            self.restart()
            self.restart = None


def test_monitored_session_survives_a_ps_restart_from_the_latest_checkpoint(tmp_path):
    cluster = cluster_of(ps=1, workers=1)
    servers = {"ps": start_runnel_server(cluster, "ps", 0)}

    def restart_ps():
        servers["ps"].kill()
        servers["ps"].wait()
        servers["ps"] = start_runnel_server(cluster, "ps", 0)

    try:
        worker = tf.train.Server(cluster, "worker", 0)
        setter = tf.train.replica_device_setter(cluster=cluster,
                                                worker_device="/job:worker/task:0")
        x, _, _, _ = model(setter)
        with tf.device(setter):
            step = tf.train.get_or_create_global_step()
            loss = tf.reduce_sum(tf.square(tf.matmul(x, tf.trainable_variables()[0])))
            train_op = tf.train.GradientDescentOptimizer(0.01).minimize(loss, global_step=step)
        faults = _Faults(at=25, restart=restart_ps)
        config = tf.ConfigProto(runnel_options={"peer_timeout_ms": "1000"})
        with tf.train.MonitoredTrainingSession(
                master=worker.target, is_chief=True, checkpoint_dir=str(tmp_path),
                save_checkpoint_steps=10, config=config,
                hooks=[tf.train.StopAtStepHook(last_step=40), faults]) as sess:
            while not sess.should_stop():
                sess.run(train_op, {x: np.ones((4, 3), np.float32)})
    finally:
        servers["ps"].kill()
        servers["ps"].wait()
    steps = faults.steps
    at = steps.index(25)
    # After the restart the step comes back from the checkpoint of step 20.
    assert steps[at + 1] == 20, steps
    assert steps[-1] == 39 and steps[:at + 1] == list(range(26)), steps


_NETNS_WORKER = """
import sys, numpy as np, runnel as tf
sys.path.insert(0, {tests!r})
from test_distributed import model, train
cluster = {cluster!r}
config = tf.ConfigProto(runnel_options={{"curve_key_dir": {keys!r}}})
worker = tf.train.Server(cluster, "worker", 0, config=config)
setter = tf.train.replica_device_setter(cluster=cluster, worker_device="/job:worker/task:0")
x, w, b, train_op = model(setter)
with tf.Session(worker.target, config=config) as sess:
    sess.run(tf.global_variables_initializer())
    train(sess, x, train_op)
    np.save({out!r}, np.concatenate([v.ravel() for v in sess.run([w, b])]))
"""


def _ip(*args):
    return subprocess.run(["ip", *args], capture_output=True, text=True)


def test_cluster_across_network_namespaces_with_curve_keys(tmp_path):
    """The ps and the worker each in a network namespace of its own, joined by a veth pair
    (10.87.0.1 and 10.87.0.2), with CURVE keys: the same result as one process."""
    tag = f"rn{os.getpid() % 100000}"
    ps_ns, worker_ns = f"{tag}ps", f"{tag}w"
    if (os.geteuid() != 0 or shutil.which("ip") is None
            or _ip("netns", "add", ps_ns).returncode != 0):
        pytest.skip("cannot make network namespaces here (needs root and `ip netns`)")
    try:
        assert _ip("netns", "add", worker_ns).returncode == 0
        for command in (["link", "add", f"{tag}a", "type", "veth", "peer", "name", f"{tag}b"],
                        ["link", "set", f"{tag}a", "netns", ps_ns],
                        ["link", "set", f"{tag}b", "netns", worker_ns],
                        ["-n", ps_ns, "addr", "add", "10.87.0.1/24", "dev", f"{tag}a"],
                        ["-n", worker_ns, "addr", "add", "10.87.0.2/24", "dev", f"{tag}b"],
                        ["-n", ps_ns, "link", "set", f"{tag}a", "up"],
                        ["-n", worker_ns, "link", "set", f"{tag}b", "up"],
                        ["-n", ps_ns, "link", "set", "lo", "up"],
                        ["-n", worker_ns, "link", "set", "lo", "up"]):
            result = _ip(*command)
            if result.returncode != 0:
                pytest.skip(f"cannot set up the veth pair: {result.stderr.strip()}")
        reach = subprocess.run(["ip", "netns", "exec", worker_ns, sys.executable, "-c",
                                "import socket; socket.create_connection(('10.87.0.1', 9), 2)"],
                               capture_output=True, text=True)
        if "Connection refused" not in reach.stderr:  # refused: the address answers
            pytest.skip(f"cannot run in a network namespace here: {reach.stderr.strip()[-200:]}")
        keys = tmp_path / "keys"
        subprocess.run([str(RUNNEL_SERVER), "--keygen", str(keys)], check=True,
                       capture_output=True)
        cluster = {"ps": ["10.87.0.1:2222"], "worker": ["10.87.0.2:2223"]}
        ps = subprocess.Popen(["ip", "netns", "exec", ps_ns, str(RUNNEL_SERVER), "--cluster",
                               spec_text(cluster), "--job", "ps", "--task", "0", "--keys",
                               str(keys)], stderr=subprocess.PIPE, text=True)
        try:
            assert "serving at" in ps.stderr.readline()
            out = tmp_path / "values.npy"
            script = _NETNS_WORKER.format(tests=str(pathlib.Path(__file__).parent),
                                          cluster=cluster, keys=str(keys), out=str(out))
            env = dict(os.environ, PYTHONPATH=str(BUILD / "python"))
            worker = subprocess.run(["ip", "netns", "exec", worker_ns, sys.executable, "-c",
                                     script], env=env, capture_output=True, text=True,
                                    timeout=120)
            assert worker.returncode == 0, worker.stderr
            remote = np.load(out)
        finally:
            ps.terminate()
            ps.wait()
        x, w, b, train_op = model()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            train(sess, x, train_op)
            local = np.concatenate([v.ravel() for v in sess.run([w, b])])
        np.testing.assert_array_equal(remote, local)
    finally:
        _ip("netns", "del", ps_ns)
        _ip("netns", "del", worker_ns)


def test_a_while_loop_split_across_tasks_runs_each_iteration_on_both():
    """A loop whose body op is on the ps task and whose condition is on the worker: the ps
    runs a control loop of the frame, the condition and the values crossing the network
    with keys naming the iteration."""
    cluster = cluster_of(ps=1, workers=1)
    servers = [tf.train.Server(cluster, "ps", 0), tf.train.Server(cluster, "worker", 0)]
    x = tf.placeholder(tf.float32, [3])
    n = tf.placeholder(tf.int32, [])

    def body(i, v):
        with tf.device("/job:ps/task:0"):
            v = tf.tanh(v) * 2.0
        return i + 1, v

    with tf.device("/job:worker/task:0"):
        _, out = tf.while_loop(lambda i, v: i < n, body, [0, x], parallel_iterations=3)
    value = np.array([0.3, -0.2, 0.8], np.float32)
    with tf.Session(servers[1].target) as sess:
        for steps in (0, 1, 6):
            expected = value.astype(np.float64)
            for _ in range(steps):
                expected = np.tanh(expected) * 2.0
            np.testing.assert_allclose(sess.run(out, {x: value, n: steps}), expected,
                                       rtol=1e-5)
