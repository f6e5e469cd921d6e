"""Freezes a graph and a checkpoint into one GraphDef whose variables are constants, like
TensorFlow's freeze_graph:

    python3 -m runnel.tools.freeze_graph --input_graph model.pbtxt \\
        --input_checkpoint ckpt/model-1000 --output_node_names logits \\
        --output_graph frozen.pb

The input graph is text unless --input_binary; the output is binary unless --output_text
(or its name ends in .pbtxt). Only what the output nodes need is kept; devices are cleared
unless --clear_devices=false. The output file is written to a temporary name and renamed.
"""
import argparse
import sys

from google.protobuf import message
from google.protobuf import text_format

from runnel import errors
from runnel.framework import graph_util
from runnel.framework.file_io import write_atomically
from runnel.proto import graph_pb2
from runnel.training import saver

_VARIABLE_OPS = ("VariableV2", "Variable")


def read_graph(path, binary):
    graph_def = graph_pb2.GraphDef()
    with open(path, "rb") as f:
        data = f.read()
    try:
        if binary:
            graph_def.ParseFromString(data)
        else:
            text_format.Merge(data.decode("utf-8"), graph_def)
    except (text_format.ParseError, UnicodeDecodeError, message.DecodeError) as e:
        kind = "binary" if binary else "text (pass --input_binary for a binary one)"
        raise errors.InvalidArgumentError(f"{path} is not a {kind} GraphDef: {e}") from None
    return graph_def


def freeze_graph(input_graph, input_checkpoint, output_node_names, output_graph,
                 input_binary=False, output_text=None, clear_devices=True,
                 variable_names_whitelist=None, variable_names_blacklist=None):
    """Writes the frozen graph to output_graph and returns it."""
    graph_def = read_graph(input_graph, input_binary)
    outputs = [n.strip() for n in output_node_names.split(",") if n.strip()]
    sub = graph_util.extract_sub_graph(graph_def, outputs)
    values = saver.load_checkpoint(input_checkpoint)
    frozen_values = {}
    for node in sub.node:
        if node.op not in _VARIABLE_OPS:
            continue
        if variable_names_whitelist is not None and node.name not in variable_names_whitelist:
            continue
        if variable_names_blacklist is not None and node.name in variable_names_blacklist:
            continue
        if node.name not in values:
            raise errors.NotFoundError(
                f"variable {node.name} is not in checkpoint '{input_checkpoint}' (it holds: "
                f"{', '.join(sorted(values)) or 'nothing'})")
        frozen_values[node.name] = values[node.name]
    frozen = graph_util.freeze(sub, frozen_values)
    if clear_devices:
        for node in frozen.node:
            node.device = ""
    text = output_text if output_text is not None else output_graph.endswith(".pbtxt")
    data = text_format.MessageToString(frozen).encode() if text else frozen.SerializeToString()
    write_atomically(output_graph, data)
    return frozen


def _names(value):
    return None if value is None else [n.strip() for n in value.split(",") if n.strip()]


def _bool(value):
    return str(value).lower() in ("1", "true", "yes")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input_graph", required=True, help="GraphDef file (text unless --input_binary)")
    p.add_argument("--input_binary", type=_bool, nargs="?", const=True, default=False)
    p.add_argument("--input_checkpoint", required=True, help="checkpoint prefix")
    p.add_argument("--output_node_names", required=True, help="comma-separated node names")
    p.add_argument("--output_graph", required=True, help="where the frozen GraphDef goes")
    p.add_argument("--output_text", type=_bool, nargs="?", const=True, default=None)
    p.add_argument("--clear_devices", type=_bool, nargs="?", const=True, default=True)
    p.add_argument("--variable_names_whitelist", default=None)
    p.add_argument("--variable_names_blacklist", default=None)
    args = p.parse_args(argv)
    try:
        frozen = freeze_graph(args.input_graph, args.input_checkpoint, args.output_node_names,
                              args.output_graph, args.input_binary, args.output_text,
                              args.clear_devices, _names(args.variable_names_whitelist),
                              _names(args.variable_names_blacklist))
    except (errors.OpError, AssertionError, OSError) as e:
        print(f"freeze_graph: {e}", file=sys.stderr)
        return 1
    consts = sum(node.op == "Const" for node in frozen.node)
    print(f"{args.output_graph}: {len(frozen.node)} nodes ({consts} constants)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
