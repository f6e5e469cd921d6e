"""tf.import_graph_def and tf.io.write_graph."""
import os

from runnel.framework import ops
from runnel.framework.api_export import tf_export
from runnel.framework.file_io import write_atomically
from runnel.proto import graph_pb2
from google.protobuf import text_format


def _split_tensor_name(name):
    if name.startswith("^"):
        return name[1:], None
    op, sep, port = name.rpartition(":")
    if sep and port.isdigit():
        return op, int(port)
    return name, 0


@tf_export("import_graph_def")
def import_graph_def(graph_def, input_map=None, return_elements=None, name=None,
                     op_dict=None, producer_op_list=None):
    """Adds the nodes of `graph_def` to the default graph, under the scope `name`
    ("import" by default). `input_map` replaces imported tensors by existing ones;
    `return_elements` names the ops ("op") or tensors ("op:0") to return."""
    if isinstance(graph_def, (bytes, bytearray)):
        parsed = graph_pb2.GraphDef()
        parsed.ParseFromString(graph_def)
        graph_def = parsed
    if not isinstance(graph_def, graph_pb2.GraphDef):
        raise TypeError(f"graph_def must be a GraphDef proto, got {type(graph_def).__name__}")
    graph = ops.get_default_graph()
    input_map = {(k if ":" in k or k.startswith("^") else k + ":0"): v
                 for k, v in (input_map or {}).items()}
    for key, value in input_map.items():
        if not isinstance(value, ops.Tensor):
            raise TypeError(f"input_map value for '{key}' must be a Tensor")
    with graph.name_scope(name if name is not None else "import") as scope:
        prefix = scope
    names = {n.name for n in graph_def.node}
    used = set()
    rewritten = graph_pb2.GraphDef()
    rewritten.versions.CopyFrom(graph_def.versions)
    rewritten.library.CopyFrom(graph_def.library)
    for node in graph_def.node:
        new = rewritten.node.add()
        new.CopyFrom(node)
        new.name = prefix + node.name
        del new.input[:]
        for inp in node.input:
            op, port = _split_tensor_name(inp)
            key = f"{op}:{port}" if port is not None else inp
            if key in input_map:
                used.add(key)
                new.input.append(input_map[key].name)
            elif op in names:
                new.input.append(("^" if port is None else "") + prefix + op +
                                 (f":{port}" if port else ""))
            else:
                raise ValueError(f"node '{node.name}' has input '{inp}', which is neither in "
                                 "the graph_def nor in input_map")
    unused = set(input_map) - used
    if unused:
        raise ValueError(f"input_map names tensors that are not in the graph_def: "
                         f"{sorted(unused)}")
    added = graph._c_graph.extend(rewritten.SerializeToString())
    graph._add_imported_nodes(added)
    if return_elements is None:
        return None
    results = []
    for element in return_elements:
        if ":" in element:
            results.append(graph.get_tensor_by_name(prefix + element))
        else:
            results.append(graph.get_operation_by_name(prefix + element))
    return results


@tf_export("io.write_graph", "train.write_graph")
def write_graph(graph_or_graph_def, logdir, name, as_text=True):
    """Writes a GraphDef (text or binary) to logdir/name, atomically; returns the path."""
    graph_def = graph_or_graph_def
    if isinstance(graph_def, ops.Graph):
        graph_def = graph_def.as_graph_def()
    os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, name)
    data = text_format.MessageToString(graph_def).encode() if as_text else \
        graph_def.SerializeToString()
    write_atomically(path, data)
    return path
