"""Random tensors and seeds, with TensorFlow's seed rules: a graph-level seed
(tf.set_random_seed) plus an op-level seed make an op reproducible; with neither, each
session draws differently."""
from runnel.framework import dtypes
from runnel.framework import ops
from runnel.framework.api_export import tf_export
from runnel.ops import gen_ops

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1


@tf_export("set_random_seed")
def set_random_seed(seed):
    ops.get_default_graph().seed = seed


def get_seed(op_seed):
    """(seed, seed2) for an op, from the graph seed and the op's own."""
    graph = ops.get_default_graph()
    if graph.seed is not None:
        if op_seed is None:
            op_seed = len(graph.get_operations())  # deterministic for one construction order
        seeds = (graph.seed, op_seed)
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, op_seed)
    else:
        return 0, 0
    if seeds == (0, 0):
        return 0, _MAXINT32
    return seeds


def _random(op_fn, shape, dtype, seed, name):
    seed1, seed2 = get_seed(seed)
    shape = ops.convert_to_tensor(shape, dtype=dtypes.int32) if not isinstance(shape, ops.Tensor) \
        else shape
    return op_fn(shape, dtype=dtypes.as_dtype(dtype), seed=seed1, seed2=seed2, name=name)


@tf_export("random_normal")
def random_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    with ops.name_scope(name, "random_normal"):
        x = _random(gen_ops.random_standard_normal, shape, dtype, seed, None)
        return x * stddev + mean


@tf_export("truncated_normal")
def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normal values more than 2 standard deviations from the mean are redrawn."""
    with ops.name_scope(name, "truncated_normal"):
        x = _random(gen_ops.truncated_normal, shape, dtype, seed, None)
        return x * stddev + mean


@tf_export("random_uniform")
def random_uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    dtype = dtypes.as_dtype(dtype)
    with ops.name_scope(name, "random_uniform"):
        if dtype.is_integer:
            if maxval is None:
                raise ValueError("random_uniform of an integer dtype needs maxval")
            seed1, seed2 = get_seed(seed)
            return gen_ops.random_uniform_int(
                ops.convert_to_tensor(shape, dtype=dtypes.int32),
                ops.convert_to_tensor(minval, dtype=dtype), ops.convert_to_tensor(maxval, dtype=dtype),
                seed=seed1, seed2=seed2)
        x = _random(gen_ops.random_uniform, shape, dtype, seed, None)
        maxval = 1 if maxval is None else maxval
        return x * (maxval - minval) + minval


@tf_export("random_shuffle")
def random_shuffle(value, seed=None, name=None):
    seed1, seed2 = get_seed(seed)
    return gen_ops.random_shuffle(value, seed=seed1, seed2=seed2, name=name)


@tf_export("multinomial")
def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None):
    """Class indices drawn from softmax(logits) per row (tf.random.categorical)."""
    seed1, seed2 = get_seed(seed)
    return gen_ops.multinomial(logits, ops.convert_to_tensor(num_samples, dtype=dtypes.int32),
                               seed=seed1, seed2=seed2,
                               output_dtype=output_dtype or dtypes.int64, name=name)
