"""Build reference layers from a live Keras layer (`from_keras`) or from a layer spec.

Nothing here imports a framework: a live layer is inspected through its public API only
(get_config, get_weights, states, compute_dtype).
"""
from __future__ import annotations

import sys

import numpy as np

from .reference import CELL_CLASSES, LAYER_CLASSES, RNN, Bidirectional, NO_EFFECT_OPTIONS, StackedRNNCells
from .plan import LayerSpec
from .reference.precision import POLICIES

# Config keys a framework reports that carry no inference meaning for the reference.
_CONFIG_ONLY = {"dtype"}


def framework_dialect(cls):
    module = cls.__module__
    if module.startswith("tf_keras") or module.startswith("tensorflow.python.keras"):
        return "keras2"
    if module == "keras" or module.startswith("keras."):
        version = getattr(sys.modules.get("keras"), "__version__", "3")
        return "keras2" if version.startswith("2.") else "keras3"
    return None


def dialect_of(layer) -> str:
    """'keras3' for Keras 3 layers, 'keras2' for tf_keras (and TF <= 2.15's tf.keras) layers.

    A user subclass of a Keras layer has the dialect of its nearest Keras base class."""
    for cls in type(layer).__mro__:
        dialect = framework_dialect(cls)
        if dialect is not None:
            return dialect
    raise TypeError(f"from_keras expects a Keras 3 or tf_keras layer, got "
                    f"{type(layer).__module__}.{type(layer).__qualname__}")


def _dtype_policy(layer):
    """The layer's dtype policy name: a dtype, or mixed_float16 / mixed_bfloat16 (float32 variables,
    low-precision compute). Anything else (a quantized policy, ...) is refused by name."""
    compute = str(getattr(layer, "compute_dtype", None) or "float32")
    variable = str(getattr(layer, "variable_dtype", None) or compute)
    if variable == compute and compute in POLICIES:
        return compute
    name = getattr(getattr(layer, "dtype_policy", None), "name", None)
    if name in POLICIES and POLICIES[name] == (variable, compute):
        return name
    raise ValueError(f"from_keras: {getattr(layer, 'name', type(layer).__name__)!r} has dtype policy "
                     f"{name!r} (variables {variable}, compute {compute}), which is not modelled; "
                     f"modelled: {', '.join(POLICIES)}")


def reference_kwargs(class_name, config, dialect, dtype=None, known=LAYER_CLASSES):
    """Translate a Keras layer config into reference constructor kwargs."""
    if class_name not in known:
        raise ValueError(f"{class_name} is not modelled by the reference (expected one of "
                         f"{sorted(LAYER_CLASSES)}, or Bidirectional around one of them)")
    kwargs = {}
    for key, value in config.items():
        if key in NO_EFFECT_OPTIONS or key in _CONFIG_ONLY:
            continue
        if key in ("activation", "recurrent_activation") and not (value is None or isinstance(value, str)):
            raise ValueError(f"{class_name}: {key} is a custom activation ({_describe_custom(value)}); "
                             f"the reference models built-in activation names only")
        if key == "cell":
            raise ValueError(f"{class_name}: a custom `cell` is not modelled by the reference")
        kwargs[key] = value
    kwargs["dialect"] = dialect
    if dtype is not None:
        kwargs["dtype"] = dtype
    elif isinstance(config.get("dtype"), str):
        kwargs["dtype"] = config["dtype"]
    return kwargs


def _describe_custom(value):
    """A short description of a serialised custom activation (never its whole serialised bytecode)."""
    if callable(value):
        return f"the callable {getattr(value, '__qualname__', type(value).__name__)}"
    if isinstance(value, dict):
        if "value" in value and not isinstance(value.get("value"), str):
            return "a serialised lambda or function"
        name = value.get("config") if isinstance(value.get("config"), str) else value.get("class_name")
        return f"serialised object {name!r}" if name else f"a serialised {type(value).__name__}"
    return f"a {type(value).__name__}"


def _reference_layer(class_name, config, dialect, dtype=None):
    return LAYER_CLASSES[class_name](**reference_kwargs(class_name, config, dialect, dtype))


def cell_kwargs(class_name, config, dialect, dtype=None):
    """Translate a Keras cell config into reference cell constructor kwargs."""
    if class_name not in CELL_CLASSES:
        raise ValueError(f"{class_name} is not a cell the reference models (expected one of "
                         f"{sorted(CELL_CLASSES)})")
    return reference_kwargs(class_name, config, dialect, dtype, known=CELL_CLASSES)


def _reference_rnn(spec, dialect, policy=None):
    """A reference RNN for an RNN spec: {"class": "RNN", "config": {RNN kwargs}, "cells": [{"class":
    "LSTMCell", "config": {...}}, ...], "stacked": bool}; stacked cells when "stacked" is true."""
    cells = []
    for c in spec.cells:
        cells.append(CELL_CLASSES[c["class"]](**cell_kwargs(c["class"], c["config"], dialect, policy)))
    if not spec.stacked and len(cells) != 1:
        raise ValueError(f"an RNN spec with stacked=False has one cell, got {len(cells)}")
    cell = StackedRNNCells(cells) if spec.stacked else cells[0]
    config = {k: v for k, v in spec.config.items() if k not in NO_EFFECT_OPTIONS}
    if policy is not None:
        config["dtype"] = policy
    return RNN(cell, dialect=dialect, **config)


def from_spec(spec, dialect):
    """A reference layer for a layer spec (rnnparity.plan.LayerSpec); weights unset.

    ``spec.policy``, when set, is a dtype policy (e.g. "mixed_float16") for the layer, its cells
    and its wrapper alike, as a global Keras policy would set them. A JSON-form dict is accepted."""
    spec = LayerSpec.from_dict(spec)
    cls, policy = spec.cls, spec.policy
    if cls == "RNN":
        layer = _reference_rnn(spec, dialect, policy)
    else:
        layer = _reference_layer(cls, spec.config, dialect, policy)
    wrapper = spec.wrapper
    if wrapper is None:
        return layer
    backward = None
    if wrapper.get("backward_config") is not None:
        if cls == "RNN":
            raise ValueError("from_spec: a backward_config for an RNN spec is not supported")
        backward = _reference_layer(cls, wrapper["backward_config"], dialect, policy)
    return Bidirectional(layer, merge_mode=wrapper.get("merge_mode", "concat"), backward_layer=backward,
                         dtype=policy or wrapper.get("dtype", "float32"))


_MODELLED = (*LAYER_CLASSES, "RNN", "Bidirectional")


def _builtin_base(layer):
    """The nearest built-in Keras class the reference models in the layer's MRO, or None."""
    return _builtin_class(layer, _MODELLED)


def _builtin_class(obj, names):
    for cls in type(obj).__mro__:
        if framework_dialect(cls) is not None and cls.__name__ in names:
            root = sys.modules.get(cls.__module__.split(".")[0])
            if getattr(getattr(root, "layers", None), cls.__name__, None) is cls:
                return cls
    return None


def _refuse_subclass(layer, base):
    """A user subclass of a built-in layer may override call: refuse it, naming the built-in."""
    if base is None or base is type(layer):
        return
    if framework_dialect(type(layer)) is not None:  # another Keras layer built on it (ConvLSTM1D)
        raise ValueError(f"from_keras: {type(layer).__name__} is not a recurrent layer the reference "
                         f"models ({sorted(LAYER_CLASSES)}, RNN of built-in cells, or Bidirectional)")
    raise ValueError(f"from_keras: {type(layer).__module__}.{type(layer).__qualname__} is a "
                     f"subclass of the built-in {base.__name__}; its call may differ, so it is "
                     f"not modelled (copy its config and weights into a plain {base.__name__})")


def _check_builtin(layer):
    cls = type(layer).__name__
    base = _builtin_base(layer)
    _refuse_subclass(layer, base)
    if base is None:
        if cls in _MODELLED:
            raise ValueError(f"from_keras: {type(layer).__module__}.{cls} is not the built-in Keras "
                             f"{cls}, so it is not modelled")
        raise ValueError(f"from_keras: {cls} is not a recurrent layer the reference models "
                         f"({sorted(LAYER_CLASSES)}, RNN of built-in cells, or Bidirectional)")


def _live_cells(layer):
    """The built-in cells of a live RNN layer, and whether they are stacked; custom cells refused."""
    cell, where = layer.cell, f"from_keras: RNN {layer.name!r}"
    stacked = _builtin_class(cell, ("StackedRNNCells",))
    if stacked is not None and stacked is not type(cell):
        raise ValueError(f"{where}: its cell {type(cell).__qualname__} is a subclass of StackedRNNCells; "
                         f"not modelled")
    cells = list(cell.cells) if stacked is not None else [cell]
    for k, c in enumerate(cells):
        name = f"cell {k} of the stack" if stacked is not None else "its cell"
        base = _builtin_class(c, tuple(CELL_CLASSES))
        if base is None:
            raise ValueError(f"{where}: {name} {type(c).__module__}.{type(c).__qualname__} is a custom "
                             f"cell; the reference models the built-in {', '.join(CELL_CLASSES)} "
                             f"(alone or stacked)")
        if base is not type(c):
            raise ValueError(f"{where}: {name} {type(c).__qualname__} is a subclass of the built-in "
                             f"{base.__name__}; its call may differ, so it is not modelled")
    return cells, stacked is not None


def _flat(states):
    if isinstance(states, (list, tuple)):
        return [s for part in states for s in _flat(part)]
    return [states]


def _copy_states(ref_layer, live_layer):
    states = getattr(live_layer, "states", None)
    if not ref_layer.stateful or not states:
        return
    states = _flat(states)
    if any(s is None for s in states):
        return
    ref_layer.states = [np.asarray(s).astype(ref_layer.compute_dtype) for s in states]


def _from_rnn(layer, dialect):
    cells, stacked = _live_cells(layer)
    rnn_policy = _dtype_policy(layer)
    ref_cells = []
    for c in cells:
        cell_policy = _dtype_policy(c)
        if cell_policy != rnn_policy:
            raise ValueError(f"from_keras: RNN {layer.name!r} has dtype policy {rnn_policy!r} but its "
                             f"cell {c.name!r} has {cell_policy!r}: that mix is not modelled (Keras 3 "
                             f"computes the cell in its own dtype on weights rounded to the RNN's; "
                             f"tf_keras refuses it); give the RNN and its cells one policy")
        ref_cells.append(CELL_CLASSES[type(c).__name__](
            **cell_kwargs(type(c).__name__, c.get_config(), dialect, cell_policy)))
    config = {k: v for k, v in layer.get_config().items()
              if k not in ("cell", "name", "trainable", "dtype") and k not in NO_EFFECT_OPTIONS}
    config["zero_output_for_mask"] = bool(getattr(layer, "zero_output_for_mask", False))
    return RNN(StackedRNNCells(ref_cells) if stacked else ref_cells[0], dialect=dialect,
               dtype=rnn_policy, **config)


def _from_single(layer, dialect):
    _check_builtin(layer)
    if _builtin_base(layer).__name__ == "RNN":
        ref = _from_rnn(layer, dialect)
    else:
        ref = _reference_layer(type(layer).__name__, layer.get_config(), dialect, _dtype_policy(layer))
    weights = layer.get_weights()
    if weights:
        ref.set_weights([np.asarray(w) for w in weights])
    _copy_states(ref, layer)
    return ref


def from_keras(layer):
    """A reference layer with the live Keras layer's config, weights and (stateful) states."""
    dialect = dialect_of(layer)
    base = _builtin_base(layer)
    if base is not None and base.__name__ == "Bidirectional":
        _refuse_subclass(layer, base)
        forward = _from_single(layer.forward_layer, dialect)
        backward = _from_single(layer.backward_layer, dialect)
        # forward_layer/backward_layer already carry the wrapper's changes (flipped go_backwards,
        # forced zero_output_for_mask): rebuild the wrapper from the forward config, keep both weights.
        config = {**forward.get_config(), "zero_output_for_mask": False}
        base = type(forward).from_config(config)
        bw_config = {**backward.get_config()}
        bw = type(backward).from_config(bw_config)
        ref = Bidirectional(base, merge_mode=layer.merge_mode, backward_layer=bw,
                            dtype=_dtype_policy(layer))
        ref.forward_layer.set_weights(forward.get_weights())
        ref.backward_layer.set_weights(backward.get_weights())
        ref.forward_layer.states, ref.backward_layer.states = forward.states, backward.states
        return ref
    return _from_single(layer, dialect)
