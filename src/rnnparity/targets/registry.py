"""One adapter per framework target, imported lazily (importing rnnparity never imports TF)."""
from __future__ import annotations

import importlib
import importlib.util

# target -> (adapter module, the import that must succeed, what to install when it does not)
TARGETS = {
    "keras3": ("rnnparity.targets.keras3", "keras", 'pip install "rnnparity[tf]" (tensorflow + keras 3)'),
    "tf_keras": ("rnnparity.targets.tf_keras", "tf_keras", 'pip install "rnnparity[tf]" (tf-keras)'),
    "tf1": ("rnnparity.targets.tf1", "tf_keras", 'pip install "rnnparity[tf]" (tensorflow + tf-keras legacy cells)'),
}


def keras2_module() -> str:
    """Where Keras 2 lives: the `tf_keras` package, or, with TF <= 2.15 (no tf_keras), the `keras` 2.x
    package that TF bundles as tf.keras. Decided from metadata, without importing anything."""
    from importlib import metadata

    if importlib.util.find_spec("tf_keras") is not None:
        return "tf_keras"
    try:
        if metadata.version("keras").startswith("2."):
            return "keras"
    except metadata.PackageNotFoundError:
        pass
    return "tf_keras"


def availability(target: str) -> tuple[bool, str]:
    """(available, reason): whether the target's framework can be imported here, without importing it."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}: expected one of {sorted(TARGETS)}")
    _, module, install = TARGETS[target]
    if target == "tf_keras":
        module = keras2_module()
    try:
        found = importlib.util.find_spec(module) is not None and importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        found = False
    return found, ("" if found else f"target {target}: {module} is not installed; {install}")


def get(target: str):
    """The adapter object for a target (imports the framework)."""
    ok, reason = availability(target)
    if not ok:
        raise ImportError(reason)
    return importlib.import_module(TARGETS[target][0]).ADAPTER
