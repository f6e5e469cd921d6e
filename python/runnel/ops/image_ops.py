"""tf.image functions that are more than an op's own (decode_jpeg, encode_png, ... are):
resizing and transposing, with TensorFlow 1.x's names and defaults."""
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework.api_export import tf_export
from runnel.ops import array_ops
from runnel.ops import gen_ops


@tf_export("image.ResizeMethod")
class ResizeMethod:
    BILINEAR = 0
    NEAREST_NEIGHBOR = 1


@tf_export("image.resize_bilinear")
def resize_bilinear(images, size, align_corners=False, name=None, half_pixel_centers=False):
    return gen_ops.resize_bilinear(images, size, align_corners=align_corners,
                                   half_pixel_centers=half_pixel_centers, name=name)


@tf_export("image.resize_nearest_neighbor")
def resize_nearest_neighbor(images, size, align_corners=False, name=None,
                            half_pixel_centers=False):
    return gen_ops.resize_nearest_neighbor(images, size, align_corners=align_corners,
                                           half_pixel_centers=half_pixel_centers, name=name)


@tf_export("image.resize_images", "image.resize")
def resize_images(images, size, method=ResizeMethod.BILINEAR, align_corners=False,
                  preserve_aspect_ratio=False, name=None):
    """Resizes [N, H, W, C] (or one [H, W, C] image) to `size`; bilinear results are float,
    nearest-neighbor ones keep the dtype, as in TensorFlow 1.x."""
    if preserve_aspect_ratio:
        raise NotImplementedError("resize_images: preserve_aspect_ratio is not supported")
    if method in ("bilinear", ResizeMethod.BILINEAR):
        fn = resize_bilinear
    elif method in ("nearest", ResizeMethod.NEAREST_NEIGHBOR):
        fn = resize_nearest_neighbor
    else:
        raise ValueError(f"resize_images: method must be BILINEAR or NEAREST_NEIGHBOR, got "
                         f"{method!r}")
    with ops.name_scope(name, "resize", [images, size]):
        images = ops.convert_to_tensor(images)
        single = images.shape.ndims == 3
        if single:
            images = array_ops.expand_dims(images, 0)
        size = ops.convert_to_tensor(size, dtype=dtypes.int32)
        resized = fn(images, size, align_corners=align_corners)
        return array_ops.squeeze(resized, [0]) if single else resized



@tf_export("image.transpose")
def transpose(image, name=None):
    """Swaps the height and width of an image [h, w, c] or a batch [n, h, w, c]."""
    image = ops.convert_to_tensor(image)
    rank = image.shape.ndims
    if rank not in (3, 4):
        raise ValueError(f"tf.image.transpose takes an image of rank 3 or 4, got {image.shape}")
    return array_ops.transpose(image, [1, 0, 2] if rank == 3 else [0, 2, 1, 3], name=name)
