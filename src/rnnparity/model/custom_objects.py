"""A user's own classes for loading a model file: `--custom-objects module:name[,module:name]`.

Keras deserialises a layer, cell or activation it does not know only from the classes it is given
(`load_model(custom_objects=...)`, `custom_object_scope`) or has registered
(`@keras.saving.register_keras_serializable`). `--custom-objects mycells:MinimalCell` imports the
module `mycells` (from the Python path, or the current directory as `python -m` would) and hands
its `MinimalCell` to Keras, under its class name and its registered name. Importing a module runs
its code: the user names it, so it is the user's code, not the file's; a file naming any other
object than those given is still refused unless --unsafe.
"""
from __future__ import annotations

import importlib
import os
import sys


def parse(specs) -> dict:
    """{name: object} from "module:name" strings (a list, or one comma-separated string) or a dict,
    which is returned as it is. ValueError naming the spec for anything that does not import."""
    if not specs:
        return {}
    if isinstance(specs, dict):
        return dict(specs)
    if isinstance(specs, str):
        specs = [specs]
    out = {}
    for spec in (s.strip() for text in specs for s in str(text).split(",") if s.strip()):
        module_name, sep, name = spec.partition(":")
        if not sep or not module_name or not name:
            raise ValueError(f"--custom-objects {spec!r}: expected module:name (e.g. mycells:MinimalCell)")
        module = _import(module_name, spec)
        obj = module
        for part in name.split("."):
            if not hasattr(obj, part):
                raise ValueError(f"--custom-objects {spec!r}: module {module_name!r} has no {name!r}")
            obj = getattr(obj, part)
        out[name.rsplit(".", 1)[-1]] = obj
    return out


def _import(module_name, spec):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name.split(".")[0] or os.getcwd() in sys.path:
            raise ValueError(f"--custom-objects {spec!r}: importing {module_name!r} failed: {exc}") from None
    sys.path.insert(0, os.getcwd())  # the current directory, as `python -m` and `python script.py` do
    try:
        return importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - one line naming the spec
        raise ValueError(f"--custom-objects {spec!r}: importing {module_name!r} failed "
                         f"({type(exc).__name__}: {exc}); is it on the Python path?") from None


def keras_names(objects, K) -> dict:
    """The objects under every name a config may use for them: the class name and, when
    registered, the registered name ('package>Name')."""
    out = dict(objects)
    registered = getattr(getattr(K, "saving", None), "get_registered_name", None) or \
        getattr(getattr(K, "utils", None), "get_registered_name", None)
    for obj in objects.values():
        if registered is not None:
            try:
                out.setdefault(registered(obj), obj)
            except Exception:  # noqa: BLE001 - a name Keras cannot give is simply not added
                pass
    return out
