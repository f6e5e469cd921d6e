"""Strings, files and image codecs: string tensors fed, fetched and stored in constants;
ReadFile; DecodeRaw against numpy; PNG and JPEG against PIL (an independent codec); corrupt
or truncated images are errors naming the node; a JPEG decoded, resized and classified by
MobileNet entirely in the graph."""
import io

import numpy as np
import pytest

import runnel as tf
from conftest import SHARED_DATA, run

PIL = pytest.importorskip("PIL.Image", reason="python3-pil is needed as the reference codec")
RNG = np.random.default_rng(0)


def smooth_image(h, w, c):
    """A photo-like image (smooth gradients plus a little noise) that JPEG keeps well."""
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)),
                     ((x + y) * 127 // max(h + w - 2, 1))], -1)[..., :c]
    return np.clip(base + RNG.integers(-8, 9, base.shape), 0, 255).astype(np.uint8)


def encoded(array, fmt, **kwargs):
    buffer = io.BytesIO()
    PIL.fromarray(array.squeeze(-1) if array.shape[-1] == 1 else array).save(buffer, fmt,
                                                                              **kwargs)
    return buffer.getvalue()


def test_string_tensors_feed_fetch_and_constants():
    s = tf.placeholder(tf.string, [None])
    out = tf.identity(s)
    c = tf.constant([b"abc", "d\u00e9f"])
    with tf.Session() as sess:
        got = sess.run(out, {s: [b"x", "y\u00e9", b"\x00\xff"]})
        assert got.dtype == object and list(got) == [b"x", "y\u00e9".encode(), b"\x00\xff"]
        assert list(sess.run(c)) == [b"abc", "d\u00e9f".encode()]
        assert sess.run(tf.shape(c)).tolist() == [2]
    with pytest.raises(tf.errors.InvalidArgumentError, match="attr 'T' is string"):
        tf.raw_ops.Neg(x=c)  # the op does not take strings
    # ConcatV2 takes any type, but its kernel copies bytes: no kernel for strings.
    with pytest.raises(tf.errors.NotFoundError,
                       match="no device has a kernel for op 'ConcatV2' with T=string"):
        run(tf.concat([c, c], 0))


def test_read_file_and_decode_raw(tmp_path):
    values = RNG.standard_normal(6).astype(np.float32)
    path = tmp_path / "values.bin"
    path.write_bytes(values.tobytes())
    contents = tf.read_file(str(path))
    floats = tf.decode_raw(contents, tf.float32)
    big = tf.io.decode_raw(tf.constant([b"\x00\x01\x00\x02", b"\x01\x00\x00\x03"]), tf.int16,
                           little_endian=False)
    got_bytes, got_floats, got_big = run([contents, floats, big])
    assert got_bytes == values.tobytes()
    np.testing.assert_array_equal(got_floats, values)
    np.testing.assert_array_equal(got_big, [[1, 2], [256, 3]])
    with pytest.raises(tf.errors.NotFoundError, match="cannot open file '.*missing.bin'"):
        run(tf.read_file(str(tmp_path / "missing.bin")))
    with pytest.raises(tf.errors.InvalidArgumentError, match="same length"):
        run(tf.decode_raw(tf.constant([b"ab", b"abcd"]), tf.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError, match="no whole number"):
        run(tf.decode_raw(tf.constant(b"abc"), tf.int16))


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_round_trips_and_matches_pil(channels):
    image = RNG.integers(0, 256, (7, 9, channels)).astype(np.uint8)
    ours = tf.image.encode_png(tf.constant(image))
    decoded = tf.image.decode_png(ours)
    from_pil = tf.image.decode_png(tf.constant(encoded(image, "PNG")))
    png, back, theirs = run([ours, decoded, from_pil])
    np.testing.assert_array_equal(back, image)
    np.testing.assert_array_equal(theirs, image)
    pil = np.asarray(PIL.open(io.BytesIO(png)))
    np.testing.assert_array_equal(pil.reshape(image.shape), image)


def test_png_channel_conversions_and_sixteen_bits():
    rgba = RNG.integers(0, 256, (4, 5, 4)).astype(np.uint8)
    gray = RNG.integers(0, 256, (4, 5, 1)).astype(np.uint8)
    wide = RNG.integers(0, 65536, (3, 4, 3)).astype(np.uint16)
    rgb_of_rgba = tf.image.decode_png(tf.image.encode_png(tf.constant(rgba)), channels=3)
    rgb_of_gray = tf.image.decode_png(tf.image.encode_png(tf.constant(gray)), channels=3)
    wide_back = tf.image.decode_png(tf.image.encode_png(tf.constant(wide)), dtype=tf.uint16)
    narrow = tf.image.decode_png(tf.image.encode_png(tf.constant(wide)))
    scaled = tf.image.decode_png(tf.image.encode_png(tf.constant(gray)), dtype=tf.uint16)
    a, b, c, d, e = run([rgb_of_rgba, rgb_of_gray, wide_back, narrow, scaled])
    np.testing.assert_array_equal(a, rgba[..., :3])
    np.testing.assert_array_equal(b, np.repeat(gray, 3, -1))
    np.testing.assert_array_equal(c, wide)
    np.testing.assert_array_equal(d, wide >> 8)
    np.testing.assert_array_equal(e, gray.astype(np.uint16) * 257)


def test_jpeg_matches_pil():
    image = smooth_image(37, 50, 3)
    data = encoded(image, "JPEG", quality=90)
    pil = np.asarray(PIL.open(io.BytesIO(data)))
    contents = tf.constant(data)
    accurate = tf.image.decode_jpeg(contents, dct_method="INTEGER_ACCURATE")
    default = tf.image.decode_jpeg(contents)
    half = tf.image.decode_jpeg(contents, ratio=2)
    gray = tf.image.decode_jpeg(contents, channels=1)
    a, d, h, g = run([accurate, default, half, gray])
    np.testing.assert_array_equal(a, pil)  # same library, same settings: the same pixels
    assert np.abs(d.astype(int) - pil).max() <= 8  # INTEGER_FAST, TensorFlow's default
    assert h.shape == (19, 25, 3) and g.shape == (37, 50, 1)
    assert abs(g.astype(float).mean() - np.asarray(PIL.open(io.BytesIO(data)).convert("L")).mean()) < 2


@pytest.mark.parametrize("op, data, message", [
    ("jpeg", b"", "Invalid JPEG data"),
    ("jpeg", b"\xff\xd8\xff garbage", "Invalid JPEG data"),
    ("jpeg", "truncated", "ends early"),
    ("png", b"\x89PNG\r\n\x1a\n", "Invalid PNG data"),
    ("png", b"not a png at all", "Invalid PNG data"),
    ("png", "truncated", "Invalid PNG data"),
    ("png", "bad crc", "Invalid PNG data"),
])
def test_corrupt_images_are_errors_naming_the_node(op, data, message):
    image = smooth_image(64, 64, 3)
    if data == "truncated":  # cut inside the image data, after the headers
        full = encoded(image, "JPEG" if op == "jpeg" else "PNG")
        data = full[:len(full) * 3 // 4]
    elif data == "bad crc":
        full = bytearray(encoded(image, "PNG"))
        full[40] ^= 0xFF  # inside the IDAT chunk
        data = bytes(full)
    decode = tf.image.decode_jpeg if op == "jpeg" else tf.image.decode_png
    with pytest.raises(tf.errors.InvalidArgumentError, match=message + ".*node decode"):
        run(decode(tf.constant(data), name="decode"))


def test_bad_codec_attributes():
    with pytest.raises(tf.errors.InvalidArgumentError, match="ratio must be 1, 2, 4 or 8"):
        run(tf.image.decode_jpeg(tf.constant(b""), ratio=3))
    with pytest.raises(tf.errors.InvalidArgumentError, match="1 to 4 channels"):
        run(tf.image.encode_png(tf.zeros([2, 2, 5], tf.uint8)))


def test_mobilenet_classifies_a_jpeg_decoded_in_the_graph():
    jpeg = SHARED_DATA / "tf-frozen" / "granny_smith.jpg"
    model = SHARED_DATA / "tf-frozen" / "mobilenet_v1_0.25_128.pb"
    if not jpeg.exists():
        pytest.skip(f"shared test data not found at {jpeg}")
    image = tf.image.decode_jpeg(tf.read_file(str(jpeg)), channels=3)
    batch = tf.image.resize_bilinear(tf.expand_dims(tf.cast(image, tf.float32), 0), [128, 128])
    graph_def = tf.GraphDef()
    graph_def.ParseFromString(model.read_bytes())
    (probs,) = tf.import_graph_def(graph_def, input_map={"input:0": batch / 127.5 - 1.0},
                                   return_elements=["MobilenetV1/Predictions/Reshape_1:0"])
    assert int(np.argmax(run(probs))) == 949  # Granny Smith


def test_images_declaring_too_many_pixels_are_refused_before_decoding():
    """A few bytes of header can declare a 60000 x 60000 image: refused with the size,
    nothing allocated for it."""
    import struct
    import zlib
    jpeg = bytearray(encoded(smooth_image(16, 16, 3), "JPEG"))
    sof = jpeg.index(b"\xff\xc0")  # baseline frame header: length, precision, height, width
    jpeg[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)
    png = bytearray(encoded(smooth_image(16, 16, 3), "PNG"))
    ihdr = png.index(b"IHDR")  # then width, height, ... and the chunk's CRC
    png[ihdr + 4:ihdr + 12] = struct.pack(">II", 20000, 20000)
    png[ihdr + 17:ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(png[ihdr:ihdr + 17])))
    for decode, data, size in ((tf.image.decode_jpeg, jpeg, "60000 x 60000"),
                               (tf.image.decode_png, png, "20000 x 20000")):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=f"the image is {size} pixels, more than the 268435456"):
            run(decode(tf.constant(bytes(data)), name="decode"))
