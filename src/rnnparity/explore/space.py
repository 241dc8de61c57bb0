"""The space `rnnparity explore` searches: layer configurations wider than the case matrix.

A configuration is a plain dict (JSON-able, so a finding can be printed, stored and replayed):

    target      "keras3" | "tf_keras" (the dialect follows)
    kind        "SimpleRNN" | "LSTM" | "GRU" | "RNN_cell" (RNN(cell)) | "stacked" (RNN([cells]))
                | "ConvLSTM" (ConvLSTM1D/2D/3D: the geometry in "conv", see conv_space.py)
    cells       one dict per cell: class, units, activation, recurrent_activation, reset_after, use_bias
                (a layer kind has one cell: its own options)
    wrapper     None, or {"merge_mode", "own_dtype" (the wrapper gets the layer's dtype),
                "backward": None or a cell dict (a different backward_layer, same class)}
    flags       return_sequences, return_state, go_backwards, stateful, unroll
    dtype       "float32" | "float64" | "float16" | "mixed_float16" (a policy: float32 variables)
    batch, steps (T, up to 500), features, mask ("none", "right", "left", "holes", "full_row"),
    initial_state (bool), scale (weights uniform(-scale, scale): contractive to exploding), seed

The space is written once, against a small `Chooser` (pick one of options, an integer in a range),
so hypothesis (which shrinks towards the first option and the low end of a range: the options are
listed simplest first) and a seeded NumPy sweep draw from the same definition.
"""
from __future__ import annotations

import copy
import hashlib
import json

import numpy as np

from ..matrix.data import make_mask
from ..plan import Call, LayerSpec, Plan, Reset, seeded_weights
from . import conv_space

TARGETS = ("keras3", "tf_keras")
KINDS = ("SimpleRNN", "LSTM", "GRU", "RNN_cell", "stacked", conv_space.KIND)  # simplest first
CELL_CLASSES = ("SimpleRNNCell", "LSTMCell", "GRUCell")
LAYER_OF_CELL = {"SimpleRNNCell": "SimpleRNN", "LSTMCell": "LSTM", "GRUCell": "GRU"}
DTYPES = ("float32", "float64", "float16", "mixed_float16")
MIXED = {"mixed_float16": "float32"}  # policy -> the dtype of variables, inputs and initial states
MERGE_MODES = ("concat", "sum", "mul", "ave", None)
MASKS = ("none", "right", "left", "holes", "full_row")
# weights uniform(-scale, scale): 0.6 is the matrix's; 0.1 is contractive; 2.5 and 4 explode
# (unbounded activations) or saturate every gate
SCALES = (0.6, 0.3, 1.0, 0.1, 1.6, 2.5, 4.0)
# T: mostly short (cheap, and where most structure bugs show), sometimes long (rounding growth,
# the compiled loop of targets/keras_adapter.py from 500 steps)
STEP_RANGES = {"short": (1, 20), "medium": (21, 100), "long": (101, 500)}
STEP_TIERS = ("short",) * 6 + ("medium",) * 3 + ("long",)
RARE = (False, False, False, True)  # an option drawn one time in four (go_backwards: Keras 3
# Bidirectional rejects it, so half the time would be spent on one refusal)
UNROLL_MAX_STEPS = 50  # an unrolled graph of 500 steps takes minutes to build
# names in a framework's activations module that are not activations
NOT_ACTIVATIONS = {"get", "serialize", "deserialize", "activations"}


# -- choosers ----------------------------------------------------------------------------------------
class RandomChooser:
    """Draws from a seeded NumPy generator (the plain sweep: `explore --examples N --seed S`)."""

    def __init__(self, seed: int):
        self.rng = np.random.RandomState(seed % 2**32)

    def pick(self, options):
        return options[self.rng.randint(len(options))]

    def integer(self, lo, hi):
        return int(self.rng.randint(lo, hi + 1))


class HypothesisChooser:
    """Draws through hypothesis' ``draw`` (the search: hypothesis shrinks what it drew)."""

    def __init__(self, draw):
        from hypothesis import strategies as st

        self.draw, self.st = draw, st

    def pick(self, options):
        return self.draw(self.st.sampled_from(list(options)))

    def integer(self, lo, hi):
        return self.draw(self.st.integers(lo, hi))


_NAMES = {}


def activation_names(target: str) -> tuple:
    """Every activation name the live framework's `activations` module exposes (so a name added in
    a new Keras release is explored too), the default (None) first."""
    if target not in _NAMES:
        from ..targets import registry

        module = registry.get(target).K.activations
        _NAMES[target] = (None,) + tuple(sorted(
            n for n in dir(module) if not n.startswith("_") and n not in NOT_ACTIVATIONS
            and callable(getattr(module, n))))
    return _NAMES[target]


# -- the space -------------------------------------------------------------------------------------
MAX_STEPS = 500


def draw_config(choose, targets=TARGETS, names=activation_names, max_steps=MAX_STEPS,
                kinds=KINDS) -> dict:
    """One configuration, every choice made through ``choose`` (a RandomChooser or HypothesisChooser).
    ``names(target)``: the activation names to draw from, the default (None) first; ``max_steps``
    caps T (a CI-sized run: an eager T=500 stateful Bidirectional takes a minute on a loaded box);
    ``kinds``: the layer kinds to draw from (each as likely)."""
    target = choose.pick(tuple(targets))
    kind = choose.pick(tuple(kinds))
    dtype = choose.pick(DTYPES)
    if kind == conv_space.KIND:
        return _draw_conv(choose, target, dtype, names, max_steps)
    units = choose.integer(1, 8)
    if kind == "stacked":
        classes = [choose.pick(CELL_CLASSES) for _ in range(choose.integer(2, 3))]
    elif kind == "RNN_cell":
        classes = [choose.pick(CELL_CLASSES)]
    else:
        classes = [kind + "Cell"]
    cells = [_cell(choose, cls, units if k == 0 else choose.integer(1, 8), target, names)
             for k, cls in enumerate(classes)]
    tier = choose.pick(STEP_TIERS)
    lo, hi = STEP_RANGES[tier]
    steps = choose.integer(min(lo, max_steps), min(hi, max_steps))
    flags = {"return_sequences": choose.pick((False, True)), "return_state": choose.pick((False, True)),
             "go_backwards": choose.pick(RARE), "stateful": choose.pick((False, True)),
             "unroll": steps <= UNROLL_MAX_STEPS and choose.pick(RARE)}
    wrapper = None
    if choose.pick((False, True)):
        wrapper = {"merge_mode": choose.pick(MERGE_MODES), "own_dtype": choose.pick((False, True)),
                   "backward": None}
        if kind not in ("RNN_cell", "stacked") and choose.pick(RARE):
            wrapper["backward"] = _cell(choose, classes[0], units, target, names)
    return {"target": target, "kind": kind, "cells": cells, "wrapper": wrapper, "flags": flags,
            "dtype": dtype, "batch": choose.integer(1, 4), "steps": steps,
            "features": choose.integer(1, 6), "mask": choose.pick(MASKS),
            "initial_state": choose.pick((False, True)), "scale": choose.pick(SCALES),
            "seed": choose.integer(0, 2**16)}


def _draw_conv(choose, target, dtype, names, max_steps) -> dict:
    """A ConvLSTM configuration: the same keys as the others, the geometry in "conv", ``features``
    the input's channels, ``units`` the filters; T up to conv_space.MAX_STEPS."""
    conv = conv_space.draw_geometry(choose, target)
    filters = choose.integer(1, conv_space.MAX_FILTERS)
    cell = conv_space.draw_cell(choose, filters, target, names)
    steps = choose.integer(1, min(conv_space.MAX_STEPS, max_steps))
    flags = {"return_sequences": choose.pick((False, True)), "return_state": choose.pick((False, True)),
             "go_backwards": choose.pick(RARE), "stateful": choose.pick(conv_space.STATEFUL[target]),
             "unroll": choose.pick(conv_space.UNROLL[target])}
    wrapper = None
    if choose.pick((False, True)):
        wrapper = {"merge_mode": choose.pick(MERGE_MODES), "own_dtype": choose.pick((False, True)),
                   "backward": None}
        if choose.pick(RARE):  # a backward layer of the same geometry and filters, other options
            wrapper["backward"] = conv_space.draw_cell(choose, filters, target, names)
    return {"target": target, "kind": conv_space.KIND, "cells": [cell], "conv": conv, "wrapper": wrapper,
            "flags": flags, "dtype": dtype, "batch": choose.integer(1, 3), "steps": steps,
            "features": choose.integer(1, conv_space.MAX_CHANNELS), "mask": choose.pick(MASKS),
            "initial_state": choose.pick((False, True)), "scale": choose.pick(SCALES),
            "seed": choose.integer(0, 2**16)}


def _cell(choose, cls, units, target, names) -> dict:
    cell = {"class": cls, "units": units, "activation": choose.pick(names(target)),
            "use_bias": choose.pick((True, False))}
    if cls != "SimpleRNNCell":
        cell["recurrent_activation"] = choose.pick(names(target))
    if cls == "GRUCell":
        cell["reset_after"] = choose.pick((True, False))
    return cell


def strategy(targets=TARGETS, names=activation_names, max_steps=MAX_STEPS, kinds=KINDS):
    """The hypothesis strategy of configurations (hypothesis imported here, lazily)."""
    from hypothesis import strategies as st

    @st.composite
    def configs(draw):
        return draw_config(HypothesisChooser(draw), targets, names, max_steps, kinds)
    return configs()


def sweep_config(seed: int, index: int, targets=TARGETS, names=activation_names,
                 max_steps=MAX_STEPS, kinds=KINDS) -> dict:
    """The ``index``-th configuration of the plain seeded sweep."""
    return draw_config(RandomChooser(seed * 1_000_003 + index), targets, names, max_steps, kinds)


def parse_kinds(text) -> tuple:
    """``--kinds`` ("all", "ConvLSTM", "LSTM,GRU"; any case) -> KINDS' names, in KINDS' order."""
    if str(text).strip().lower() == "all":
        return KINDS
    wanted = [k.strip() for k in str(text).split(",") if k.strip()]
    by_lower = {k.lower(): k for k in KINDS}
    unknown = [k for k in wanted if k.lower() not in by_lower]
    if unknown or not wanted:
        raise ValueError(f"--kinds takes 'all' or a comma-separated list of {', '.join(KINDS)}; "
                         f"got {text!r}")
    chosen = {by_lower[k.lower()] for k in wanted}
    return tuple(k for k in KINDS if k in chosen)


# -- what a configuration stands for -------------------------------------------------------------
def dialect(config) -> str:
    return "keras3" if config["target"] == "keras3" else "keras2"


def data_dtype(config) -> str:
    """The dtype of inputs and initial states (float32 under a mixed policy)."""
    return MIXED.get(config["dtype"], config["dtype"])


def policy(config):
    return config["dtype"] if config["dtype"] in MIXED else None


def cell_config(cell) -> dict:
    """A cell dict as constructor kwargs (options left at their default are not passed)."""
    out = {"units": cell["units"]}
    for option in ("activation", "recurrent_activation"):
        if cell.get(option) is not None:
            out[option] = cell[option]
    if not cell["use_bias"]:
        out["use_bias"] = False
    if "reset_after" in cell:
        out["reset_after"] = cell["reset_after"]
    return out


def spec_of(config) -> LayerSpec:
    """The LayerSpec (targets/keras_adapter.py builds it) of a configuration."""
    dtype = {} if policy(config) else {"dtype": config["dtype"]}
    flags = {k: v for k, v in config["flags"].items() if v or k != "unroll"}
    if conv_space.is_conv(config):
        spec = {"class": conv_space.layer_class(config),
                "config": conv_space.layer_config(config["cells"][0], config["conv"], flags, dtype)}
    elif config["kind"] in ("RNN_cell", "stacked"):
        cells = tuple({"class": c["class"], "config": {**cell_config(c), **dtype}} for c in config["cells"])
        spec = {"class": "RNN", "config": {**flags, **dtype}, "cells": list(cells),
                "stacked": config["kind"] == "stacked"}
    else:
        spec = {"class": LAYER_OF_CELL[config["cells"][0]["class"]],
                "config": {**cell_config(config["cells"][0]), **flags, **dtype}}
    wrapper = config["wrapper"]
    spec["wrapper"] = None
    if wrapper is not None:
        spec["wrapper"] = {"merge_mode": wrapper["merge_mode"]}
        if wrapper["own_dtype"] and not policy(config):
            spec["wrapper"]["dtype"] = config["dtype"]
        backward_flags = {**flags, "go_backwards": not flags["go_backwards"]}
        if wrapper["backward"] is not None and conv_space.is_conv(config):
            spec["wrapper"]["backward_config"] = conv_space.layer_config(
                wrapper["backward"], config["conv"], backward_flags, dtype)
        elif wrapper["backward"] is not None:
            spec["wrapper"]["backward_config"] = {**cell_config(wrapper["backward"]), **backward_flags,
                                                  **dtype}
    if policy(config):
        spec["policy"] = policy(config)
    return LayerSpec.from_dict(spec)


def input_shape(config) -> tuple:
    if conv_space.is_conv(config):
        return conv_space.input_shape(config)
    return (config["batch"], config["steps"], config["features"])


def _states(config, rng):
    """Initial states in the structure both Keras versions take: a flat list (forward then backward
    states), or for stacked cells one list per cell (forward cells, then backward cells)."""
    dtype, batch = data_dtype(config), config["batch"]
    if conv_space.is_conv(config):
        return conv_space.initial_states(config, rng, dtype)

    def cell_states(cell):
        n = 2 if cell["class"] == "LSTMCell" else 1
        return [rng.uniform(-0.8, 0.8, size=(batch, cell["units"])).astype(dtype) for _ in range(n)]
    backward = config["wrapper"] and (config["wrapper"]["backward"] or config["cells"][0])
    if config["kind"] == "stacked":
        per_cell = [cell_states(c) for c in config["cells"]]
        return per_cell + ([cell_states(c) for c in config["cells"]] if config["wrapper"] else [])
    return cell_states(config["cells"][0]) + (cell_states(backward) if backward else [])


def plan_of(config) -> Plan:
    """One call; a stateful layer gets two calls (the state carried), a reset, and a third call."""
    rng = np.random.RandomState(config["seed"])

    def call(label, with_state):
        x = rng.normal(size=input_shape(config)).astype(data_dtype(config))
        mask = make_mask(config["mask"], config["batch"], config["steps"], rng)
        return Call(x, mask, _states(config, rng) if with_state else None, label)
    if not config["flags"]["stateful"]:
        return Plan([call("call", config["initial_state"])])
    return Plan([call("batch 1", config["initial_state"]), call("batch 2 (state carried)", False),
                 Reset(), call("batch 3 (after reset)", False)])


def weights_of(config):
    """``weights(shapes)`` for record_spec: seeded, different per gate and unit, scaled."""
    scale, seed = config["scale"], config["seed"]
    return lambda shapes: [w * (scale / 0.6) for w in seeded_weights(shapes, seed, "float64")]


def config_id(config) -> str:
    """A short readable name plus a hash of the whole configuration."""
    digest = hashlib.sha1(json.dumps(config, sort_keys=True).encode()).hexdigest()[:10]
    kind = config["kind"] if config["kind"] != "stacked" else \
        "stacked_" + "_".join(c["class"].removesuffix("Cell") for c in config["cells"])
    if conv_space.is_conv(config):
        kind = conv_space.id_words(config)
    wrap = "" if config["wrapper"] is None else f"-bidi_{str(config['wrapper']['merge_mode']).lower()}"
    return f"explore-{kind}{wrap}-{config['dtype']}-T{config['steps']}-{config['target']}-{digest}"


def describe(config) -> str:
    """One line: the layer as a constructor call, and the call's options."""
    spec = spec_of(config)
    flags = [k for k, v in config["flags"].items() if v]
    extra = [f"mask={config['mask']}"] if config["mask"] != "none" else []
    extra += ["initial_state"] if config["initial_state"] else []
    return (f"{config['target']} {json.dumps(spec.to_dict(), sort_keys=True)} x{input_shape(config)} "
            f"{' '.join(flags + extra)} scale={config['scale']}")


def replace(config, **changes) -> dict:
    out = copy.deepcopy(config)
    out.update(changes)
    return out
