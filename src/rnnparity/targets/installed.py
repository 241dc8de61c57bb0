"""What is installed, found without importing a framework (versions, targets), and the quiet import
of a framework for the commands that run one outside pytest's capture."""
from __future__ import annotations

import os
import platform
import sys

from . import registry

ALL_TARGETS = tuple(registry.TARGETS)
# distribution -> the name printed by --version and the check header
VERSIONED = (("tensorflow", "tensorflow"), ("keras", "keras"), ("tf-keras", "tf_keras"), ("numpy", "numpy"))


def versions() -> dict:
    """rnnparity, Python and each framework's version, from package metadata (imports no framework)."""
    from importlib import metadata

    from .. import __version__

    out = {"rnnparity": __version__, "python": platform.python_version()}
    for dist, name in VERSIONED:
        try:
            out[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    # the adapters set KERAS_BACKEND=tensorflow unless it is set, so this is the backend they use
    out["keras backend"] = os.environ.get("KERAS_BACKEND", "tensorflow")
    return out


def targets() -> tuple:
    """The targets a run selects by default that can run here (installed; nothing is imported)."""
    return tuple(t for t in registry.default_targets() if registry.availability(t)[0])


def import_quietly(target, show_logs=False):
    """Import the target's framework with fd 2 sent to a temporary file: at import TensorFlow's absl
    writes lines (oneDNN, CUDA probing) straight to fd 2, whatever TF_CPP_MIN_LOG_LEVEL says. The pytest
    suite hides them by capturing; `record` and `check --case` do this. If the import fails, what was
    written is shown. `show_logs` (the user asked for TensorFlow's logs): nothing is hidden."""
    import importlib
    import tempfile

    from ._quiet import quiet_tensorflow

    if show_logs:
        return
    if target not in registry.TARGETS or not registry.availability(target)[0]:
        return  # the command itself says what is missing
    quiet_tensorflow()
    modules = [registry.keras2_module() if m == "tf_keras" else m for m in registry.info(target).requires]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            for module in modules:
                importlib.import_module(module)
        except BaseException:
            os.dup2(saved, 2)
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
