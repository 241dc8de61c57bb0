"""The Keras case matrix: a frozen Case dataclass, deterministic readable ids, seeded data.

Tiers
- default: the full product of the 16 flag combinations (return_sequences x return_state x
  go_backwards x stateful) for every layer and wrapper on every target, plus every non-default value
  of every other axis crossed with every layer and every flag combination (wrappers rotate), plus
  one case for every pair of non-default values of two other axes (so all axes combine pairwise).
  The `cell` axis (the layer as RNN(cell), or as RNN of two stacked cells) and the mixed-precision
  dtypes came later: their cases are generated after all the others (`_cell_and_precision_cases`),
  so the ids and order of the earlier cases never change.
- full: the full product of layer x wrapper x flags x mask x initial_state x dtype x target (the
  axes that meet in the time loop), and of cell x layer x wrapper x flags x mask x initial_state
  (float32); the cell-local axes (activation, use_bias, unroll, dropout) and the shape axes (T, batch,
  time_major) stay pairwise, as in the default tier.
"""
from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass, fields, replace

import numpy as np

from ..plan import LayerSpec
from ..targets import registry

TARGETS = ("keras3", "tf_keras")

# id -> (Keras class name, fixed constructor options)
LAYERS = {
    "simple_rnn": ("SimpleRNN", {}),
    "lstm": ("LSTM", {}),
    "gru": ("GRU", {"reset_after": True}),
    "gru_reset_before": ("GRU", {"reset_after": False}),
}
# id -> Bidirectional merge_mode ("none" = no wrapper; "bidi_none" = merge_mode=None)
WRAPPERS = {"none": "-", "bidi_concat": "concat", "bidi_sum": "sum", "bidi_mul": "mul",
            "bidi_ave": "ave", "bidi_none": None}
MASKS = ("none", "right", "left", "holes", "full_row")
# id -> constructor options. ract_* set the recurrent (gate) activation, so they apply to gated layers.
ACTIVATIONS = {
    "default": {},
    "act_relu": {"activation": "relu"},
    "act_linear": {"activation": "linear"},
    "act_hard_sigmoid": {"activation": "hard_sigmoid"},
    "ract_hard_sigmoid": {"recurrent_activation": "hard_sigmoid"},
}
# id -> how the layer is built: the built-in layer itself, RNN(its cell), or RNN([cell, cell])
# (Keras wraps the list in StackedRNNCells: STACK_UNITS units, so the two cells' states differ in width)
CELLS = {"layer": None, "rnn_cell": "RNN(cell)", "stacked": "RNN([cell, cell])"}
CELL_CLASSES = {"SimpleRNN": "SimpleRNNCell", "LSTM": "LSTMCell", "GRU": "GRUCell"}
STACK_UNITS = (4, 5)
# id -> dtype, or a mixed-precision policy (float32 variables and inputs, low-precision compute)
DTYPES = {"f32": "float32", "f64": "float64", "f16": "float16",
          "mixed_f16": "mixed_float16", "mixed_bf16": "mixed_bfloat16"}
MIXED = {"mixed_float16": "float32", "mixed_bfloat16": "float32"}  # policy -> variable/input dtype
STEPS = {"t7": 7, "t1": 1, "t100": 100}
BATCHES = {"b3": 3, "b1": 1}
UNITS, FEATURES = 5, 3
DROPOUT_RATE = 0.3  # inference: must not change anything

FLAGS = ("return_sequences", "return_state", "go_backwards", "stateful")


@dataclass(frozen=True, order=True)
class Case:
    layer: str = "lstm"
    cell: str = "layer"
    wrapper: str = "none"
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    stateful: bool = False
    mask: str = "none"
    initial_state: bool = False
    activation: str = "default"
    use_bias: bool = True
    unroll: bool = False
    dropout: bool = False
    time_major: bool = False
    dtype: str = "f32"
    steps: str = "t7"
    batch: str = "b3"
    target: str = "keras3"

    # -- identity ------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return f"{self.stem}-{self.target}"

    @property
    def stem(self) -> str:
        """The id without the target: the same stem means the same data and weights on every target."""
        parts = [self.layer]
        if self.cell != "layer":
            parts.append(self.cell)
        if self.wrapper != "none":
            parts.append(self.wrapper)
        for flag, word in zip(FLAGS, ("seq", "state", "bwd", "stateful")):
            if getattr(self, flag):
                parts.append(word)
        if self.mask != "none":
            parts.append(f"mask_{self.mask}")
        if self.initial_state:
            parts.append("init")
        if self.activation != "default":
            parts.append(self.activation)
        if not self.use_bias:
            parts.append("nobias")
        for word in ("unroll", "dropout", "time_major"):
            if getattr(self, word):
                parts.append(word)
        if self.steps != "t7":
            parts.append(self.steps)
        if self.batch != "b3":
            parts.append(self.batch)
        parts.append(self.dtype)
        return "-".join(parts)

    @property
    def seed(self) -> int:
        return zlib.crc32(self.stem.encode())

    @property
    def dialect(self) -> str:
        return registry.dialect(self.target)

    @property
    def n_steps(self) -> int:
        return STEPS[self.steps]

    @property
    def n_batch(self) -> int:
        return BATCHES[self.batch]

    @property
    def np_dtype(self):
        """The dtype of the inputs and initial states (float32 under a mixed-precision policy)."""
        name = DTYPES[self.dtype]
        return np.dtype(MIXED.get(name, name))

    @property
    def policy(self):
        """The mixed-precision policy name, or None for a plain dtype."""
        return DTYPES[self.dtype] if DTYPES[self.dtype] in MIXED else None

    @property
    def input_shape(self):
        b, t = self.n_batch, self.n_steps
        return (t, b, FEATURES) if self.time_major else (b, t, FEATURES)

    # -- the layer -----------------------------------------------------------------------------
    def layer_spec(self) -> LayerSpec:
        """The layer as a spec (targets/keras_adapter.py). Under a mixed-precision policy the
        configs hold no dtype and "policy" names it for the layer, its cells and its wrapper."""
        cls, fixed = LAYERS[self.layer]
        cell = {"units": UNITS, **fixed, **ACTIVATIONS[self.activation]}  # the cell's own options
        if not self.use_bias:
            cell["use_bias"] = False
        if self.dropout:
            cell["dropout"] = cell["recurrent_dropout"] = DROPOUT_RATE
        loop = {flag: getattr(self, flag) for flag in FLAGS}  # the time loop's options
        if self.unroll:
            loop["unroll"] = True
        if self.time_major:
            loop["time_major"] = True
        dtype = {} if self.policy else {"dtype": DTYPES[self.dtype]}
        wrapper = None if self.wrapper == "none" else {"merge_mode": WRAPPERS[self.wrapper]}
        if self.cell == "layer":
            config = {**cell, **loop}
            for key in ("use_bias", "unroll", "dropout", "recurrent_dropout", "time_major"):
                if key in config:  # the keys in the order they always had (recorded specs)
                    config[key] = config.pop(key)
            spec = {"class": cls, "config": {**config, **dtype}, "wrapper": wrapper}
        else:
            units = STACK_UNITS if self.cell == "stacked" else (UNITS,)
            cells = [{"class": CELL_CLASSES[cls], "config": {**cell, "units": u, **dtype}} for u in units]
            spec = {"class": "RNN", "config": {**loop, **dtype}, "cells": cells,
                    "stacked": self.cell == "stacked", "wrapper": wrapper}
        if self.policy:
            spec["policy"] = self.policy
        return LayerSpec.from_dict(spec)

    @property
    def states_per_cell(self) -> int:
        return 2 if self.layer == "lstm" else 1

    @property
    def n_states(self) -> int:
        """How many state arrays the layer carries (every cell's, both directions)."""
        cells = 2 if self.cell == "stacked" else 1
        return self.states_per_cell * cells * (1 if self.wrapper == "none" else 2)

    def applicable(self) -> bool:
        """Combinations that do not exist: a recurrent activation on SimpleRNN."""
        return not (self.layer == "simple_rnn" and self.activation.startswith("ract_"))


def flag_product():
    return list(itertools.product((False, True), repeat=len(FLAGS)))


def with_flags(case, flags):
    return replace(case, **dict(zip(FLAGS, flags)))


# Non-default values of the other axes, as Case field overrides.
def extra_axes():
    axes = {
        "mask": [{"mask": m} for m in MASKS[1:]],
        "initial_state": [{"initial_state": True}],
        "activation": [{"activation": a} for a in list(ACTIVATIONS)[1:]],
        "use_bias": [{"use_bias": False}],
        "unroll": [{"unroll": True}],
        "dropout": [{"dropout": True}],
        "dtype": [{"dtype": "f64"}, {"dtype": "f16"}],
        "steps": [{"steps": s} for s in list(STEPS)[1:]],
        "batch": [{"batch": "b1"}],
        "time_major": [{"time_major": True}],
    }
    return axes


def fits(case):
    # unroll needs a known, short time axis; t100 unrolled is legal but slow: keep it out.
    if case.unroll and case.steps == "t100":
        return False
    return case.applicable()


def default_cases(targets=TARGETS):
    return unique([*_layer_cases(targets), *_cell_and_precision_cases(targets)])


def _layer_cases(targets):
    """The matrix before the cell axis and mixed precision: these ids and their order are fixed
    (recordings under fixtures/ are keyed by them)."""
    layers, wrappers = list(LAYERS), list(WRAPPERS)
    flag_combos = flag_product()
    out = []
    for target in targets:
        # 1. full flag product for every layer and wrapper
        for layer, wrapper, flags in itertools.product(layers, wrappers, flag_combos):
            out.append(with_flags(Case(layer=layer, wrapper=wrapper, target=target), flags))
        # 2. every other non-default value x every layer x every flag combination
        k = 0
        for axis, values in extra_axes().items():
            for override in values:
                for li, layer in enumerate(layers):
                    for fi, flags in enumerate(flag_combos):
                        wrapper = wrappers[(fi + li + k) % len(wrappers)]
                        case = with_flags(Case(layer=layer, wrapper=wrapper, target=target, **override), flags)
                        out.append(case)
                k += 1
        # 3. every pair of non-default values of two different other axes
        singles = [(axis, o) for axis, values in extra_axes().items() for o in values]
        n = 0
        for (a1, o1), (a2, o2) in itertools.combinations(singles, 2):
            if a1 == a2:
                continue
            layer = layers[n % len(layers)]
            if "ract" in str(o1.get("activation", "")) + str(o2.get("activation", "")) and layer == "simple_rnn":
                layer = "lstm"
            flags = flag_combos[(n * 7) % len(flag_combos)]
            case = with_flags(Case(layer=layer, wrapper=wrappers[n % len(wrappers)], target=target,
                                    **o1, **o2), flags)
            out.append(case)
            n += 1
    return unique(c for c in out if fits(c))


# Values of the axes added after the first matrix: the cell axis and the mixed-precision dtypes.
NEW_VALUES = {"cell": [{"cell": c} for c in list(CELLS)[1:]],
              "dtype": [{"dtype": "mixed_f16"}, {"dtype": "mixed_bf16"}]}


def _cell_and_precision_cases(targets):
    """RNN(cell), stacked cells and mixed precision, as the default tier covers every other axis:
    - every cell value x every layer x the 16 flag combinations, no wrapper;
    - every cell value under every Bidirectional merge mode, every layer (flags rotate);
    - every cell value x every layer x every mask, with initial states (wrappers and flags rotate);
    - every mixed-precision dtype x every layer x every flag combination (wrappers rotate);
    - every cell value x every mixed-precision dtype x every layer, masked and not;
    - every new value x every non-default value of every other axis (layers, wrappers, flags rotate)."""
    layers, wrappers, flag_combos = list(LAYERS), list(WRAPPERS), flag_product()
    out = []
    for target in targets:
        for override in NEW_VALUES["cell"]:
            for layer, flags in itertools.product(layers, flag_combos):
                out.append(with_flags(Case(layer=layer, target=target, **override), flags))
        for ci, override in enumerate(NEW_VALUES["cell"]):
            for wi, wrapper in enumerate(wrappers[1:]):
                for li, layer in enumerate(layers):
                    flags = flag_combos[(3 * wi + 5 * li + 7 * ci) % len(flag_combos)]
                    out.append(with_flags(Case(layer=layer, wrapper=wrapper, target=target, **override),
                                           flags))
        for ci, override in enumerate(NEW_VALUES["cell"]):  # where a stack's states meet the mask
            for mi, mask in enumerate(MASKS[1:]):
                for li, layer in enumerate(layers):
                    n = ci + mi + li
                    out.append(with_flags(Case(layer=layer, wrapper=wrappers[n % len(wrappers)], mask=mask,
                                                initial_state=True, target=target, **override),
                                           flag_combos[(5 * n + 3 * ci) % len(flag_combos)]))
        for k, override in enumerate(NEW_VALUES["dtype"]):
            for li, layer in enumerate(layers):
                for fi, flags in enumerate(flag_combos):
                    wrapper = wrappers[(fi + li + k) % len(wrappers)]
                    out.append(with_flags(Case(layer=layer, wrapper=wrapper, target=target, **override),
                                           flags))
        for ci, cell in enumerate(NEW_VALUES["cell"]):  # cells in mixed precision, masked and not
            for di, dtype in enumerate(NEW_VALUES["dtype"]):
                for li, layer in enumerate(layers):
                    n = 4 * (2 * ci + di) + li
                    for mask in ("none", MASKS[1 + n % (len(MASKS) - 1)]):
                        out.append(with_flags(
                            Case(layer=layer, wrapper=wrappers[n % len(wrappers)], mask=mask,
                                 initial_state=bool(n % 2), target=target, **cell, **dtype),
                            flag_combos[(7 * n + (mask != "none")) % len(flag_combos)]))
        new = [(axis, o) for axis, values in NEW_VALUES.items() for o in values]
        others = [(axis, o) for axis, values in extra_axes().items() for o in values] + new
        n = 0
        for i, (a1, o1) in enumerate(new):
            for a2, o2 in others:
                if a1 == a2 or (a2, o2) in new[:i]:  # same axis, or a pair of new values seen already
                    continue
                layer = layers[n % len(layers)]
                if str(o1.get("activation", "")).startswith("ract") or \
                        str(o2.get("activation", "")).startswith("ract"):
                    layer = "lstm" if layer == "simple_rnn" else layer
                flags = flag_combos[(n * 7) % len(flag_combos)]
                out.append(with_flags(Case(layer=layer, wrapper=wrappers[n % len(wrappers)],
                                            target=target, **o1, **o2), flags))
                n += 1
    return unique(c for c in out if fits(c))


def full_cases(targets=TARGETS):
    out = []
    for target, layer, wrapper, flags, mask, init, dtype in itertools.product(
            targets, LAYERS, WRAPPERS, flag_product(), MASKS, (False, True), DTYPES):
        out.append(with_flags(Case(layer=layer, wrapper=wrapper, mask=mask, initial_state=init,
                                    dtype=dtype, target=target), flags))
    for target, cell, layer, wrapper, flags, mask, init in itertools.product(
            targets, list(CELLS)[1:], LAYERS, WRAPPERS, flag_product(), MASKS, (False, True)):
        out.append(with_flags(Case(layer=layer, cell=cell, wrapper=wrapper, mask=mask,
                                    initial_state=init, target=target), flags))
    return unique(list(out) + default_cases(targets))


def unique(cases):
    seen, out = set(), []
    for c in cases:
        if c.id not in seen:
            seen.add(c.id)
            out.append(c)
    return out


def case_from_id(case_id: str) -> Case:
    """Parse an id back into a Case (the inverse of Case.id)."""
    target = registry.target_of(case_id)
    if target is None:
        raise ValueError(f"case id {case_id!r}: it does not end with a target ({', '.join(registry.TARGETS)})")
    parts = case_id[: -len(target) - 1].split("-") + [target]
    if parts[0] not in LAYERS:  # ConvLSTM ids: matrix/conv_lstm_cases.py (tiers.case_of reads every kind)
        raise ValueError(f"case id {case_id!r}: unknown layer {parts[0]!r} (expected one of "
                         f"{', '.join(LAYERS)})")
    dtype = parts[-2]
    kwargs = {"layer": parts[0], "target": target, "dtype": dtype}
    words = {"seq": "return_sequences", "state": "return_state", "bwd": "go_backwards",
             "stateful": "stateful", "init": "initial_state", "unroll": "unroll",
             "dropout": "dropout", "time_major": "time_major"}
    for p in parts[1:-2]:
        if p in WRAPPERS:
            kwargs["wrapper"] = p
        elif p in CELLS and p != "layer":
            kwargs["cell"] = p
        elif p in words:
            kwargs[words[p]] = True
        elif p.startswith("mask_"):
            kwargs["mask"] = p[5:]
        elif p in ACTIVATIONS:
            kwargs["activation"] = p
        elif p == "nobias":
            kwargs["use_bias"] = False
        elif p in STEPS:
            kwargs["steps"] = p
        elif p in BATCHES:
            kwargs["batch"] = p
        else:
            raise ValueError(f"case id {case_id!r}: unknown part {p!r}")
    case = Case(**kwargs)
    if case.id != case_id:
        raise ValueError(f"case id {case_id!r} is not canonical (canonical form: {case.id!r})")
    return case


FIELD_NAMES = tuple(f.name for f in fields(Case))
