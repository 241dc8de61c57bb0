"""The layer spec (see targets.keras_adapter) of a live recurrent layer, and its key flags.

A spec is what a recording stores of a layer: `keras_to_reference.from_spec` builds the reference from it with
no framework, and the framework adapter builds a fresh layer from it (the float64 re-run of the
rounding verdict). Nothing here imports a framework.
"""
from __future__ import annotations

import json

from .plan import LayerSpec

SINGLE = ("SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
FLAG_WORDS = (("return_sequences", "seq"), ("return_state", "state"), ("go_backwards", "bwd"),
              ("stateful", "stateful"), ("unroll", "unroll"), ("time_major", "time_major"))


def _dtype(layer):
    """({"dtype": compute dtype}, None), or ({}, policy name) for a mixed-precision layer."""
    compute = str(getattr(layer, "compute_dtype", None) or "float32")
    variable = str(getattr(layer, "variable_dtype", None) or compute)
    if variable == compute:
        return {"dtype": compute}, None
    policy = getattr(layer, "dtype_policy", None) or getattr(layer, "_dtype_policy", None)
    return {}, getattr(policy, "name", None) or f"{variable}/{compute}"


def _jsonable(config, where):
    try:
        return json.loads(json.dumps(config))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: its config cannot be stored ({exc})") from None


def _config(layer, drop=()):
    dtype, _ = _dtype(layer)
    config = {k: v for k, v in layer.get_config().items() if k != "dtype" and k not in drop}
    return _jsonable({**config, **dtype}, repr(layer.name))


def _single(layer):
    cls = type(layer).__name__
    _, policy = _dtype(layer)
    if cls == "RNN" and hasattr(layer, "cell"):
        cells = list(getattr(layer.cell, "cells", [layer.cell]))
        spec = {"class": "RNN", "config": _config(layer, drop=("cell",)),
                "cells": [{"class": type(c).__name__, "config": _config(c)} for c in cells],
                "stacked": hasattr(layer.cell, "cells")}
    elif cls in SINGLE:
        spec = {"class": cls, "config": _config(layer)}
    else:
        raise ValueError(f"{layer.name!r}: no layer spec for {cls}")
    if policy is not None:
        spec["policy"] = policy
        for config in [spec["config"], *(c["config"] for c in spec.get("cells", ()))]:
            config.pop("dtype", None)
    return spec


def layer_spec(layer) -> LayerSpec:
    """The spec of a live SimpleRNN, LSTM, GRU, RNN(cell) or Bidirectional around one of them.

    Bidirectional keeps both sub-layers' own configs (the backward one as ``backward_config``),
    without zero_output_for_mask, which the wrapper sets on both from return_sequences."""
    if type(layer).__name__ != "Bidirectional":
        return LayerSpec.from_dict(_single(layer))
    drop = ("zero_output_for_mask",)
    spec = _single(layer.forward_layer)
    spec["config"].pop("zero_output_for_mask", None)
    wrapper = {"merge_mode": layer.merge_mode, **_dtype(layer)[0]}
    if spec["class"] != "RNN":
        wrapper["backward_config"] = {k: v for k, v in _single(layer.backward_layer)["config"].items()
                                      if k not in drop}
    spec["wrapper"] = wrapper
    return LayerSpec.from_dict(spec)


def key_flags(layer) -> str:
    """'units=8 merge=sum seq state' and the like: what a reader needs to recognise the layer."""
    inner = getattr(layer, "forward_layer", layer)
    try:
        config = inner.get_config()
    except Exception:  # noqa: BLE001 - a custom layer's config may not serialise; flags are a courtesy
        config = {}
    units = getattr(inner, "units", None)
    if units is None and hasattr(inner, "cell"):
        cells = list(getattr(inner.cell, "cells", [inner.cell]))
        known = [getattr(c, "units", None) for c in cells]  # a custom cell may have none: say nothing
        units = "+".join(map(str, known)) if all(isinstance(u, int) for u in known) else None
    words = [f"units={units}"] if units is not None else []
    if "filters" in config:  # a ConvLSTM: its cell has filters, not units
        words = [f"filters={config['filters']}", f"kernel_size={tuple(config.get('kernel_size', ()))}"]
    if inner is not layer:
        words.append(f"merge={layer.merge_mode}")
    words += [word for key, word in FLAG_WORDS if config.get(key)]
    if config.get("reset_after") is False:
        words.append("reset_before")
    dtype, policy = _dtype(layer)
    if policy or dtype.get("dtype") != "float32":
        words.append(policy or dtype["dtype"])
    return " ".join(words)
