"""Data-parallel training of a Fashion-MNIST MLP across a cluster, TensorFlow 1.x style: the
ps tasks hold the variables (tf.train.replica_device_setter), every worker builds its own
graph (between-graph replication) and trains on its shard of the data in a
tf.train.MonitoredTrainingSession until the global step reaches the same number of
examples as one process would see. --mode async: each worker applies its updates as it
goes (Downpour style); --mode sync: tf.train.SyncReplicasOptimizer averages the workers'
gradients every step; --mode average: each worker trains its own copy and the copies are
averaged on the ps every --average-iter steps (tf.train.ModelAverageOptimizer). The chief
(worker 0) initializes or restores the variables, saves checkpoints to --checkpoint-dir,
waits for the other workers and reports the accuracy.

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
parser.add_argument("--mode", choices=["async", "sync", "average"], default="async")
parser.add_argument("--average-iter", type=int, default=50)
parser.add_argument("--checkpoint-dir", help="where the chief saves checkpoints (and restores)")
parser.add_argument("--checkpoint-steps", type=int, default=100)
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


def last_global_step(num_examples, num_workers=1):
    """The global step after --epochs: asynchronously every worker's batch is one update,
    synchronously an update takes one batch from each worker, and averaging counts each
    worker's steps."""
    examples_per_step = args.batch * (1 if args.local or args.mode == "async" else num_workers)
    return args.epochs * num_examples // examples_per_step


def build_model(last_step, num_workers=1, is_chief=True, getter=None):
    """The MLP, its loss and accuracy; returns what the training loop runs. The learning
    rate falls tenfold for the last quarter of the steps, so the result depends little on
    the order of the last updates (which asynchronous training leaves to chance); an
    update made of k workers' batches (sync, average) takes k times the step, the linear
    scaling rule, so they reach one process's accuracy in the same epochs."""
    images = tf.placeholder(tf.float32, [None, 784], name="images")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    init = tf.truncated_normal_initializer(stddev=0.05, seed=args.seed)
    def dense(x, units, name, activation=None):  # TensorFlow 2's tf.layers lacks it
        with tf.variable_scope(name):
            w = tf.get_variable("kernel", [int(x.shape[1]), units], initializer=init)
            b = tf.get_variable("bias", [units], initializer=tf.zeros_initializer())
        y = tf.matmul(x, w) + b
        return activation(y) if activation else y
    hidden = dense(images, args.hidden, "hidden", tf.nn.relu)
    logits = dense(hidden, 10, "logits")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=logits))
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))
    global_step = tf.train.get_or_create_global_step()
    scale = 1 if args.local or args.mode == "async" else num_workers
    learning_rate = tf.train.piecewise_constant(global_step, [last_step * 3 // 4],
                                                [1e-3 * scale, 1e-4 * scale])
    optimizer = tf.train.AdamOptimizer(learning_rate)
    if args.mode == "sync" and not args.local:
        optimizer = tf.train.SyncReplicasOptimizer(optimizer, replicas_to_aggregate=num_workers,
                                                   total_num_replicas=num_workers)
    if args.mode == "average" and not args.local:
        optimizer = tf.train.ModelAverageOptimizer(optimizer, num_workers, is_chief, getter,
                                                   average_iter=args.average_iter)
    train = optimizer.minimize(loss, global_step=global_step)
    return images, labels, loss, accuracy, train, global_step, optimizer


def batches(x, y, shard, num_shards):
    """This shard's mini-batches, epoch after epoch, reshuffled each time."""
    xs, ys = x[shard::num_shards], y[shard::num_shards]
    rng = np.random.RandomState(args.seed + shard)
    while True:
        order = rng.permutation(len(xs))
        for i in range(0, len(xs) - args.batch + 1, args.batch):
            yield xs[order[i:i + args.batch]], ys[order[i:i + args.batch]]


def train_shard(sess, model, x, y, shard, num_shards):
    """Trains until the session says stop (MonitoredTrainingSession) or, in one process,
    for --epochs."""
    images, labels, _, _, train = model[:5]
    start, steps = time.time(), 0
    local_steps = args.epochs * (len(x) // args.batch)
    for xb, yb in batches(x, y, shard, num_shards):
        if sess.should_stop() if hasattr(sess, "should_stop") else steps >= local_steps:
            break
        sess.run(train, {images: xb, labels: yb})
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
        model = build_model(last_global_step(len(x_train)))
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
    is_chief = args.task == 0
    getter = tf.train.ModelAverageCustomGetter(worker_device) if args.mode == "average" \
        else None
    with tf.device(tf.train.replica_device_setter(cluster=cluster, worker_device=worker_device)), \
            tf.variable_scope("", custom_getter=getter):
        last_step = last_global_step(len(x_train), num_workers)
        model = build_model(last_step, num_workers, is_chief, getter)
        finished = tf.Variable(0, trainable=False, name="workers_finished")
        finish = tf.assign_add(finished, 1)
    hooks = [tf.train.StopAtStepHook(last_step=last_step)]
    if args.mode == "sync":
        hooks.append(model[6].make_session_run_hook(is_chief))
    if args.mode == "average":
        hooks.insert(0, model[6].make_session_run_hook())
    # This worker's sessions need the ps and itself, not the other workers (which may have
    # finished and gone).
    config = tf.ConfigProto(device_filters=["/job:ps", worker_device])
    with tf.train.MonitoredTrainingSession(
            master=server.target, is_chief=is_chief, checkpoint_dir=args.checkpoint_dir,
            save_checkpoint_steps=args.checkpoint_steps, hooks=hooks, config=config) as sess:
        train_shard(sess, model, x_train, y_train, args.task, num_workers)
    with tf.Session(server.target, config=config) as sess:
        sess.run(finish)
        if is_chief:
            while sess.run(finished) < num_workers:  # the others' last updates
                time.sleep(0.1)
            acc, step = sess.run([model[3], model[5]], {model[0]: x_test, model[1]: y_test})
            print(f"global step {step}", flush=True)
            print(f"test accuracy {acc:.4f}", flush=True)


if __name__ == "__main__":
    main()
