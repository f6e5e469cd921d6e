"""tf.test's GPU queries, as TF1 scripts ask them before placing work on a GPU."""
from runnel import _runnel
from runnel.framework.api_export import tf_export


@tf_export("test.is_built_with_cuda")
def is_built_with_cuda():
    """Whether this Runnel was built with the GPU device (CUDA)."""
    return _runnel.built_with_cuda()


@tf_export("test.gpu_device_name")
def gpu_device_name():
    """The first GPU's device name ('/device:GPU:0'), or '' where there is none."""
    from runnel.client import session
    from runnel.framework import ops
    with session.Session(graph=ops.Graph()) as sess:
        for device in sess.list_devices():
            if device.device_type == "GPU":
                return "/device:GPU:" + device.name.rsplit(":", 1)[-1]
    return ""


@tf_export("test.is_gpu_available")
def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None):
    """Whether a session here has a GPU device. Runnel's GPUs are CUDA ones, and a GPU whose
    architecture this build has no code for is not made a device, so the arguments change
    nothing."""
    del cuda_only, min_cuda_compute_capability
    return gpu_device_name() != ""
