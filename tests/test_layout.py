"""The package's layout stays what DESIGN.md draws: no import cycle between rnnparity's modules and no
private name used across modules, counting imports at module level and inside functions alike.

Static (ast only): nothing is imported, so the check runs in any environment."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "rnnparity"


def _modules(root: Path) -> dict:
    """module name -> (path, is_package) for every .py under the package."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def _absolute(module: str, is_package: bool, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def analyse(root: Path = PACKAGE, missing=None):
    """(edges: module -> set of rnnparity modules it imports, private uses: (module, line, what)).
    ``missing``, a list, gets (module, line, what) for each import of a package module that does not
    exist (an import inside a function fails only when it runs)."""
    modules = _modules(root)
    edges, private = {m: set() for m in modules}, []
    missing = [] if missing is None else missing
    for module, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        bound = {}  # local name -> the rnnparity module it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in modules:
                        edges[module].add(alias.name)
                        if alias.asname:
                            bound[alias.asname] = alias.name
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(module, is_package, node.level, node.module)
                if source not in modules:
                    if source.split(".")[0] == root.name:
                        missing.append((module, node.lineno, f"from {source} import ..."))
                    continue
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    if sub in modules:  # `from pkg import submodule`
                        edges[module].add(sub)
                        bound[alias.asname or alias.name] = sub
                        continue
                    edges[module].add(source)
                    if _is_private(alias.name) and source != module:
                        private.append((module, node.lineno, f"from {source} import {alias.name}"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in bound and _is_private(node.attr) and bound[node.value.id] != module:
                private.append((module, node.lineno, f"{bound[node.value.id]}.{node.attr}"))
    return edges, private


def cycles(edges: dict) -> list:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_rnnparity_modules():
    edges, _ = analyse()
    # an edge to a package's __init__ from its own submodule is an import of the package's names
    found = cycles(edges)
    assert not found, "import cycles (each a set of modules importing one another):\n" + \
        "\n".join("  " + " <-> ".join(c) for c in found)


def test_every_import_of_a_package_module_names_one_that_exists():
    missing = []
    analyse(missing=missing)
    assert not missing, "imports of modules that do not exist:\n" + \
        "\n".join(f"  {m}:{line}: {what}" for m, line, what in missing)


def test_no_private_name_is_used_across_modules():
    _, private = analyse()
    assert not private, "private names used from another module (make them public or move them):\n" + \
        "\n".join(f"  {m}:{line}: {what}" for m, line, what in private)


@pytest.mark.parametrize("planted, expected", [
    ({"a.py": "from .b import x\n", "b.py": "def f():\n    from .a import y\n"}, "cycle"),
    ({"a.py": "from .b import _hidden\n", "b.py": "_hidden = 1\n"}, "private"),
    ({"a.py": "from . import b\nb._hidden\n", "b.py": "_hidden = 1\n"}, "private"),
], ids=["function-level-cycle", "private-import", "private-attribute"])
def test_the_check_catches_planted_layout_faults(tmp_path, planted, expected):
    root = tmp_path / "rnnparity"
    root.mkdir()
    (root / "__init__.py").write_text("")
    for name, text in planted.items():
        (root / name).write_text(text)
    edges, private = analyse(root)
    assert (bool(cycles(edges)), bool(private)) == (expected == "cycle", expected == "private")
