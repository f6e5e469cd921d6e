"""tf.io: reading files and graphs, decoding raw bytes."""
from runnel.framework.importer import write_graph  # noqa: F401 - tf.io.write_graph
from runnel.image import decode_jpeg, decode_png, encode_png  # noqa: F401 - tf.io names
from runnel.ops import gen_ops


def read_file(filename, name=None):
    """The contents of the file `filename` (a scalar string tensor)."""
    return gen_ops.read_file(filename, name=name)


def decode_raw(input_bytes=None, out_type=None, little_endian=True, name=None,
               bytes=None):  # noqa: A002 - TF1's name for the input
    """Each string's bytes as a vector of `out_type` (TF1 also calls the input `bytes`)."""
    input_bytes = input_bytes if input_bytes is not None else bytes
    return gen_ops.decode_raw(input_bytes, out_type=out_type, little_endian=little_endian,
                              name=name)
