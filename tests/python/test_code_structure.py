"""The runnel package imports without circles: no module imports (at its top or inside a
function) a module that imports it back, directly or through others. A circle makes import
order matter and hides which module is the lower layer."""
import ast
import pathlib

import runnel

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
