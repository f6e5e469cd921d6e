"""Data-parallel training of a Fashion-MNIST MLP across a cluster, TensorFlow 1.x style: the
ps tasks hold the variables (tf.train.replica_device_setter), every worker builds its own
graph (between-graph replication), trains on its shard of the data and applies its updates
to the shared variables as it goes (asynchronous, Downpour style). The chief (worker 0)
initializes the variables, waits for the other workers and reports the test accuracy.

    ps:      python3 tools/examples/distributed_mlp.py --job ps --task 0 \\
                 --cluster "ps=localhost:2222;worker=localhost:2223,localhost:2224"
    workers: the same with --job worker --task 0, then --task 1
    one process, for comparison: python3 tools/examples/distributed_mlp.py --local

The ps task only serves (`runnel-server` does the same job); stop it with SIGTERM. Add
--tensorflow to run the same script on TensorFlow's gRPC runtime.
"""
import argparse
import gzip
import os
import time

import numpy as np

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--cluster", help="job=host:port,host:port;job=host:port")
parser.add_argument("--job", choices=["ps", "worker"])
parser.add_argument("--task", type=int, default=0)
parser.add_argument("--local", action="store_true", help="train in one process instead")
parser.add_argument("--tensorflow", action="store_true", help="run on TensorFlow instead")
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--batch", type=int, default=100)
parser.add_argument("--hidden", type=int, default=128)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--examples", type=int, default=60000, help="training examples used")
parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
args = parser.parse_args()

if args.tensorflow:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()
else:
    import runnel as tf


def parse_cluster(spec):
    jobs = {}
    for part in filter(None, spec.split(";")):
        job, addresses = part.split("=", 1)
        jobs[job] = [a for a in addresses.split(",") if a]
    return tf.train.ClusterSpec(jobs)


def load(name, offset):
    with gzip.open(os.path.join(args.data, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def build_model():
    """The MLP, its loss and accuracy; returns what the training loop runs."""
    images = tf.placeholder(tf.float32, [None, 784], name="images")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    init = tf.truncated_normal_initializer(stddev=0.05, seed=args.seed)
    hidden = tf.layers.dense(images, args.hidden, tf.nn.relu, kernel_initializer=init,
                             name="hidden")
    logits = tf.layers.dense(hidden, 10, kernel_initializer=init, name="logits")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=logits))
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))
    global_step = tf.train.get_or_create_global_step()
    train = tf.train.AdamOptimizer(1e-3).minimize(loss, global_step=global_step)
    return images, labels, loss, accuracy, train, global_step


def train_shard(sess, model, x, y, shard, num_shards):
    images, labels, loss, _, train, _ = model
    xs, ys = x[shard::num_shards], y[shard::num_shards]
    rng = np.random.RandomState(args.seed + shard)
    start, steps = time.time(), 0
    for epoch in range(args.epochs):
        order = rng.permutation(len(xs))
        for i in range(0, len(xs) - args.batch + 1, args.batch):
            batch = order[i:i + args.batch]
            sess.run(train, {images: xs[batch], labels: ys[batch]})
            steps += 1
    elapsed = time.time() - start
    print(f"shard {shard}: {steps} steps, {steps * args.batch / elapsed:.0f} examples/s",
          flush=True)


def main():
    x_train = load("train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255
    y_train = load("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    x_test = load("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255
    y_test = load("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
    x_train, y_train = x_train[:args.examples], y_train[:args.examples]
    tf.set_random_seed(args.seed)

    if args.local:
        model = build_model()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            train_shard(sess, model, x_train, y_train, 0, 1)
            acc = sess.run(model[3], {model[0]: x_test, model[1]: y_test})
        print(f"test accuracy {acc:.4f}", flush=True)
        return

    cluster = parse_cluster(args.cluster)
    server = tf.train.Server(cluster, job_name=args.job, task_index=args.task)
    if args.job == "ps":
        server.join()
        return
    num_workers = cluster.num_tasks("worker")
    worker_device = f"/job:worker/task:{args.task}"
    with tf.device(tf.train.replica_device_setter(cluster=cluster, worker_device=worker_device)):
        model = build_model()
        finished = tf.Variable(0, trainable=False, name="workers_finished")
        finish = tf.assign_add(finished, 1)
        ready = tf.reduce_all(tf.stack([tf.is_variable_initialized(v)
                                        for v in tf.global_variables()]))
    is_chief = args.task == 0
    with tf.Session(server.target) as sess:
        if is_chief:
            sess.run(tf.global_variables_initializer())
        else:
            while not sess.run(ready):  # the chief initializes the shared variables
                time.sleep(0.1)
        train_shard(sess, model, x_train, y_train, args.task, num_workers)
        sess.run(finish)
        if is_chief:
            while sess.run(finished) < num_workers:
                time.sleep(0.1)
            acc, step = sess.run([model[3], model[5]], {model[0]: x_test, model[1]: y_test})
            print(f"global step {step}", flush=True)
            print(f"test accuracy {acc:.4f}", flush=True)


if __name__ == "__main__":
    main()
