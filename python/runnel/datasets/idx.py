"""Reading IDX files (the MNIST format), gzipped or not."""
import gzip
import os

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """The array an IDX file holds; `path` may name the file with or without `.gz`."""
    for candidate in (path, path + ".gz", path[:-3] if path.endswith(".gz") else None):
        if candidate and os.path.exists(candidate):
            path = candidate
            break
    else:
        raise FileNotFoundError(f"IDX file not found: {path}[.gz]")
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    dtype = np.dtype(_DTYPES[data[2]])
    offset = 4 + 4 * rank
    count = int(np.prod(dims)) if dims else 1
    if len(data) - offset != count * dtype.itemsize:
        raise ValueError(f"{path} is truncated or corrupt: header says {dims}, "
                         f"{len(data) - offset} bytes of data follow")
    return np.frombuffer(data, dtype, count, offset).reshape(dims).astype(dtype.newbyteorder("="))


def find(directory, name):
    """`name` in `directory`, gzipped or not, also under a prefix ("mnist-" + name)."""
    for entry in sorted(os.listdir(directory)):
        base = entry[:-3] if entry.endswith(".gz") else entry
        if base == name or base.endswith("-" + name):
            return os.path.join(directory, entry)
    raise FileNotFoundError(f"no {name}[.gz] in {directory}")


def load_split(directory, prefix):
    return (read_idx(find(directory, f"{prefix}-images-idx3-ubyte")),
            read_idx(find(directory, f"{prefix}-labels-idx1-ubyte")))


def load_data(directory, what):
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{what} not found: {directory} does not exist")
    return load_split(directory, "train"), load_split(directory, "t10k")
