"""The files a port (C, C++, JavaScript, an engine) exchanges with `rnnparity diagnose`.

    rnnparity diagnose --case ID --write-inputs in.npz    # or in.json: everything the port runs on
    rnnparity diagnose --case ID --outputs out.npz        # or out.json: what the port returned

The inputs file (.npz, or .json when the name ends in .json) holds everything a port needs to run
the case, and nothing else has to be read:

- ``format``: "rnnparity-port-inputs/1".
- ``layer``: a JSON text describing the layer: {"class": "LSTM", "config": {units, activation,
  recurrent_activation, use_bias, return_sequences, return_state, go_backwards, stateful, unroll,
  reset_after (GRU), dialect, dtype, ...}, "gates": the gate order of the kernel's columns (Keras:
  i, f, c, o for LSTM; z, r, h for GRU), "cells": [the same for each cell] for RNN([cells])}; a
  Bidirectional is {"class": "Bidirectional", "merge_mode": ..., "forward": {...}, "backward": {...}}.
- the weights, in Keras' layout (kernel (input_dim, gates * units), recurrent_kernel
  (units, gates * units), bias (gates * units,), or (2, gates * units) for GRU(reset_after=True)),
  named ``<direction>/cell<c>/<name>``: direction ``forward`` (a plain layer's only one) or
  ``backward`` (a Bidirectional's backward layer), c the cell (0 unless stacked cells), name
  ``kernel``, ``recurrent_kernel``, ``bias``. ``weights_order``: those names in the order of
  Keras' get_weights().
- ``plan``: one string per step, "call" or "reset" (a stateful layer's reset_states() between calls).
- per call k (counting calls only, from 0): ``call<k>_x`` (batch, time, features), ``call<k>_mask``
  (batch, time) booleans when masked, ``call<k>_initial_state<j>`` when initial states are given
  (Keras' state order: h, c for LSTM, forward states then backward ones).
- ``output_names``: what call<k>_output<i> of the outputs file is, in Keras' order (when known).

In the .npz, ``format``, ``layer``, ``plan``, ``weights_order`` and ``output_names`` are string
arrays (``layer`` a 0-d one). In the .json, every array is a nested list (``dtypes`` gives each
array's dtype), and ``layer`` is an object.

The outputs file (read): ``call<k>_output<i>`` for every array of every call, in Keras' order (the
output, then the states), nothing else; an .npz, or a .json object of nested lists.
"""
from __future__ import annotations

import json

import numpy as np

from .npz_file import read_npz
from .plan import Reset

FORMAT = "rnnparity-port-inputs/1"


# -- what the port needs ---------------------------------------------------------------------------
def _directions(reference):
    if hasattr(reference, "forward_layer"):
        return [("forward", reference.forward_layer), ("backward", reference.backward_layer)]
    return [("forward", reference)]


def _cells(layer):
    cell = layer.cell
    return list(getattr(cell, "cells", [cell]))


def named_weights(reference) -> dict:
    """{"forward/cell0/kernel": array, ...} in Keras' get_weights() order."""
    out = {}
    for direction, layer in _directions(reference):
        for c, cell in enumerate(_cells(layer)):
            arrays = cell.get_weights()
            names = [name for name, _ in cell.weight_specs(cell.input_dim)]
            if len(names) != len(arrays):
                raise ValueError(f"{direction} cell {c}: {len(arrays)} weights, but {len(names)} names")
            out.update({f"{direction}/cell{c}/{name}": a for name, a in zip(names, arrays)})
    flat = reference.get_weights()
    if len(flat) != len(out) or not all(np.array_equal(a, b) for a, b in zip(flat, out.values())):
        raise ValueError("the named weights are not the layer's get_weights() in order")
    return out


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def describe_layer(reference) -> dict:
    """The layer as a port must implement it (see the module docstring)."""
    if hasattr(reference, "forward_layer"):
        return {"class": "Bidirectional", "merge_mode": reference.merge_mode,
                "forward": describe_layer(reference.forward_layer),
                "backward": describe_layer(reference.backward_layer)}
    out = {"class": type(reference).__name__, "config": _jsonable(reference.get_config())}
    cells = _cells(reference)
    if len(cells) > 1 or hasattr(reference.cell, "cells"):
        out["cells"] = [{"class": type(c).__name__, "config": _jsonable(c.get_config()),
                         "gates": list(c.GATES)} for c in cells]
    else:
        out["gates"] = list(cells[0].GATES)
    return out


def port_inputs(reference, steps, output_names=None) -> dict:
    """{name: array, or a JSON-able value for "layer"} of the inputs file."""
    weights = named_weights(reference)
    arrays = {"format": FORMAT, "layer": describe_layer(reference),
              "plan": ["reset" if isinstance(s, Reset) else "call" for s in steps],
              **weights, "weights_order": list(weights)}
    k = 0
    for s in steps:
        if isinstance(s, Reset):
            continue
        arrays[f"call{k}_x"] = np.asarray(s.x)
        if s.mask is not None:
            arrays[f"call{k}_mask"] = np.asarray(s.mask)
        for j, st in enumerate(s.initial_state or []):
            arrays[f"call{k}_initial_state{j}"] = np.asarray(st)
        k += 1
    if output_names:
        arrays["output_names"] = list(output_names)
    return arrays


# -- files -----------------------------------------------------------------------------------------
def is_json(path) -> bool:
    return str(path).lower().endswith(".json")


def write_port_inputs(path, reference, steps, output_names=None):
    """Write the inputs file: JSON when ``path`` ends in .json, else .npz."""
    content = port_inputs(reference, steps, output_names)
    if is_json(path):
        arrays = {k: v for k, v in content.items() if isinstance(v, np.ndarray)}
        doc = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in content.items()}
        doc["dtypes"] = {k: str(v.dtype) for k, v in arrays.items()}
        with open(path, "w") as f:
            json.dump(doc, f)
        return
    np.savez(path, **{k: (np.array(json.dumps(v)) if k == "layer" else np.asarray(v))
                      for k, v in content.items()})


def read_port_file(path, option) -> dict:
    """{name: array} of a port's file (.npz, or .json: an object of nested lists); ValueError naming
    ``option`` and the file otherwise."""
    what = f"{option} {path}"
    if not is_json(path):
        return read_npz(path, what)
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as exc:
        raise ValueError(f"{what}: cannot read it ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{what}: not a JSON file ({exc})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{what}: expected a JSON object {{name: nested list of numbers}}")
    out = {}
    for key, value in doc.items():
        try:
            a = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{what}: {key} is not a rectangular nested list of numbers") from None
        out[key] = a
    return out
