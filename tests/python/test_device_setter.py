"""tf.train.ClusterSpec and tf.train.replica_device_setter: where between-graph replication
puts each op (devices are checked as strings; running across tasks is the distributed
runtime's)."""
import pytest

import runnel as tf


def test_cluster_spec_forms_and_round_trip():
    spec = tf.train.ClusterSpec({"ps": ["ps0:2222", "ps1:2222"],
                                 "worker": {0: "w0:2222", 2: "w2:2222"}})
    assert spec.jobs == ["ps", "worker"]
    assert spec.num_tasks("ps") == 2 and spec.task_indices("worker") == [0, 2]
    assert spec.task_address("worker", 2) == "w2:2222"
    assert spec.job_tasks("worker") == ["w0:2222", None, "w2:2222"]
    assert spec.as_dict() == {"ps": ["ps0:2222", "ps1:2222"],
                              "worker": {0: "w0:2222", 2: "w2:2222"}}
    cluster_def = spec.as_cluster_def()
    assert [j.name for j in cluster_def.job] == ["ps", "worker"]
    assert tf.train.ClusterSpec(cluster_def) == spec == tf.train.ClusterSpec(spec)
    with pytest.raises(ValueError, match="no job 'chief'.*jobs: \\['ps', 'worker'\\]"):
        spec.num_tasks("chief")
    with pytest.raises(ValueError, match="no task 1 in job 'worker'"):
        spec.task_address("worker", 1)
    with pytest.raises(TypeError, match="list or a dict"):
        tf.train.ClusterSpec({"ps": "ps0:2222"})
    config = tf.ConfigProto(cluster_def=cluster_def)  # carried by the session config
    assert config.cluster_def.job[1].tasks[2] == "w2:2222"


def test_variables_go_round_robin_to_the_ps_tasks_and_the_rest_to_the_worker():
    with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
        w = tf.Variable(tf.zeros([4, 3]), name="w")
        b = tf.Variable(tf.zeros([3]), name="b")
        c = tf.Variable(tf.zeros([3]), name="c")
        y = tf.matmul(tf.ones([2, 4]), w) + b
        with tf.device("/cpu:0"):  # an inner scope's parts win
            d = tf.Variable(0.0, name="d")
    assert w.op.device == "/job:ps/task:0"
    assert b.op.device == "/job:ps/task:1"
    assert c.op.device == "/job:ps/task:0"
    assert d.op.device == "/job:ps/task:1/device:CPU:0"
    assert y.op.device == "/job:worker"
    assert w.initializer.device == "/job:ps/task:0"  # the Assign follows its variable


def test_cluster_gives_the_ps_count_and_no_ps_gives_none():
    cluster = {"ps": ["a:1", "b:1", "c:1"], "worker": ["d:1"]}
    setter = tf.train.replica_device_setter(cluster=cluster, worker_device="/job:worker/task:0")
    with tf.device(setter):
        vs = [tf.Variable(float(i)) for i in range(4)]
        s = tf.add_n([v.value() for v in vs])
    assert [v.op.device for v in vs] == [f"/job:ps/task:{i}" for i in (0, 1, 2, 0)]
    assert s.op.device == "/job:worker/task:0"
    assert tf.train.replica_device_setter(cluster={"worker": ["d:1"]}) is None


def test_greedy_strategy_balances_bytes():
    strategy = tf.train.GreedyLoadBalancingStrategy(2, tf.train.byte_size_load_fn)
    with tf.device(tf.train.replica_device_setter(ps_tasks=2, ps_strategy=strategy)):
        big = tf.Variable(tf.zeros([100]), name="big")        # 400 bytes -> task 0
        small1 = tf.Variable(tf.zeros([10]), name="small1")   # 40 -> task 1
        small2 = tf.Variable(tf.zeros([10]), name="small2")   # task 1 holds 40 < 400
        medium = tf.Variable(tf.zeros([100], tf.float64), name="medium")  # 800 -> task 1
    assert [v.op.device[-1] for v in (big, small1, small2, medium)] == ["0", "1", "1", "1"]
