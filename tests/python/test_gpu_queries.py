"""tf.test's GPU queries agree with the build and with what a session finds."""
import pathlib

import runnel as tf


def test_built_with_cuda_when_the_gpu_plugin_was_built():
    lib = pathlib.Path(tf._runnel.__file__).resolve().parents[2] / "lib"
    assert tf.test.is_built_with_cuda() == (lib / "librunnel_gpu.so").exists()


def test_gpu_queries_agree_with_the_sessions_devices():
    with tf.Session(graph=tf.Graph()) as sess:
        gpus = [d for d in sess.list_devices() if d.device_type == "GPU"]
    assert tf.test.is_gpu_available() == bool(gpus)
    assert tf.test.gpu_device_name() == ("/device:GPU:0" if gpus else "")
    if not gpus:  # this machine: a CPU-only process never loads the GPU plug-in
        assert tf.test.is_gpu_available(cuda_only=True) is False
