"""runnel-inspect: what a GraphDef file holds, and a drawing of it.

    runnel-inspect MODEL.pb                   summary: inputs, outputs, ops, parameters, FLOPs
    runnel-inspect MODEL.pb --nodes           every node with its inferred output shapes
    runnel-inspect MODEL.pb --json            the same for machines
    runnel-inspect MODEL.pb --dot > g.dot     Graphviz
    runnel-inspect MODEL.pb --html g.html     one offline page: name scopes fold, click a
                                              node for details, search by name or op
    runnel-inspect MODEL.pb --optimize -o OUT.pb   the graph after Runnel's graph passes

Reads binary or text GraphDefs, Runnel's and TensorFlow's. Ops Runnel does not know are
listed (in red on a terminal) and still inspected; their outputs' shapes are unknown.
"""
import argparse
import collections
import functools
import html
import json
import os
import sys


from runnel import _runnel
from runnel.framework import dtypes
from runnel.framework import file_io
from runnel.proto import graph_pb2
from runnel.proto import op_def_pb2
from runnel.tools import graph_page

_STATE_OPS = ("Const", "NoOp")


def load_graph_def(path):
    """A GraphDef from a binary or text file; ValueError saying which when neither parses."""
    with open(path, "rb") as f:
        data = f.read()
    graph_def = graph_pb2.GraphDef()
    try:
        graph_def.ParseFromString(data)
        if all(node.name and node.op for node in graph_def.node):
            return graph_def, "binary"
    except Exception:  # noqa: BLE001 - any decode error: try text next
        pass
    from google.protobuf import text_format
    try:
        graph_def = graph_pb2.GraphDef()
        text_format.Parse(data.decode("utf-8"), graph_def)
        return graph_def, "text"
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"{path} is neither a binary nor a text GraphDef ({e})") from None


def _input_node(name):
    name = name[1:] if name.startswith("^") else name
    return name.rsplit(":", 1)[0] if ":" in name and name.rsplit(":", 1)[1].isdigit() else name


@functools.lru_cache(maxsize=None)
def _known_ops():
    ops = op_def_pb2.OpList()
    ops.ParseFromString(_runnel.op_list())
    return {op.name for op in ops.op}


def _topological(graph_def):
    by_name = {n.name: n for n in graph_def.node}
    pending = {n.name: sum(_input_node(i) in by_name for i in n.input) for n in graph_def.node}
    readers = collections.defaultdict(list)
    for n in graph_def.node:
        for i in n.input:
            readers[_input_node(i)].append(n.name)
    ready = [name for name, count in pending.items() if count == 0]
    order = []
    while ready:
        name = ready.pop()
        order.append(by_name[name])
        for r in readers[name]:
            pending[r] -= 1
            if pending[r] == 0:
                ready.append(r)
    return order


def _shape_list(shape):
    return None if shape is None else [None if d is None or d < 0 else int(d) for d in shape]


def infer(graph_def, batch=None):
    """{node: (dtypes, shapes)} for the nodes whose shapes infer; with `batch`, placeholders'
    leading dims are set to it first."""
    known = _known_ops()
    graph = _runnel.Graph()
    info = {}
    for node in _topological(graph_def):
        data = [i for i in node.input if not i.startswith("^")]
        if node.op not in known or any(_input_node(i) not in info for i in data):
            continue
        node = _with_batch(node, batch) if batch is not None else node
        if any(_input_node(i) not in info for i in node.input):  # ordered after an unknown op
            copy = type(node)()
            copy.CopyFrom(node)
            del copy.input[:]
            copy.input.extend(i for i in node.input if _input_node(i) in info)
            node = copy
        try:
            _, types, shapes, _ = graph.add_node(node.SerializeToString())
        except Exception:  # noqa: BLE001 - a node that does not validate: shapes unknown
            continue
        info[node.name] = ([dtypes.as_dtype(t).name for t in types],
                           [None if s is None else _shape_list(s) for s in shapes])
    return info


def _with_batch(node, batch):
    if node.op != "Placeholder" or "shape" not in node.attr:
        return node
    shape = node.attr["shape"].shape
    if shape.unknown_rank or not shape.dim:
        return node
    copy = type(node)()
    copy.CopyFrom(node)
    copy.attr["shape"].shape.dim[0].size = batch
    return copy


def _input_shape(shapes, tensor):
    """The shape of `tensor` ("node" or "node:port") in infer()'s result; None if unknown."""
    src, _, port = tensor.partition(":")
    node_shapes = shapes.get(src, ([], []))[1]
    index = int(port) if port else 0
    return node_shapes[index] if index < len(node_shapes) else None


def _tensor_elements_and_bytes(tensor):
    count = 1
    for d in tensor.tensor_shape.dim:
        count *= max(d.size, 0)
    try:
        size = dtypes.as_dtype(tensor.dtype).size
    except (TypeError, KeyError):
        size = 0
    return count, count * size


def _format_shape(shape):
    if shape is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def summarize(graph_def, path, fmt, batch=1, with_nodes=False):
    """Everything the text, JSON and HTML views show, as plain data."""
    known = _known_ops()
    inputs, outputs = _runnel.graph_signature(graph_def.SerializeToString())
    shapes = infer(graph_def)
    batch_shapes = infer(graph_def, batch)
    by_name = {n.name: n for n in graph_def.node}
    guessed = False
    if not inputs:  # best guess: nodes reading nothing that are not constants
        inputs = [n.name for n in graph_def.node if not n.input and n.op not in _STATE_OPS
                  and "Variable" not in n.op]
        guessed = True

    def tensor_info(name):
        node = by_name[name]
        types, node_shapes = shapes.get(name, ([], []))
        if not types and node.op == "Placeholder" and "dtype" in node.attr:
            types = [dtypes.as_dtype(node.attr["dtype"].type).name]
        return {"name": name, "op": node.op, "dtype": types[0] if types else None,
                "shape": node_shapes[0] if node_shapes else None}

    params, param_bytes, constants = 0, 0, 0
    for n in graph_def.node:
        if n.op == "Const" and "value" in n.attr:
            count, size = _tensor_elements_and_bytes(n.attr["value"].tensor)
            params += count
            param_bytes += size
            constants += 1
    flops_by_op = collections.Counter()
    for n in graph_def.node:
        if n.name not in batch_shapes:
            continue
        in_shapes = [_input_shape(batch_shapes, i) for i in n.input if not i.startswith("^")]
        out = batch_shapes[n.name][1]
        out_shape = out[0] if out and out[0] is not None and None not in out[0] else []
        if all(s is not None and None not in s for s in in_shapes):
            flops = _runnel.estimate_flops(n.op, in_shapes, out_shape)
            if flops:
                flops_by_op[n.op] += flops
    unknown = sorted({n.op for n in graph_def.node if n.op not in known})
    run_command = "runnel-run " + path + "".join(
        f" --input {name}={name.replace('/', '_')}.npy" for name in inputs) + " --benchmark"
    summary = {
        "file": path, "format": fmt, "node_count": len(graph_def.node),
        "inputs": [tensor_info(name) for name in inputs], "inputs_guessed": guessed,
        "outputs": [tensor_info(name) for name in outputs],
        "op_histogram": dict(collections.Counter(n.op for n in graph_def.node).most_common()),
        "parameters": {"count": params, "bytes": param_bytes, "constants": constants},
        "control_edges": sum(i.startswith("^") for n in graph_def.node for i in n.input),
        "devices": sorted({n.device for n in graph_def.node if n.device}),
        "unknown_ops": unknown,
        "flops": {"batch": batch, "total": sum(flops_by_op.values()),
                  "by_op": dict(flops_by_op.most_common())},
        "run_command": run_command,
    }
    if with_nodes:
        summary["nodes"] = [node_info(n, shapes, known) for n in graph_def.node]
    return summary


def _attr_text(value):
    kind = value.WhichOneof("value")
    if kind == "tensor":
        dims = [d.size for d in value.tensor.tensor_shape.dim]
        return f"tensor {dtypes.as_dtype(value.tensor.dtype).name} {_format_shape(dims)}"
    if kind == "shape":
        if value.shape.unknown_rank:
            return "<unknown>"
        return _format_shape([d.size if d.size >= 0 else None for d in value.shape.dim])
    if kind == "type":
        try:
            return dtypes.as_dtype(value.type).name
        except (TypeError, KeyError):
            return str(value.type)
    if kind == "list":
        items = list(value.list.i) or list(value.list.f) or [
            s.decode(errors="replace") for s in value.list.s]
        return "[" + ", ".join(str(x) for x in items) + "]"
    if kind == "s":
        return value.s.decode(errors="replace")
    return str(getattr(value, kind)) if kind else ""


def node_info(node, shapes, known):
    types, node_shapes = shapes.get(node.name, ([], []))
    return {"name": node.name, "op": node.op, "device": node.device,
            "inputs": list(node.input), "dtypes": types, "shapes": node_shapes,
            "known_op": node.op in known,
            "attrs": {k: _attr_text(v) for k, v in sorted(node.attr.items())
                      if not k.startswith("_")}}


def _human(n):
    for unit in ("", "K", "M", "G", "T"):
        if abs(n) < 1000:
            return f"{n:.1f}{unit}" if unit else str(int(n))
        n /= 1000
    return f"{n:.1f}P"


def print_summary(s, color):
    red = ("\033[31m", "\033[0m") if color else ("", "")
    print(f"{s['file']}: {s['format']} GraphDef, {s['node_count']} nodes, "
          f"{s['control_edges']} control edges")
    print("Inputs" + (" (best guess: the graph has no placeholders)" if s["inputs_guessed"]
                      else "") + ":")
    for t in s["inputs"]:
        print(f"  {t['name']}: {t['dtype'] or '?'} {_format_shape(t['shape'])}")
    print("Outputs:")
    for t in s["outputs"]:
        print(f"  {t['name']} ({t['op']}): {t['dtype'] or '?'} {_format_shape(t['shape'])}")
    p = s["parameters"]
    print(f"Parameters: {p['count']:,} in {p['constants']} constants "
          f"({p['bytes'] / 1e6:.2f} MB)")
    f = s["flops"]
    print(f"FLOPs at batch {f['batch']}: {_human(f['total'])}"
          + ("  (" + ", ".join(f"{op} {_human(v)}" for op, v in f["by_op"].items()) + ")"
             if f["by_op"] else ""))
    print("Devices: " + (", ".join(s["devices"]) if s["devices"] else "none requested"))
    print(f"Ops ({len(s['op_histogram'])} types):")
    for op, count in s["op_histogram"].items():
        mark = f"  {red[0]}(unknown to Runnel){red[1]}" if op in s["unknown_ops"] else ""
        print(f"  {count:6d}  {op}{mark}")
    if s["unknown_ops"]:
        print(f"{red[0]}Unknown ops: {', '.join(s['unknown_ops'])}{red[1]}")
    print("Run it:\n  " + s["run_command"])


def print_nodes(nodes):
    for n in nodes:
        outs = ", ".join(f"{t} {_format_shape(sh)}" for t, sh in zip(n["dtypes"], n["shapes"]))
        print(f"{n['name']} ({n['op']}) <- {', '.join(n['inputs']) or '-'}"
              f"{' -> ' + outs if outs else ''}")


def to_dot(graph_def, shapes):
    lines = ["digraph G {", "  rankdir=TB;", '  node [shape=box, fontname="Helvetica"];']

    def q(s):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    for n in graph_def.node:
        style = ', style=filled, fillcolor="#e8e8e8"' if n.op == "Const" else ""
        lines.append(f"  {q(n.name)} [label={q(n.name + chr(10) + n.op)}{style}];")
    for n in graph_def.node:
        for i in n.input:
            if i.startswith("^"):
                lines.append(f"  {q(i[1:])} -> {q(n.name)} [style=dashed];")
                continue
            shape = _input_shape(shapes, i)
            label = "" if shape is None else _format_shape(shape)
            lines.append(f"  {q(i.partition(':')[0])} -> {q(n.name)} [label={q(label)}];")
    lines.append("}")
    return "\n".join(lines)


def write_html(summary, out_path):
    page = graph_page.TEMPLATE.replace("__TITLE__", html.escape(os.path.basename(summary["file"])))
    data = json.dumps(summary).replace("</", "<\\/")
    page = page.replace("__DATA__", data)
    file_io.write_atomically(out_path, page.encode())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="runnel-inspect", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("graph", help="a GraphDef file (.pb binary or .pbtxt text)")
    parser.add_argument("--batch", type=int, default=1, help="batch size for FLOP estimates")
    parser.add_argument("--nodes", action="store_true", help="list every node")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--dot", action="store_true", help="print Graphviz DOT")
    parser.add_argument("--html", metavar="OUT", help="write a self-contained HTML drawing")
    parser.add_argument("--optimize", action="store_true",
                        help="apply Runnel's graph passes (write the result with -o)")
    parser.add_argument("--level", type=int, default=2, help="optimization level (0-2)")
    parser.add_argument("-o", "--output", metavar="OUT.pb", help="where --optimize writes")
    args = parser.parse_args(argv)
    try:
        graph_def, fmt = load_graph_def(args.graph)
    except (OSError, ValueError) as e:
        print(f"runnel-inspect: {e}", file=sys.stderr)
        return 1
    if args.optimize:
        before = len(graph_def.node)
        try:
            optimized = _runnel.optimize_frozen_graph(graph_def.SerializeToString(), args.level)
        except Exception as e:  # noqa: BLE001 - runnel.errors.*: report and fail
            print(f"runnel-inspect: cannot optimize {args.graph}: {e}", file=sys.stderr)
            return 1
        graph_def = graph_pb2.GraphDef()
        graph_def.ParseFromString(optimized)
        print(f"optimized: {before} -> {len(graph_def.node)} nodes", file=sys.stderr)
        if args.output:
            file_io.write_atomically(args.output, optimized)
            print(f"wrote {args.output}", file=sys.stderr)
    if args.dot:  # the drawing instead of the summary (which only --html then needs)
        print(to_dot(graph_def, infer(graph_def)))
    if args.dot and not args.html:
        return 0
    summary = summarize(graph_def, args.graph, fmt, args.batch,
                        with_nodes=args.nodes or args.json or bool(args.html))
    if args.html:
        write_html(summary, args.html)
        print(f"wrote {args.html}", file=sys.stderr)
    if args.dot:
        return 0
    if args.json:
        json.dump(summary, sys.stdout, indent=1)
        print()
    elif not args.html or args.nodes:
        print_summary(summary, color=sys.stdout.isatty())
        if args.nodes:
            print("Nodes:")
            print_nodes(summary["nodes"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
