"""Writes the fuzz targets' seed inputs into tools/fuzz/seeds/ (committed; run again after
changing it): small graphs for model_fuzzer, images for image_fuzzer (a selector byte,
then the file), TensorProtos for tensor_proto_fuzzer. tools/fuzz.sh adds the shared
TensorFlow graphs and photo when ../shared/data is there.

    PYTHONPATH=build/python /usr/bin/python3 tools/fuzz/make_seeds.py  (needs Pillow)"""
import io
import os

import numpy as np
from PIL import Image

import runnel as tf
from runnel.proto import tensor_pb2

SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


def write(target, name, data):
    os.makedirs(os.path.join(SEEDS, target), exist_ok=True)
    with open(os.path.join(SEEDS, target, name), "wb") as f:
        f.write(data)


def graphs():
    """name -> a graph built by `make` in a graph of its own."""
    def mlp():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        w = tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3))
        tf.nn.softmax(tf.nn.relu(tf.matmul(x, w) + tf.constant([1.0, 2.0, 3.0])), name="probs")

    def cnn():
        x = tf.placeholder(tf.float32, [None, 6, 6, 2], name="image")
        c = tf.nn.conv2d(x, tf.constant(np.full((3, 3, 2, 4), 0.1, np.float32)), [1, 1, 1, 1],
                         "SAME")
        p = tf.nn.max_pool(c, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
        b = tf.nn.batch_normalization(p, 0.5, 2.0, 0.1, 1.5, 1e-3)
        tf.reduce_mean(tf.reshape(b, [-1, 36]), axis=1, name="mean")
        tf.nn.depthwise_conv2d(x, tf.ones([2, 2, 2, 1]), [1, 1, 1, 1], "VALID", name="dw")
        tf.nn.avg_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME", name="avg")

    def array_ops():
        ids = tf.placeholder(tf.int32, [None], name="ids")
        e = tf.gather(tf.constant(np.arange(20, dtype=np.float32).reshape(5, 4)), ids % 5)
        s = tf.strided_slice(e, [0, 1], [-1, 3], [1, 1])
        tf.concat([s, s * 2], axis=1, name="cat")
        tf.transpose(e, name="t")
        tf.tile(e, [2, 1], name="tiled")
        tf.one_hot(ids, 4, name="onehot")
        tf.argmax(e, axis=1, name="am")
        tf.pad(e, [[1, 1], [0, 2]], name="pad")
        tf.cast(tf.range(tf.size(ids)), tf.float32, name="range")

    for make in (mlp, cnn, array_ops):
        g = tf.Graph()
        with g.as_default():
            make()
        yield make.__name__, g.as_graph_def().SerializeToString()


def encoded(image, fmt, **options):
    out = io.BytesIO()
    (image if isinstance(image, Image.Image) else Image.fromarray(image)).save(out, fmt,
                                                                             **options)
    return out.getvalue()


def images():
    """name -> (decoder index in image_fuzzer.cc's kDecoders, file bytes)."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
    gray = rng.integers(0, 255, (5, 7), dtype=np.uint8)
    rgba = np.dstack([rgb, np.full((8, 8), 200, np.uint8)])
    yield "jpeg_gray", 0, encoded(gray, "JPEG")
    yield "jpeg_progressive", 1, encoded(rgb, "JPEG", progressive=True)
    yield "jpeg_rgb", 2, encoded(rgb, "JPEG", quality=80)
    yield "png_rgb", 3, encoded(rgb, "PNG")
    yield "png_gray", 4, encoded(gray, "PNG")
    yield "png_rgba", 5, encoded(rgba, "PNG", optimize=True)
    yield "png_palette", 3, encoded(Image.fromarray(rgb).convert("P"), "PNG")
    yield "png_16bit", 5, encoded((np.arange(64).reshape(8, 8) * 1000).astype(np.uint16), "PNG")


def tensor_protos():
    def proto(dtype, shape, **values):
        p = tensor_pb2.TensorProto(dtype=dtype, **values)
        for size in shape:
            p.tensor_shape.dim.add(size=size)
        return p.SerializeToString()
    yield "float_content", proto(1, [2, 3], tensor_content=np.arange(6, dtype=np.float32)
                                 .tobytes())
    yield "int_repeated", proto(3, [4], int_val=[7])
    yield "strings", proto(7, [2], string_val=[b"a", b"bc"])
    yield "int64", proto(9, [3], int64_val=[1, 2, 3])
    yield "bool_scalar", proto(10, [], bool_val=[True])
    yield "empty", proto(2, [0])


def main():
    for name, data in graphs():
        write("model_fuzzer", name + ".pb", data)
    for name, decoder, data in images():
        write("image_fuzzer", name, bytes([decoder]) + data)
    for name, data in tensor_protos():
        write("tensor_proto_fuzzer", name, data)


if __name__ == "__main__":
    main()
