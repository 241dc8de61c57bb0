"""Build reference layers from a live Keras layer (`from_keras`) or from a layer spec.

Nothing here imports a framework: a live layer is inspected through its public API only
(get_config, get_weights, states, compute_dtype).
"""
from __future__ import annotations

import sys

import numpy as np

from .reference import LAYER_CLASSES, Bidirectional, NO_EFFECT_OPTIONS

# Config keys a framework reports that carry no inference meaning for the reference.
_CONFIG_ONLY = {"dtype"}


def _framework_dialect(cls):
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
        dialect = _framework_dialect(cls)
        if dialect is not None:
            return dialect
    raise TypeError(f"from_keras expects a Keras 3 or tf_keras layer, got "
                    f"{type(layer).__module__}.{type(layer).__qualname__}")


def _compute_dtype(layer):
    compute = getattr(layer, "compute_dtype", None) or "float32"
    variable = getattr(layer, "variable_dtype", None) or compute
    if str(variable) != str(compute):
        raise ValueError(f"from_keras: mixed precision (variables {variable}, compute {compute}) "
                         f"is not modelled by the reference")
    return str(compute)


def reference_kwargs(class_name, config, dialect, dtype=None):
    """Translate a Keras layer config into reference constructor kwargs."""
    if class_name not in LAYER_CLASSES:
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


def from_spec(spec, dialect):
    """A reference layer for a layer spec (see frameworks.keras_adapter); weights unset."""
    cls = spec["class"]
    layer = _reference_layer(cls, spec["config"], dialect)
    wrapper = spec.get("wrapper")
    if wrapper is None:
        return layer
    backward = None
    if wrapper.get("backward_config") is not None:
        backward = _reference_layer(cls, wrapper["backward_config"], dialect)
    return Bidirectional(layer, merge_mode=wrapper.get("merge_mode", "concat"), backward_layer=backward,
                         dtype=wrapper.get("dtype", "float32"))


def _builtin_base(layer):
    """The nearest built-in Keras recurrent class in the layer's MRO, or None."""
    for cls in type(layer).__mro__:
        if _framework_dialect(cls) is not None and cls.__name__ in (*LAYER_CLASSES, "Bidirectional"):
            root = sys.modules.get(cls.__module__.split(".")[0])
            if getattr(getattr(root, "layers", None), cls.__name__, None) is cls:
                return cls
    return None


def _refuse_subclass(layer, base):
    """A user subclass of a built-in layer may override call: refuse it, naming the built-in."""
    if base is not None and base is not type(layer):
        raise ValueError(f"from_keras: {type(layer).__module__}.{type(layer).__qualname__} is a "
                         f"subclass of the built-in {base.__name__}; its call may differ, so it is "
                         f"not modelled (copy its config and weights into a plain {base.__name__})")


def _check_builtin(layer):
    cls = type(layer).__name__
    base = _builtin_base(layer)
    _refuse_subclass(layer, base)
    if cls not in LAYER_CLASSES:
        if hasattr(layer, "cell"):
            raise ValueError(f"from_keras: {cls} (a generic RNN around {type(layer.cell).__name__}) is "
                             f"not modelled; only the built-in SimpleRNN, LSTM and GRU layers are")
        raise ValueError(f"from_keras: {cls} is not a recurrent layer the reference models "
                         f"({sorted(LAYER_CLASSES)} or Bidirectional)")
    if base is None:
        raise ValueError(f"from_keras: {type(layer).__module__}.{cls} is not the built-in Keras "
                         f"{cls}, so it is not modelled")


def _copy_states(ref_layer, live_layer):
    states = getattr(live_layer, "states", None)
    if not ref_layer.stateful or not states or any(s is None for s in states):
        return
    ref_layer.states = [np.asarray(s).astype(ref_layer.dtype) for s in states]


def _from_single(layer, dialect):
    _check_builtin(layer)
    ref = _reference_layer(type(layer).__name__, layer.get_config(), dialect, _compute_dtype(layer))
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
                            dtype=_compute_dtype(layer))
        ref.forward_layer.set_weights(forward.get_weights())
        ref.backward_layer.set_weights(backward.get_weights())
        ref.forward_layer.states, ref.backward_layer.states = forward.states, backward.states
        return ref
    return _from_single(layer, dialect)
