"""The last shrinking pass: after hypothesis' own shrinking (or for a finding of the plain sweep,
instead of it), try simpler configurations one change at a time (drop an option, go back to a
default, halve a size) and keep each change under which the finding still shows (the same
signature: outcome and kind of problem), until no change helps or the time is up. A ConvLSTM
configuration also goes towards rank 1, kernel 1, strides and dilation 1, channels_last, padding
'valid' (Keras' default) and the smallest input a window fits; its filters are the cell's units."""
from __future__ import annotations

import time

from . import conv_space, space
from .run import run_config


def _flag(name):
    def off(c):
        if not c["flags"][name]:
            return None
        out = space.replace(c)
        out["flags"][name] = False
        return out
    return off


def _cells(change):
    """A candidate that applies ``change(cell) -> cell or None`` to every cell (and a backward one)."""
    def apply(c):
        out, changed = space.replace(c), False
        cells = out["cells"] + ([out["wrapper"]["backward"]] if out["wrapper"] and out["wrapper"]["backward"] else [])
        for cell in cells:
            new = change(dict(cell))
            if new is not None and new != cell:
                cell.clear()
                cell.update(new)
                changed = True
        return out if changed else None
    return apply


def _size(key, lo):
    def smaller(c):
        return None if c[key] <= lo else [space.replace(c, **{key: lo}),
                                          space.replace(c, **{key: max(lo, c[key] // 2)})]
    return smaller


def _set(key, value):
    return lambda c: None if c[key] == value else space.replace(c, **{key: value})


def _drop_stacked_cell(c):
    if c["kind"] != "stacked" or len(c["cells"]) <= 1:
        return None
    return [space.replace(c, cells=c["cells"][:k] + c["cells"][k + 1:]) for k in range(len(c["cells"]))]


def _no_wrapper(c):
    return None if c["wrapper"] is None else space.replace(c, wrapper=None)


def _no_backward(c):
    if c["wrapper"] is None or c["wrapper"]["backward"] is None:
        return None
    out = space.replace(c)
    out["wrapper"]["backward"] = None
    return out


def _units(cell):
    return None if cell["units"] <= 1 else {**cell, "units": max(1, cell["units"] // 2)}


def _defaults(cell):
    out = {**cell, "activation": None, "use_bias": True}
    if "recurrent_activation" in cell:
        out["recurrent_activation"] = None
    if cell["class"] == conv_space.CELL_CLASS:
        out.update(unit_forget_bias=True, dropout=0.0, recurrent_dropout=0.0)
    return out


# -- ConvLSTM: towards rank 1, kernel 1, stride and dilation 1, channels_last, small inputs --------
def _conv(change):
    """A candidate that applies ``change(conv) -> conv, a list of them, or None`` to the geometry."""
    def apply(c):
        if not conv_space.is_conv(c):
            return None
        made = change(c["conv"])
        made = [] if made is None else made if isinstance(made, list) else [made]
        return [space.replace(c, conv=m) for m in made if m != c["conv"]] or None
    return apply


def _lower_rank(conv):
    """Rank 1 at once, then one axis fewer (each axis dropped in turn)."""
    rank = conv["rank"]
    if rank == 1:
        return None
    axes = [[0]] + [[a for a in range(rank) if a != drop] for drop in range(rank)] if rank == 3 else \
        [[0], [1]]
    per_axis = ("kernel_size", "strides", "dilation_rate", "spatial")
    return [{**conv, "rank": len(kept), **{k: [conv[k][a] for a in kept] for k in per_axis}}
            for kept in axes]


def _per_axis(key, value):
    """Every axis of ``key`` set to ``value``, then one axis at a time."""
    def change(conv):
        if all(v == value for v in conv[key]):
            return None
        one_axis = [{**conv, key: [value if b == a else v for b, v in enumerate(conv[key])]}
                    for a in range(conv["rank"]) if conv[key][a] != value]
        return [{**conv, key: [value] * conv["rank"]}] + (one_axis if len(one_axis) > 1 else [])
    return change


def _smaller_spatial(conv):
    """Each axis as small as a 'valid' window allows, then halved."""
    spans = [d * (k - 1) + 1 for k, d in zip(conv["kernel_size"], conv["dilation_rate"])]
    least = [s if conv["padding"] == "valid" else 1 for s in spans]
    if conv["spatial"] == least:
        return None
    halved = [max(lo, n // 2) for lo, n in zip(least, conv["spatial"])]
    return [{**conv, "spatial": least}, {**conv, "spatial": halved}]


def _set_conv(key, value):
    return lambda conv: None if conv[key] == value else {**conv, key: value}


CONV_CANDIDATES = (
    _conv(_lower_rank), _conv(_per_axis("strides", 1)), _conv(_per_axis("dilation_rate", 1)),
    _conv(_set_conv("data_format", "channels_last")), _conv(_per_axis("kernel_size", 1)),
    _conv(_set_conv("padding", "valid")), _conv(_smaller_spatial),
)


def _one_default(option):
    return _cells(lambda cell: None if cell.get(option) is None else {**cell, option: None})


# simplest first: whole options, then defaults, then sizes
CANDIDATES = (
    _no_wrapper, _no_backward, _drop_stacked_cell, _set("mask", "none"), _set("initial_state", False),
    _flag("stateful"), _flag("return_state"), _flag("go_backwards"), _flag("unroll"),
    _flag("return_sequences"), _cells(_defaults), _one_default("activation"),
    _one_default("recurrent_activation"), _cells(lambda cell: {**cell, "use_bias": True}),
    *CONV_CANDIDATES, _set("scale", 0.6), _size("steps", 1), _size("batch", 1), _size("features", 1),
    _cells(_units),
)


def greedy(result, seconds: float, log=None):
    """The simplest configuration found (as a run.Result) that keeps ``result.signature``."""
    deadline = time.monotonic() + seconds
    best, improved = result, True
    while improved and time.monotonic() < deadline:
        improved = False
        for candidate in CANDIDATES:
            if time.monotonic() >= deadline:
                break
            made = candidate(best.config)
            for config in ([] if made is None else made if isinstance(made, list) else [made]):
                if space.spec_of(config) == space.spec_of(best.config) and config == best.config:
                    continue
                tried = run_config(config)
                if tried.signature == result.signature:
                    best, improved = tried, True
                    if log:
                        log(f"    shrunk: {space.describe(config)}")
                    break
    return best
