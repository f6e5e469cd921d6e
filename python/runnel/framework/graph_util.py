"""tf.graph_util: freezing a trained graph into constants and trimming GraphDefs, with
TensorFlow 1.x's names and behaviour."""
import copy

from runnel.framework import tensor_util
from runnel.framework.tensor_shape import TensorShape
from runnel.proto import graph_pb2

_VARIABLE_OPS = ("VariableV2", "Variable")


def _node_name(name):
    """'^a', 'a:1' and 'a' all name node 'a'."""
    return name[1:] if name.startswith("^") else name.split(":")[0]


def extract_sub_graph(graph_def, dest_nodes):
    """The nodes `dest_nodes` depend on (through data and control inputs), in graph_def's
    order, as a new GraphDef with graph_def's versions and library."""
    if isinstance(dest_nodes, str):
        raise TypeError("dest_nodes must be a list of node names, not a string")
    by_name = {node.name: node for node in graph_def.node}
    missing = [n for n in dest_nodes if _node_name(n) not in by_name]
    if missing:
        raise AssertionError(f"{', '.join(missing)} is not in graph")
    keep = set()
    pending = [_node_name(n) for n in dest_nodes]
    while pending:
        name = pending.pop()
        if name in keep:
            continue
        keep.add(name)
        pending.extend(_node_name(i) for i in by_name[name].input if _node_name(i) in by_name)
    out = graph_pb2.GraphDef()
    out.versions.CopyFrom(graph_def.versions)
    out.library.CopyFrom(graph_def.library)
    out.node.extend(copy.deepcopy(node) for node in graph_def.node if node.name in keep)
    return out


def remove_training_nodes(input_graph, protected_nodes=None):
    """Drops Identity and CheckNumerics nodes (training-time plumbing) that are not in
    `protected_nodes`, wiring their consumers to what they read. Nodes with control inputs
    are kept, since dropping them would lose the ordering."""
    protected = set(protected_nodes or [])
    removable = {}
    for node in input_graph.node:
        data_inputs = [i for i in node.input if not i.startswith("^")]
        if (node.op in ("Identity", "CheckNumerics") and node.name not in protected and
                len(data_inputs) == len(node.input) == 1):
            removable[node.name] = data_inputs[0]

    def resolve(name):
        control = name.startswith("^")
        target = _node_name(name)
        seen = set()
        while target in removable and target not in seen:
            seen.add(target)
            name = removable[target]
            target = _node_name(name)
        return "^" + target if control else name

    out = graph_pb2.GraphDef()
    out.versions.CopyFrom(input_graph.versions)
    out.library.CopyFrom(input_graph.library)
    for node in input_graph.node:
        if node.name in removable:
            continue
        new = out.node.add()
        new.CopyFrom(node)
        del new.input[:]
        new.input.extend(resolve(i) for i in node.input)
    return out


def tensor_shape_from_node_def_name(graph, input_name):
    """The static shape of `input_name` ('node' means 'node:0') in `graph`."""
    name = input_name if ":" in input_name else input_name + ":0"
    return TensorShape(graph.get_tensor_by_name(name).shape)


def convert_variables_to_constants(sess, input_graph_def, output_node_names,
                                   variable_names_whitelist=None,
                                   variable_names_blacklist=None):
    """The part of input_graph_def that output_node_names need, with every variable in it
    replaced by a Const holding the variable's current value in `sess`: a graph that
    runs without a checkpoint. The Const keeps the variable's name, so its readers (the
    `<name>/read` Identity ops) are unchanged."""
    sub = extract_sub_graph(input_graph_def, output_node_names)
    names = [node.name for node in sub.node if node.op in _VARIABLE_OPS and
             (variable_names_whitelist is None or node.name in variable_names_whitelist) and
             (variable_names_blacklist is None or node.name not in variable_names_blacklist)]
    values = dict(zip(names, sess.run([name + ":0" for name in names]))) if names else {}
    return freeze(sub, values)


def freeze(graph_def, values):
    """graph_def with each node named in `values` (a variable) replaced by a Const of the
    same name and dtype holding the value."""
    out = graph_pb2.GraphDef()
    out.versions.CopyFrom(graph_def.versions)
    out.library.CopyFrom(graph_def.library)
    for node in graph_def.node:
        new = out.node.add()
        if node.name not in values:
            new.CopyFrom(node)
            continue
        new.name = node.name
        new.op = "Const"
        if node.device:
            new.device = node.device
        new.attr["dtype"].CopyFrom(node.attr["dtype"])
        new.attr["value"].tensor.CopyFrom(tensor_util.make_tensor_proto(values[node.name]))
    return out
