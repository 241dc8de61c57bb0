"""Public names of `rnnparity` are never shadowed by a submodule, in any import order.

Importing `rnnparity.<sub>` binds the attribute `rnnparity.<sub>` to the submodule, so a public function
named like a submodule (the old `rnnparity.explain`) became a module once anything imported it."""
from __future__ import annotations

import inspect
import pkgutil
import subprocess
import sys

import rnnparity

MODULE_NAMES = ("testing", "tf1")  # public names that are meant to be submodules


def _submodules():
    return sorted(m.name for m in pkgutil.walk_packages(rnnparity.__path__, "rnnparity.")
                  if not m.name.startswith("rnnparity.suite.test_"))


def test_no_public_name_is_a_submodule_name():
    top = {m.name.rsplit(".", 1)[-1] for m in pkgutil.iter_modules(rnnparity.__path__)}
    clashes = sorted((set(rnnparity.__all__) - set(MODULE_NAMES)) & top)
    assert not clashes, f"public names that are also submodules of rnnparity: {clashes}"


def test_explain_stays_a_function_after_importing_every_submodule():
    """Each submodule imported first, in its own fresh process, then rp.explain is called."""
    script = (
        "import importlib, sys\n"
        "name = sys.argv[1]\n"
        "importlib.import_module(name)\n"
        "import rnnparity as rp\n"
        "for public in rp.__all__:\n"
        "    getattr(rp, public)\n"
        "assert callable(rp.explain) and not isinstance(rp.explain, type(rp)), type(rp.explain)\n"
        "print(rp.explain({'class': 'GRU', 'config': {'units': 2}}, (1, 3, 2)).names())\n"
    )
    failures = []
    for name in ["rnnparity", *_submodules()]:
        done = subprocess.run([sys.executable, "-c", script, name], capture_output=True, text=True)
        if done.returncode != 0 or "last output" not in done.stdout:
            failures.append(f"{name}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.stdout}")
    assert not failures, "rp.explain broken after importing:\n" + "\n".join(failures)


def test_public_callables_are_functions_or_classes():
    for public in set(rnnparity.__all__) - set(MODULE_NAMES):
        obj = getattr(rnnparity, public)
        assert inspect.isfunction(obj) or inspect.isclass(obj), f"rp.{public} is {type(obj).__name__}"
