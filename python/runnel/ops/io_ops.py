"""tf.io functions that are more than an op's own (read_file, decode_jpeg, ... are)."""
from runnel.framework.api_export import tf_export
from runnel.ops import gen_ops


@tf_export("io.decode_raw", "decode_raw")
def decode_raw(input_bytes=None, out_type=None, little_endian=True, name=None,
               bytes=None):  # noqa: A002 - TF1's name for the input
    """Each string's bytes as a vector of `out_type` (TF1 also calls the input `bytes`)."""
    input_bytes = input_bytes if input_bytes is not None else bytes
    return gen_ops.decode_raw(input_bytes, out_type=out_type, little_endian=little_endian,
                              name=name)
