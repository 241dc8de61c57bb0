"""The harness' own tests stay clean on the pytest a fresh venv installs: no argument pytest has
deprecated (pytest 9.1 warns PytestRemovedIn10Warning for a generator given to parametrize)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _generator_functions(tree):
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
            and any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in ast.walk(node))}


def _is_parametrize(call):
    f = call.func
    return isinstance(f, ast.Attribute) and f.attr == "parametrize"


def generators_given_to_parametrize(source: str) -> list:
    """'line N: name()' for each parametrize whose argvalues call a generator function of the module."""
    tree = ast.parse(source)
    generators = _generator_functions(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _is_parametrize(node)):
            continue
        values = node.args[1] if len(node.args) > 1 else next(
            (k.value for k in node.keywords if k.arg == "argvalues"), None)
        if isinstance(values, (ast.GeneratorExp,)) or (
                isinstance(values, ast.Call) and isinstance(values.func, ast.Name) and values.func.id in generators):
            found.append(f"line {node.lineno}: {ast.unparse(values)}")
    return found


@pytest.mark.parametrize("path", sorted(TESTS.rglob("test_*.py")), ids=lambda p: str(p.relative_to(TESTS)))
def test_no_generator_is_given_to_parametrize(path):
    found = generators_given_to_parametrize(path.read_text())
    assert not found, f"{path.name}: parametrize takes a generator (PytestRemovedIn10Warning): {found}"


def test_the_check_finds_a_planted_generator():
    planted = ("import pytest\ndef cases():\n    yield 1\n"
               "@pytest.mark.parametrize('x', cases())\ndef test_x(x):\n    pass\n")
    assert generators_given_to_parametrize(planted) == ["line 4: cases()"]
    assert generators_given_to_parametrize(planted.replace("cases())", "list(cases()))")) == []
