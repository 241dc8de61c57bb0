"""The Keras case matrix: a frozen Case dataclass, deterministic readable ids, seeded data.

Tiers
- default: the full product of the 16 flag combinations (return_sequences x return_state x
  go_backwards x stateful) for every layer and wrapper on every target, plus every non-default value
  of every other axis crossed with every layer and every flag combination (wrappers rotate), plus
  one case for every pair of non-default values of two other axes (so all axes combine pairwise).
- full: the full product of layer x wrapper x flags x mask x initial_state x dtype x target (the
  axes that meet in the time loop); the cell-local axes (activation, use_bias, unroll, dropout) and
  the shape axes (T, batch, time_major) stay pairwise, as in the default tier.
"""
from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass, fields, replace

import numpy as np

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
DTYPES = {"f32": "float32", "f64": "float64", "f16": "float16"}
STEPS = {"t7": 7, "t1": 1, "t100": 100}
BATCHES = {"b3": 3, "b1": 1}
UNITS, FEATURES = 5, 3
DROPOUT_RATE = 0.3  # inference: must not change anything

FLAGS = ("return_sequences", "return_state", "go_backwards", "stateful")


@dataclass(frozen=True, order=True)
class Case:
    layer: str = "lstm"
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
        return "keras3" if self.target == "keras3" else "keras2"

    @property
    def n_steps(self) -> int:
        return STEPS[self.steps]

    @property
    def n_batch(self) -> int:
        return BATCHES[self.batch]

    @property
    def np_dtype(self):
        return np.dtype(DTYPES[self.dtype])

    @property
    def input_shape(self):
        b, t = self.n_batch, self.n_steps
        return (t, b, FEATURES) if self.time_major else (b, t, FEATURES)

    # -- the layer -----------------------------------------------------------------------------
    def layer_spec(self) -> dict:
        cls, fixed = LAYERS[self.layer]
        config = {"units": UNITS, **fixed, **ACTIVATIONS[self.activation]}
        for flag in FLAGS:
            config[flag] = getattr(self, flag)
        if not self.use_bias:
            config["use_bias"] = False
        if self.unroll:
            config["unroll"] = True
        if self.dropout:
            config["dropout"] = config["recurrent_dropout"] = DROPOUT_RATE
        if self.time_major:
            config["time_major"] = True
        config["dtype"] = DTYPES[self.dtype]
        wrapper = None if self.wrapper == "none" else {"merge_mode": WRAPPERS[self.wrapper]}
        return {"class": cls, "config": config, "wrapper": wrapper}

    @property
    def n_states(self) -> int:
        per_layer = 2 if self.layer == "lstm" else 1
        return per_layer * (1 if self.wrapper == "none" else 2)

    def applicable(self) -> bool:
        """Combinations that do not exist: a recurrent activation on SimpleRNN."""
        return not (self.layer == "simple_rnn" and self.activation.startswith("ract_"))


def _flag_product():
    return list(itertools.product((False, True), repeat=len(FLAGS)))


def _with_flags(case, flags):
    return replace(case, **dict(zip(FLAGS, flags)))


# Non-default values of the other axes, as Case field overrides.
def _extra_axes():
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


def _fits(case):
    # unroll needs a known, short time axis; t100 unrolled is legal but slow: keep it out.
    if case.unroll and case.steps == "t100":
        return False
    return case.applicable()


def default_cases(targets=TARGETS):
    layers, wrappers = list(LAYERS), list(WRAPPERS)
    flag_combos = _flag_product()
    out = []
    for target in targets:
        # 1. full flag product for every layer and wrapper
        for layer, wrapper, flags in itertools.product(layers, wrappers, flag_combos):
            out.append(_with_flags(Case(layer=layer, wrapper=wrapper, target=target), flags))
        # 2. every other non-default value x every layer x every flag combination
        k = 0
        for axis, values in _extra_axes().items():
            for override in values:
                for li, layer in enumerate(layers):
                    for fi, flags in enumerate(flag_combos):
                        wrapper = wrappers[(fi + li + k) % len(wrappers)]
                        case = _with_flags(Case(layer=layer, wrapper=wrapper, target=target, **override), flags)
                        out.append(case)
                k += 1
        # 3. every pair of non-default values of two different other axes
        singles = [(axis, o) for axis, values in _extra_axes().items() for o in values]
        n = 0
        for (a1, o1), (a2, o2) in itertools.combinations(singles, 2):
            if a1 == a2:
                continue
            layer = layers[n % len(layers)]
            if "ract" in str(o1.get("activation", "")) + str(o2.get("activation", "")) and layer == "simple_rnn":
                layer = "lstm"
            flags = flag_combos[(n * 7) % len(flag_combos)]
            case = _with_flags(Case(layer=layer, wrapper=wrappers[n % len(wrappers)], target=target,
                                    **o1, **o2), flags)
            out.append(case)
            n += 1
    return _unique(c for c in out if _fits(c))


def full_cases(targets=TARGETS):
    out = []
    for target, layer, wrapper, flags, mask, init, dtype in itertools.product(
            targets, LAYERS, WRAPPERS, _flag_product(), MASKS, (False, True), DTYPES):
        out.append(_with_flags(Case(layer=layer, wrapper=wrapper, mask=mask, initial_state=init,
                                    dtype=dtype, target=target), flags))
    return _unique(list(out) + default_cases(targets))


def _unique(cases):
    seen, out = set(), []
    for c in cases:
        if c.id not in seen:
            seen.add(c.id)
            out.append(c)
    return out


def cases(tier="default", targets=TARGETS):
    if tier == "default":
        return default_cases(targets)
    if tier == "full":
        return full_cases(targets)
    raise ValueError(f"unknown tier {tier!r}: expected 'default' or 'full'")


def case_from_id(case_id: str) -> Case:
    """Parse an id back into a Case (the inverse of Case.id)."""
    parts = case_id.split("-")
    target, dtype = parts[-1], parts[-2]
    kwargs = {"layer": parts[0], "target": target, "dtype": dtype}
    words = {"seq": "return_sequences", "state": "return_state", "bwd": "go_backwards",
             "stateful": "stateful", "init": "initial_state", "unroll": "unroll",
             "dropout": "dropout", "time_major": "time_major"}
    for p in parts[1:-2]:
        if p in WRAPPERS:
            kwargs["wrapper"] = p
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
