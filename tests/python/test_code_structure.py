"""The code's shape: the runnel package imports without circles (no module imports, at its
top or inside a function, a module that imports it back), ops and kernels share one set of
families (an op declared in ops/F/ has its kernels in kernels/F/), and no C++ folder
includes one that includes it back. A circle makes order matter and hides which part is
the lower layer."""
import ast
import collections
import pathlib
import re

import runnel
from conftest import ROOT

PACKAGE = pathlib.Path(runnel.__file__).parent


def module_names():
    """Dotted name -> path for every Python module of the package (generated ones too)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def is_extension(name):
    return any(PACKAGE.parent.glob(name.replace(".", "/") + ".*.so"))


def imports_of(name, path, modules):
    """The package's modules that `name` imports anywhere in its body."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                # `from package import module` imports the module; `from package import
                # name` the package, unless the name is an extension module (_runnel).
                full = f"{base}.{alias.name}"
                if full in modules:
                    found.add(full)
                elif not is_extension(full):
                    found.add(base)
    return {m for m in found if m in modules and m != name}


def find_cycle(graph):
    """One cycle of `graph` as a list of nodes, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for succ in sorted(graph[node]):
            if state.get(succ) == "open":
                return path[path.index(succ):] + [succ]
            if succ not in state:
                cycle = visit(succ, path + [succ])
                if cycle:
                    return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [start])
            if cycle:
                return cycle
    return None


def test_no_import_circles():
    modules = module_names()
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    assert "runnel.framework.ops" in graph["runnel.framework.constant_op"]  # it sees imports
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_check_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_ops_and_their_kernels_are_in_the_same_family():
    declared = {}
    for path in (ROOT / "ops").glob("*/*.cc"):
        for op in re.findall(r'REGISTER_OP\("(\w+)"\)', path.read_text()):
            declared[op] = path.parent.name
    families = collections.defaultdict(set)
    for path in (ROOT / "kernels").glob("*/*.cc"):
        text = path.read_text()
        for op in re.findall(r'(?:KernelDefBuilder\(|REGISTER_KERNEL_FOR_TYPES\w*\(\s*)"(\w+)"',
                             text):
            families[op].add(path.parent.name)
    assert len(declared) > 150 and not list((ROOT / "ops").glob("*.cc"))
    misplaced = [f"{op} (ops/{family}/, kernels in {sorted(families[op])})"
                 for op, family in sorted(declared.items())
                 if families[op] and family not in families[op]]
    assert not misplaced, "ops whose kernels are in another family: " + ", ".join(misplaced)
    unseen = sorted(op for op in declared if not families[op] and not op.startswith("Test"))
    assert not unseen, f"ops with no kernel registration found: {unseen}"


def include_graph(folders):
    """Folder -> the folders its C++ files include, for the given source folders."""
    graph = collections.defaultdict(set)
    for folder in folders:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in (".cc", ".h"):
                continue
            here = str(path.parent.relative_to(ROOT))
            for target in re.findall(r'#include "([\w/]+)/\w+\.h"', path.read_text()):
                if target != here and (ROOT / target).is_dir():
                    graph[here].add(target)
    for node in list(graph):
        for target in graph[node]:
            graph.setdefault(target, set())
    return graph


def test_no_include_circles_between_folders():
    graph = include_graph(["core", "ops", "kernels", "runtime"])
    cycle = find_cycle(graph)
    assert cycle is None, "include circle: " + " -> ".join(cycle)


def test_kernel_families_include_only_util_and_core():
    graph = include_graph(["kernels"])
    crossings = [f"{a} -> {b}" for a, targets in sorted(graph.items()) for b in sorted(targets)
                 if a.startswith("kernels/") and b.startswith("kernels/")
                 and b != "kernels/util"]
    assert not crossings, "kernel families include each other: " + ", ".join(crossings)
