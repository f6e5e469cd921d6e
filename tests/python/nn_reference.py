"""Plain-numpy references for the window ops (convolutions and pooling), written from
TensorFlow's documented definitions: NHWC, filters [KH, KW, C, M], SAME padding split with
the extra row/column after."""
import numpy as np


def same_pads(size, window, stride, dilation=1):
    effective = (window - 1) * dilation + 1
    out = -(-size // stride)
    needed = max(0, (out - 1) * stride + effective - size)
    return needed // 2, needed - needed // 2


def pads_for(padding, x_shape, window, strides, dilations=(1, 1)):
    """((top, bottom), (left, right)) for 'SAME', 'VALID' or explicit [[t, b], [l, r]]."""
    if padding == "SAME":
        return tuple(same_pads(x_shape[1 + i], window[i], strides[i], dilations[i])
                     for i in range(2))
    if padding == "VALID":
        return (0, 0), (0, 0)
    return tuple(tuple(p) for p in padding)


def _windows(x, window, strides, dilations, pads, fill):
    """Yields (kh, kw, view) with view[n, oh, ow, c] the input under window position
    (kh, kw) of every output pixel; padding holds `fill`."""
    (t, b), (l, r) = pads
    xp = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=fill)
    oh = (xp.shape[1] - (window[0] - 1) * dilations[0] - 1) // strides[0] + 1
    ow = (xp.shape[2] - (window[1] - 1) * dilations[1] - 1) // strides[1] + 1
    for kh in range(window[0]):
        for kw in range(window[1]):
            h0, w0 = kh * dilations[0], kw * dilations[1]
            yield kh, kw, xp[:, h0:h0 + (oh - 1) * strides[0] + 1:strides[0],
                             w0:w0 + (ow - 1) * strides[1] + 1:strides[1], :]


def conv2d(x, f, strides=(1, 1), padding="VALID", dilations=(1, 1)):
    pads = pads_for(padding, x.shape, f.shape[:2], strides, dilations)
    out = None
    for kh, kw, view in _windows(x, f.shape[:2], strides, dilations, pads, 0):
        term = view @ f[kh, kw]
        out = term if out is None else out + term
    return out


def depthwise_conv2d(x, f, strides=(1, 1), padding="VALID", dilations=(1, 1)):
    """Output channel c * M + m is input channel c convolved with f[:, :, c, m]."""
    pads = pads_for(padding, x.shape, f.shape[:2], strides, dilations)
    out = None
    for kh, kw, view in _windows(x, f.shape[:2], strides, dilations, pads, 0):
        term = (view[..., :, None] * f[kh, kw]).reshape(view.shape[:3] + (-1,))
        out = term if out is None else out + term
    return out


def max_pool(x, ksize, strides, padding):
    pads = pads_for(padding, x.shape, ksize, strides)
    lowest = np.finfo(x.dtype).min if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    return np.max([v for _, _, v in _windows(x, ksize, strides, (1, 1), pads, lowest)], axis=0)


def avg_pool(x, ksize, strides, padding):
    """The mean over the positions inside the input: padding is not counted."""
    pads = pads_for(padding, x.shape, ksize, strides)
    total = sum(v for _, _, v in _windows(x, ksize, strides, (1, 1), pads, 0))
    count = sum(v for _, _, v in _windows(np.ones_like(x[:1, ..., :1]), ksize, strides, (1, 1),
                                          pads, 0))
    return total / count
