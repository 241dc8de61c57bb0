"""ConvLSTM1D/2D/3D in the space `rnnparity explore` searches (space.py draws the rest).

A ConvLSTM configuration is a space.py configuration of kind "ConvLSTM" whose one cell holds the
cell's options (``units`` is the number of filters; ``unit_forget_bias``, ``dropout`` and
``recurrent_dropout`` besides the activations and ``use_bias``), ``features`` is the number of input
channels, and ``conv`` holds the geometry:

    rank            1, 2 or 3 (ConvLSTM1D/2D/3D)
    kernel_size     one size per spatial axis, 1 to 3 (even sizes: TF's 'same' split shows)
    strides         one per axis, 1 or 2 (drawn one time in four)
    dilation_rate   one per axis, 1 or 2 (drawn one time in four; with strides: refused alike)
    padding         "same" | "valid"
    data_format     "channels_last" | "channels_first"
    spatial         the input's spatial shape; a 'valid' window always fits (1 to MAX_SPATIAL
                    outputs per axis): refusals of windows too large are test_conv_lstm_live.py's

Sizes stay small (at most 8 positions in 1-D, 5x5 in 2-D, 3x3x3 outputs in 3-D, 4 filters, 3
channels, T up to 8) so that one configuration costs well under a second on live Keras.

Nothing here imports space.py (space.py imports this module).
"""
from __future__ import annotations

import numpy as np

from ..reference.conv import output_length

KIND = "ConvLSTM"
CELL_CLASS = "ConvLSTMCell"  # the cell's "class" in a configuration (not a Keras name)
RANKS = (1, 2, 3)
MAX_SPATIAL = {1: 8, 2: 5, 3: 3}  # outputs per axis (a 'valid' input is this plus the window less 1)
MAX_KERNEL, MAX_FILTERS, MAX_CHANNELS = 3, 4, 3
MAX_STEPS = 8
RARE = (False, False, False, True)
DATA_FORMATS = ("channels_last", "channels_last", "channels_last", "channels_first")
# Keras 3 unrolls a ConvLSTM (the same maths); tf_keras refuses it at construction, as the reference
# does: drawn rarely there, where it is always the same refusal
UNROLL = {"keras3": RARE, "tf_keras": (False,) * 7 + (True,)}
# tf_keras' stateful ConvLSTM fails in any dtype but float32 (a registered bug): half the time there
# would be spent on it
STATEFUL = {"keras3": (False, True), "tf_keras": RARE}
DROPOUT = 0.25  # inference ignores it: a layer with dropout must equal the same layer without


def draw_geometry(choose, target) -> dict:
    """The convolution's geometry: rank, then per-axis kernel, strides, dilation, then padding,
    data_format and the spatial shape."""
    rank = choose.pick(RANKS)
    kernel = [choose.integer(1, MAX_KERNEL) for _ in range(rank)]
    strided, dilated = choose.pick(RARE), choose.pick(RARE)
    strides = [choose.integer(1, 2) if strided else 1 for _ in range(rank)]
    dilation = [choose.integer(1, 2) if dilated else 1 for _ in range(rank)]
    padding = choose.pick(("same", "valid"))
    # Keras 3 on TensorFlow runs a channels_first ConvLSTM3D through a freshly XLA-compiled
    # convolution at every call of the cell (about 0.5 s each: seconds per configuration), and its
    # ConvLSTM1D/2D not at all on a CPU (a registered bug): channels_first is drawn for every rank
    # in tf_keras, for 1-D and 2-D in Keras 3
    formats = ("channels_last",) if (target == "keras3" and rank == 3) else DATA_FORMATS
    data_format = choose.pick(formats)
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    spatial = [choose.integer(1, MAX_SPATIAL[rank]) + (span - 1 if padding == "valid" else 0)
               for span in spans]
    return {"rank": rank, "kernel_size": kernel, "strides": strides, "dilation_rate": dilation,
            "padding": padding, "data_format": data_format, "spatial": spatial}


def draw_cell(choose, filters, target, names) -> dict:
    return {"class": CELL_CLASS, "units": filters, "activation": choose.pick(names(target)),
            "recurrent_activation": choose.pick(names(target)), "use_bias": choose.pick((True, False)),
            "unit_forget_bias": choose.pick((True, False)),
            "dropout": DROPOUT if choose.pick(RARE) else 0.0,
            "recurrent_dropout": DROPOUT if choose.pick(RARE) else 0.0}


def is_conv(config) -> bool:
    return config["kind"] == KIND


def layer_class(config) -> str:
    return f"ConvLSTM{config['conv']['rank']}D"


def _size(values):
    """An int where every axis has the same value (as people write it), else the list."""
    return values[0] if len(set(values)) == 1 else list(values)


def cell_config(cell) -> dict:
    """A ConvLSTM cell dict as constructor kwargs (options at their default are not passed)."""
    out = {"filters": cell["units"]}
    for option in ("activation", "recurrent_activation"):
        if cell.get(option) is not None:
            out[option] = cell[option]
    for option in ("use_bias", "unit_forget_bias"):
        if not cell.get(option, True):
            out[option] = False
    for option in ("dropout", "recurrent_dropout"):
        if cell.get(option):
            out[option] = cell[option]
    return out


def geometry_config(conv) -> dict:
    """The geometry as constructor kwargs: kernel_size and padding always, the rest when not default."""
    out = {"kernel_size": _size(conv["kernel_size"]), "padding": conv["padding"]}
    if max(conv["strides"]) > 1:
        out["strides"] = _size(conv["strides"])
    if max(conv["dilation_rate"]) > 1:
        out["dilation_rate"] = _size(conv["dilation_rate"])
    if conv["data_format"] != "channels_last":
        out["data_format"] = conv["data_format"]
    return out


def layer_config(cell, conv, flags, dtype) -> dict:
    """Constructor kwargs of the layer (or of a backward layer: ``flags`` as it takes them)."""
    flags = {k: v for k, v in flags.items() if v or k != "unroll"}
    return {**cell_config(cell), **geometry_config(conv), **flags, **dtype}


def input_shape(config) -> tuple:
    conv, batch, steps, channels = config["conv"], config["batch"], config["steps"], config["features"]
    if conv["data_format"] == "channels_first":
        return (batch, steps, channels, *conv["spatial"])
    return (batch, steps, *conv["spatial"], channels)


def output_spatial(conv) -> tuple:
    """The spatial shape of one output step (h and c); (1, ...) for a configuration the layer
    refuses (strides with dilation), where any state shape will do."""
    out = tuple(output_length(n, k, s, d, conv["padding"]) for n, k, s, d in
                zip(conv["spatial"], conv["kernel_size"], conv["strides"], conv["dilation_rate"]))
    return out if min(out) >= 1 else (1,) * conv["rank"]


def state_shape(config, filters) -> tuple:
    """(batch, *out, filters) (channels_first: (batch, filters, *out)): the shape of h and of c."""
    out = output_spatial(config["conv"])
    if config["conv"]["data_format"] == "channels_first":
        return (config["batch"], filters, *out)
    return (config["batch"], *out, filters)


def initial_states(config, rng, dtype) -> list:
    """[h, c] (and [h, c] of the backward layer under Bidirectional), uniform(-0.8, 0.8)."""
    wrapper = config["wrapper"]
    cells = [config["cells"][0]] + ([wrapper["backward"] or config["cells"][0]] if wrapper else [])
    return [rng.uniform(-0.8, 0.8, size=state_shape(config, cell["units"])).astype(dtype)
            for cell in cells for _ in range(2)]


def registry_fields(config) -> dict:
    """The ConvLstmCase fields (matrix/conv_lstm_cases.py) the divergence registry reads."""
    conv = config["conv"]
    return {"layer": f"conv_lstm{conv['rank']}d", "rank": conv["rank"],
            "strides": "s1" if max(conv["strides"]) == 1 else "s2",
            "dilation": "d1" if max(conv["dilation_rate"]) == 1 else "d2",
            "padding": conv["padding"], "data_format": "cf" if conv["data_format"] == "channels_first" else "cl",
            "cell": "layer", "stacked_dtype": None, "stacked_kinds": None}


def id_words(config) -> str:
    """The id's layer part: `ConvLSTM2D-k3x1-s2-valid-cf` (defaults left out: s1, d1, same, cl)."""
    conv = config["conv"]
    words = [layer_class(config), "k" + "x".join(map(str, conv["kernel_size"]))]
    words += ["s" + "x".join(map(str, conv["strides"]))] if max(conv["strides"]) > 1 else []
    words += ["d" + "x".join(map(str, conv["dilation_rate"]))] if max(conv["dilation_rate"]) > 1 else []
    words += ["valid"] if conv["padding"] == "valid" else []
    words += ["cf"] if conv["data_format"] == "channels_first" else []
    return "-".join(words)


def masks_of(plan) -> list:
    """The masks of a plan's calls (for the registry's test of masked steps after valid ones)."""
    return [np.asarray(call.mask, bool) for call in plan.calls if call.mask is not None]
