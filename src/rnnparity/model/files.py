"""Model files: which framework wrote one, loading it safely, and inputs that fit a model.

Untrusted files: a `.keras` file loads with Keras' safe mode on (Keras refuses to deserialise the
bytecode of a Lambda layer or lambda function), and before any loading the model config of a
`.keras` or `.h5` file is read as JSON (never executed) and refused if it holds a Lambda layer or an
object that is not one of the framework's built-ins (a custom layer, cell or activation class):
tf_keras loads a `.h5` file's Lambda bytecode with no safe mode at all. `unsafe=True` (`--unsafe`)
skips both, and the report says so.
"""
from __future__ import annotations

import json
import os
import warnings
import zipfile

import numpy as np

from ..npz_file import read_npz
from .capture import children, is_model, node_arguments, one_line

TARGETS = ("keras3", "tf_keras")
# Built-in serialised names that are no Keras attribute; dunder names are Keras 3's own encodings
# (__tuple__, __numpy__...), except __lambda__, which carries bytecode.
_ALSO_BUILTIN = {"Functional", "Sequential", "Model", "Policy", "DTypePolicy", "FloatDTypePolicy",
                 "TFOpLambda", "SlicingOpLambda", "function"}


class UnsafeModel(ValueError):
    """The file would run code it carries if loaded; refused unless unsafe=True."""


# -- which framework ---------------------------------------------------------------------------
def read_metadata(path) -> tuple[str, dict]:
    """(keras_version, model config) of a .keras or .h5 file, read without any framework."""
    path = str(path)
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such file")
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
                if "config.json" not in names:
                    raise ValueError(f"{path}: a zip file without config.json, not a .keras model")
                meta = json.loads(z.read("metadata.json")) if "metadata.json" in names else {}
                return str(meta.get("keras_version", "")), json.loads(z.read("config.json"))
        except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not a readable .keras file ({exc})") from None
    with open(path, "rb") as f:
        signature = f.read(8)
    if signature != b"\x89HDF\r\n\x1a\n":
        raise ValueError(f"{path}: not a Keras model file (expected a .keras zip or an HDF5 .h5 file)")
    import h5py

    with h5py.File(path, "r") as f:
        config = f.attrs.get("model_config")
        version = f.attrs.get("keras_version", b"")
    if config is None:
        raise ValueError(f"{path}: an HDF5 file with no model_config: weights only (save the whole "
                         f"model, e.g. model.save('model.h5'))")
    text = lambda v: v.decode() if isinstance(v, bytes) else str(v)  # noqa: E731
    try:
        return text(version), json.loads(text(config))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: its model_config is not JSON ({exc})") from None


def framework_for(path, version, framework=None) -> str:
    """keras3 for a file Keras 3 wrote, tf_keras for one Keras 2 wrote, unless ``framework``."""
    if framework is not None:
        if framework not in TARGETS:
            raise ValueError(f"framework must be one of {TARGETS}, got {framework!r}")
        return framework
    if version.startswith("3"):
        return "keras3"
    if version.startswith("2"):
        return "tf_keras"
    raise ValueError(f"{path}: the file does not say which Keras wrote it (keras_version "
                     f"{version or 'missing'}); pass --framework keras3 or tf_keras")


# -- safety ------------------------------------------------------------------------------------
def _builtin_names(K, target):
    """Every class name the target's own deserialiser knows, but Lambda."""
    names = set(_ALSO_BUILTIN)
    for module in (K.layers, K.initializers, K.regularizers, K.constraints, K.activations):
        names |= {n for n in dir(module) if not n.startswith("_")}
    if target == "keras3":
        names |= _keras3_ops()
    names.discard("Lambda")
    return names


def _keras3_ops():
    """Keras 3's op classes (NotEqual, Any...): a functional graph records the ops it calls."""
    import sys

    operation = sys.modules.get("keras.src.ops.operation")
    if operation is None:
        return set()
    found, todo = set(), [operation.Operation]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("keras.src.ops") and sub.__name__ not in found:
                found.add(sub.__name__)
                todo.append(sub)
    return found


def unsafe_objects(config, builtin, framework="the framework", allowed=()) -> list[str]:
    """What in a model config could run code it carries: Lambda layers, serialised lambdas and
    objects that are not built-ins of the framework, each named with the layer holding it.
    ``allowed``: the names of the user's own classes (--custom-objects), which are not refused."""
    found = []

    def walk(node, where):
        if isinstance(node, list):
            for item in node:
                walk(item, where)
            return
        if not isinstance(node, dict):
            return
        cls, inner = node.get("class_name"), node.get("config")
        name = inner.get("name") if isinstance(inner, dict) and isinstance(inner.get("name"), str) else None
        if isinstance(cls, str):
            module = node.get("module")
            at = f" (layer {name!r})" if name else (f" (in layer {where!r})" if where else "")
            if cls in allowed or node.get("registered_name") in allowed:
                pass  # the user's own class, named by --custom-objects
            elif cls == "Lambda":
                found.append(f"a Lambda layer {name or '?'!r}")
            elif cls == "__lambda__" or (isinstance(inner, dict) and "function_type" in inner):
                found.append(f"a serialised lambda function{at}")
            elif isinstance(module, str) and not (module == "keras" or module.startswith(("keras.", "tf_keras"))):
                found.append(f"the custom object {cls!r}{at} from module {module!r}")
            elif module is None and not (cls.startswith("__") and cls.endswith("__")) and cls not in builtin:
                found.append(f"the object {cls!r}{at}, which is not a built-in of {framework}")
        for value in node.values():
            walk(value, name or where)

    walk(config, None)
    return found


def load_model(path, unsafe=False, framework=None, custom_objects=None):
    """(model, target) for a .keras or .h5 file; UnsafeModel for a file that would run code it
    carries unless ``unsafe``; ValueError in one line for anything that is not a loadable model.
    ``custom_objects``: the user's classes the file names ({name: class} or "module:name" strings:
    rnnparity.model.custom_objects), given to Keras as its custom_objects."""
    from ..targets import registry
    from ..targets import installed
    from . import custom_objects as custom

    path = str(path)
    version, config = read_metadata(path)
    target = framework_for(path, version, framework)
    installed.import_quietly(target)
    K = registry.get(target).K
    objects = custom.keras_names(custom.parse(custom_objects), K)
    if not unsafe:
        risky = unsafe_objects(config, _builtin_names(K, target), target, allowed=set(objects))
        if risky:
            raise UnsafeModel(f"{path}: refused: its config holds {'; '.join(risky[:3])}"
                              f"{f' and {len(risky) - 3} more' if len(risky) > 3 else ''}; loading "
                              f"it could run code the file carries. Name your own classes with "
                              f"--custom-objects module:name (custom_objects=), or pass --unsafe "
                              f"(unsafe=True) to load it anyway, only for a file you trust")
    kwargs = {"compile": False, **({"custom_objects": objects} if objects else {})}
    if target == "keras3" or zipfile.is_zipfile(path):
        kwargs["safe_mode"] = not unsafe
    try:
        with warnings.catch_warnings():  # advice on how the file was built, not about the check
            warnings.simplefilter("ignore")
            model = K.models.load_model(path, **kwargs)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        known = known_loading_surprise(path, target, exc)
        if known:
            raise ValueError(f"{path}: could not be loaded by {target}: {known}") from None
        hint = "" if objects else (" (a class of your own? name it with --custom-objects module:name)"
                                   if "custom_object" in str(exc) or "deserialized" in str(exc) else "")
        raise ValueError(f"{path}: could not be loaded by {target} ({type(exc).__name__}: "
                         f"{one_line(exc)}){hint}") from None
    return model, target


def known_loading_surprise(path, target, exc):
    """The registered surprise (rnnparity.check.divergences.SURPRISES) a failed load is, in words,
    with what to do instead; None for any other failure."""
    from ..check.divergences import SURPRISES

    if target != "keras3" or zipfile.is_zipfile(path) or "'NotEqual'" not in str(exc):
        return None
    surprise = next(s for s in SURPRISES if "Unknown layer: 'NotEqual'" in s.repro)
    return (f"a known Keras 3 surprise: {surprise.title} ({surprise.detail.split('. ')[0]}). Save the "
            f"model as .keras (model.save('model.keras')) and check that file")


# -- inputs ------------------------------------------------------------------------------------
def _flat(value):
    if isinstance(value, (list, tuple)):
        return [v for item in value for v in _flat(item)]
    if isinstance(value, dict):
        return [v for item in value.values() for v in _flat(item)]
    return [value]


def _role(model, tensor, depth=0):
    """How an input is used: ("tokens", vocabulary, mask_zero), ("masking", mask_value) or None."""
    for layer in children(model):
        for node in getattr(layer, "_inbound_nodes", None) or []:
            args, kwargs = node_arguments(node)
            flat = _flat(args)
            if not any(t is tensor for t in flat):
                continue
            kind = type(layer).__name__
            if kind == "Embedding":
                return ("tokens", int(layer.input_dim), bool(getattr(layer, "mask_zero", False)))
            if kind == "Masking":
                return ("masking", float(layer.mask_value))
            if is_model(layer) and depth < 20:
                inner = list(getattr(layer, "inputs", None) or [])
                position = next(i for i, t in enumerate(flat) if t is tensor)
                if position < len(inner):
                    role = _role(layer, inner[position], depth + 1)
                    if role is not None:
                        return role
    return None


def _kept(batch, steps):
    """(batch, steps) booleans: row 0 whole, odd rows right-padded, even rows left-padded."""
    keep = np.ones((batch, steps), bool)
    for r in range(1, batch):
        length = max(1, steps - (r * steps) // (batch + 1))
        if r % 2:
            keep[r, length:] = False
        else:
            keep[r, :steps - length] = False
    return keep


def input_names(model):
    return [getattr(t, "_keras_history", [None])[0].name if getattr(t, "_keras_history", None)
            else getattr(t, "name", f"input_{i}") for i, t in enumerate(model.inputs)]


def synthesise_inputs(model, batch=4, time=12, seed=0):
    """Inputs that fit the model's input specs: token ids within each Embedding's vocabulary (zeros
    at right- and left-padded steps where it masks), Masking's mask_value at padded steps, a
    boolean mask input with the same padding, floats elsewhere. Seeded."""
    tensors = list(getattr(model, "inputs", None) or [])
    if not tensors:
        raise ValueError(f"model {model.name!r} declares no inputs (a subclassed model?): pass the "
                         f"inputs yourself (--inputs FILE.npz)")
    rng = np.random.RandomState(seed)
    arrays = []
    for name, tensor in zip(input_names(model), tensors):
        shape = list(tensor.shape)
        if not shape:
            raise ValueError(f"input {name!r} is a scalar; pass the inputs yourself (--inputs FILE.npz)")
        shape[0] = shape[0] or batch
        if len(shape) > 1:
            shape[1] = shape[1] or time
        if any(d is None for d in shape):
            raise ValueError(f"input {name!r} has shape {tuple(tensor.shape)}: no size for a dimension "
                             f"other than batch and time; pass the inputs yourself (--inputs FILE.npz)")
        dtype = np.dtype(getattr(tensor.dtype, "name", tensor.dtype))
        keep = _kept(shape[0], shape[1]) if len(shape) > 1 else np.ones(shape[:1], bool)
        keep = keep.reshape(keep.shape + (1,) * (len(shape) - keep.ndim))
        role = _role(model, tensor)
        if dtype == bool:
            a = np.broadcast_to(keep, shape).copy()
        elif role is not None and role[0] == "tokens":
            vocab, masks = role[1], role[2]
            a = rng.randint(1 if masks else 0, vocab, size=shape)
            a = np.where(keep, a, 0) if masks else a
        elif np.issubdtype(dtype, np.integer):
            a = rng.randint(0, 10, size=shape)
        else:
            a = rng.normal(size=shape)
            if role is not None and role[0] == "masking":
                a = np.where(keep, a, role[1])
        arrays.append(np.asarray(a).astype(dtype))
    return arrays[0] if len(arrays) == 1 else arrays


def load_inputs(path, model):
    """The model's inputs from an .npz file: one array, the model's input names, or arr_0...arr_n."""
    arrays = read_npz(path, f"--inputs {path}")
    tensors = list(getattr(model, "inputs", None) or [])
    if len(arrays) == 1:
        return next(iter(arrays.values()))
    names = input_names(model) if tensors else []
    positional = [f"arr_{i}" for i in range(len(arrays))]
    if names and set(arrays) == set(names):
        return [arrays[n] for n in names]
    if sorted(arrays) == sorted(positional):
        return [arrays[n] for n in positional]
    raise ValueError(f"--inputs {path}: expected arrays named {names or '?'} (the model's inputs) or "
                     f"arr_0..arr_{len(arrays) - 1}, got {sorted(arrays)}")


def input_shape_problem(model, x):
    """What in ``x`` does not fit the model's declared inputs ("input 'ids' expects (None, None)
    (None: any size), given int32 (2, 5, 7)"), or None when every shape fits or the model declares
    no inputs (a subclassed model): said before Keras' own message, which prints the values."""
    tensors = list(getattr(model, "inputs", None) or [])
    if not tensors:
        return None
    names = input_names(model)
    if isinstance(x, dict):
        given = [x.get(n) for n in names]
    elif isinstance(x, (list, tuple)):
        given = list(x)
    else:
        given = [x]
    if len(given) != len(tensors):
        return f"the model takes {len(tensors)} input(s) ({', '.join(map(repr, names))}), given {len(given)}"
    problems = []
    for name, tensor, value in zip(names, tensors, given):
        want = tuple(None if d is None else int(d) for d in tensor.shape)
        if value is None:
            problems.append(f"input {name!r} expects {want}, given nothing")
            continue
        a = np.asarray(value)
        if a.ndim != len(want) or any(w is not None and w != g for w, g in zip(want, a.shape)):
            problems.append(f"input {name!r} expects shape {want} (None: any size), given {a.dtype} {a.shape}")
    return "; ".join(problems) or None
