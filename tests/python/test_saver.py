"""tf.train.Saver: round trips, retention, and clear errors for missing, mismatched and
corrupt checkpoints; a save killed midway leaves the previous checkpoint usable."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import runnel as tf


def model():
    w = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="w")
    b = tf.Variable(np.int64(7), name="b")
    return w, b


def test_save_restore_round_trip_in_a_new_session(tmp_path):
    w, b = model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(w.assign(w.value() * 10))
        path = saver.save(sess, str(tmp_path / "model"))
    assert path == str(tmp_path / "model") and os.path.exists(path + ".index")
    with tf.Session() as sess:
        saver.restore(sess, path)
        np.testing.assert_array_equal(sess.run(w), np.arange(6).reshape(2, 3) * 10)
        assert sess.run(b) == 7
    assert tf.train.latest_checkpoint(str(tmp_path)) == path


def test_global_step_names_and_max_to_keep(tmp_path):
    model()
    saver = tf.train.Saver(max_to_keep=2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        paths = [saver.save(sess, str(tmp_path / "ckpt"), global_step=s) for s in (10, 20, 30)]
    assert paths[-1].endswith("ckpt-30")
    assert not os.path.exists(paths[0] + ".index")
    assert all(os.path.exists(p + ".index") for p in paths[1:])
    assert saver.last_checkpoints == paths[1:]
    assert tf.train.latest_checkpoint(str(tmp_path)) == paths[-1]
    data_files = [f for f in os.listdir(tmp_path) if ".data-" in f]
    assert len(data_files) == 2  # the dropped checkpoint's data went with it


def test_restore_errors_name_the_variable(tmp_path):
    w, b = model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "m"))

    def expect_restore_error(value, name, error, match):
        """Restoring `path` into a fresh graph holding only Variable(value, name) fails."""
        with tf.Graph().as_default():
            tf.Variable(value, name=name)
            with pytest.raises(error, match=match):
                with tf.Session() as sess:
                    tf.train.Saver().restore(sess, path)

    expect_restore_error(np.zeros((3, 3), np.float32), "w", tf.errors.InvalidArgumentError,
                         r"variable w has shape \(3, 3\).*\[2, 3\]")
    expect_restore_error(np.zeros((2, 3), np.float64), "w", tf.errors.InvalidArgumentError,
                         "variable w is float64.*float32")
    expect_restore_error(1.0, "other", tf.errors.NotFoundError, "Key other not found")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.NotFoundError, match="no checkpoint"):
            saver.restore(sess, str(tmp_path / "missing"))


def test_corrupt_checkpoints_are_data_loss(tmp_path):
    w, b = model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "m"))
        data = next(tmp_path.glob("m.data-*"))
        raw = bytearray(data.read_bytes())
        raw[3] ^= 0xFF  # inside b, the first entry (entries are sorted by name)
        data.write_bytes(bytes(raw))
        with pytest.raises(tf.errors.DataLossError, match="checksum mismatch for variable b"):
            saver.restore(sess, path)
        (tmp_path / "m.index").write_bytes(b"\x08\x05garbage")
        with pytest.raises(tf.errors.DataLossError, match="corrupt"):
            saver.restore(sess, path)


# Saves the variable `big` (all 2.0) over the checkpoint at argv[1], and stops for good
# inside that save, at its argv[2]-th fsync: the save writes the data file, then the index
# (the commit point), each to a temporary name that is fsynced, renamed, and followed by an
# fsync of the directory. Before stopping it prints the path it synced.
KILLED_SAVE = textwrap.dedent("""
    import os, sys, time, numpy as np, runnel as tf
    stop_at, calls, real_fsync = int(sys.argv[2]), 0, os.fsync
    def fsync_then_stop(fd):
        global calls
        real_fsync(fd)
        calls += 1
        if calls == stop_at:
            print(os.readlink(f"/proc/self/fd/{fd}"), flush=True)
            time.sleep(600)
    os.fsync = fsync_then_stop
    v = tf.Variable(np.full(8_000_000, 2.0, np.float32), name="big")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver.save(sess, sys.argv[1])
""")


@pytest.mark.parametrize("stop_at, synced, value", [
    (1, "the data file's temporary", 1.0),
    (3, "the index's temporary", 1.0),
    (4, "the directory, after the index was renamed", 2.0)])
def test_a_save_killed_midway_leaves_a_whole_checkpoint(tmp_path, stop_at, synced, value):
    prefix = str(tmp_path / "model")
    v = tf.Variable(np.full(8_000_000, 1.0, np.float32), name="big")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver.save(sess, prefix)
    script = tmp_path / "save_and_stop.py"
    script.write_text(KILLED_SAVE)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, str(script), prefix, str(stop_at)], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        path = proc.stdout.readline().strip()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    if stop_at == 4:
        assert path == str(tmp_path)
    else:  # the kill landed while a temporary file of the save existed
        assert path.endswith(".tmp") and os.path.exists(path), path
    with tf.Session() as sess:
        saver.restore(sess, prefix)  # the old checkpoint before the commit, the new after
        restored = sess.run(v)
    assert np.all(restored == value), f"killed after fsyncing {synced}"
