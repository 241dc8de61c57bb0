"""The ConvLSTM1D/2D/3D cases of the matrix: a `ConvLstmCase` is a `Case` (same flags, wrapper, mask,
initial state, dtype, batch, steps and target axes, so the divergences registry and the targets'
cannot_express read it like any case) with the convolution's axes: rank, kernel size, strides,
padding, dilation_rate and data_format. Shapes are tiny: spatial 3-5 per axis, 2 filters, 2 channels.

Ids: `conv_lstm1d-bidi_mul-state-stateful-k1-s2-valid-cf-mask_holes-mixed_f16-tf_keras` (a default-tier case), defaults
(k2: an even kernel, where TF's 'same' split shows; s1, same, d1, channels_last, b2, t3) left out.

Tiers (per target)
- quick: the 16 flag combinations on ConvLSTM2D, then one case per non-default value of every other
  axis (ranks and flags rotating).
- default: the 16 flag combinations for each rank (no wrapper); every Bidirectional merge mode for
  each rank (flags rotating); a pairwise covering array of the other axes (every pair of values of two
  axes in at least one case, ranks, flags and wrappers rotating); strides with dilation (rejected).
- full: the 16 flag combinations x every rank x every wrapper, plus every non-default value of every
  other axis x every rank x the 16 flag combinations, plus the default tier.
Targets other than keras3 and tf_keras (converted runtimes, other backends) run `runtime_cases`, 8
cases, in the quick and default tiers.
"""
from __future__ import annotations

import itertools
import functools
from dataclasses import dataclass

import numpy as np

from ..plan import LayerSpec, Plan
from . import cases as m
from .data import seeded_plan

RANKS = (1, 2, 3)
SPATIAL = {1: (5,), 2: (5, 4), 3: (3, 4, 5)}  # non-square: a transposed state cannot pass
CHANNELS, FILTERS = 2, 2
KERNELS = {"k2": 2, "k1": 1, "k3": 3}  # k2 first: the default
STRIDES = {"s1": 1, "s2": 2}
PADDINGS = ("same", "valid")
DILATIONS = {"d1": 1, "d2": 2}
DATA_FORMATS = {"cl": "channels_last", "cf": "channels_first"}
DTYPES = ("f32", "f64", "f16", "mixed_f16")
STEPS = {"t3": 3, "t1": 1}
BATCHES = {"b2": 2, "b1": 1}
WRAPPERS = tuple(m.WRAPPERS)


@dataclass(frozen=True, order=True)
class ConvLstmCase(m.Case):
    layer: str = "conv_lstm2d"
    kernel: str = "k2"
    strides: str = "s1"
    padding: str = "same"
    dilation: str = "d1"
    data_format: str = "cl"
    steps: str = "t3"
    batch: str = "b2"

    @property
    def rank(self) -> int:
        return int(self.layer[len("conv_lstm")])

    @property
    def stem(self) -> str:
        parts = [self.layer]
        if self.wrapper != "none":
            parts.append(self.wrapper)
        parts += [word for flag, word in zip(m.FLAGS, ("seq", "state", "bwd", "stateful"))
                  if getattr(self, flag)]
        parts += [v for v, default in ((self.kernel, "k2"), (self.strides, "s1"), (self.padding, "same"),
                                       (self.dilation, "d1"), (self.data_format, "cl")) if v != default]
        if self.mask != "none":
            parts.append(f"mask_{self.mask}")
        if self.initial_state:
            parts.append("init")
        parts.append(self.dtype)
        parts += [v for v, default in ((self.batch, "b2"), (self.steps, "t3")) if v != default]
        return "-".join(parts)

    @property
    def n_steps(self) -> int:
        return STEPS[self.steps]

    @property
    def n_batch(self) -> int:
        return BATCHES[self.batch]

    @property
    def input_shape(self):
        spatial = SPATIAL[self.rank]
        if self.data_format == "cf":
            return (self.n_batch, self.n_steps, CHANNELS, *spatial)
        return (self.n_batch, self.n_steps, *spatial, CHANNELS)

    @property
    def states_per_cell(self) -> int:
        return 2

    def layer_spec(self) -> LayerSpec:
        config = {"filters": FILTERS, "kernel_size": KERNELS[self.kernel], "strides": STRIDES[self.strides],
                  "padding": self.padding, "data_format": DATA_FORMATS[self.data_format],
                  "dilation_rate": DILATIONS[self.dilation],
                  **{flag: getattr(self, flag) for flag in m.FLAGS}}
        if not self.policy:
            config["dtype"] = m.DTYPES[self.dtype]
        wrapper = None if self.wrapper == "none" else {"merge_mode": m.WRAPPERS[self.wrapper]}
        spec = {"class": f"ConvLSTM{self.rank}D", "config": config, "wrapper": wrapper}
        if self.policy:
            spec["policy"] = self.policy
        return LayerSpec.from_dict(spec)

    def output_spatial(self):
        """The spatial shape of one output step (h and c), as conv.py computes it."""
        from ..reference.conv import output_length

        k, s, d = KERNELS[self.kernel], STRIDES[self.strides], DILATIONS[self.dilation]
        return tuple(output_length(n, k, s, d, self.padding) for n in SPATIAL[self.rank])

    def applicable(self) -> bool:
        return True

    @classmethod
    def from_id(cls, case_id: str) -> "ConvLstmCase":
        from ..targets import registry

        target = registry.target_of(case_id)
        if target is None or not case_id.startswith("conv_lstm"):
            raise ValueError(f"not a ConvLSTM case id: {case_id!r}")
        parts = case_id[: -len(target) - 1].split("-")
        kwargs = {"layer": parts[0], "target": target}
        words = {"seq": "return_sequences", "state": "return_state", "bwd": "go_backwards",
                 "stateful": "stateful", "init": "initial_state"}
        for p in parts[1:]:
            field = ("wrapper" if p in WRAPPERS else "kernel" if p in KERNELS else "strides" if p in STRIDES
                     else "padding" if p in PADDINGS else "dilation" if p in DILATIONS
                     else "data_format" if p in DATA_FORMATS else "dtype" if p in DTYPES
                     else "batch" if p in BATCHES else "steps" if p in STEPS else None)
            if field is not None:
                kwargs[field] = p
            elif p in words:
                kwargs[words[p]] = True
            elif p.startswith("mask_") and p[5:] in m.MASKS:
                kwargs["mask"] = p[5:]
            else:
                raise ValueError(f"case id {case_id!r}: unknown part {p!r}")
        if parts[0] not in {f"conv_lstm{r}d" for r in RANKS}:
            raise ValueError(f"case id {case_id!r}: unknown layer {parts[0]!r}")
        case = cls(**kwargs)
        if case.id != case_id:
            raise ValueError(f"case id {case_id!r} is not canonical (canonical form: {case.id!r})")
        return case


def is_conv_lstm_case(case) -> bool:
    return isinstance(case, ConvLstmCase)


# -- data --------------------------------------------------------------------------------------
def _batch(case, rng):
    from .data import make_mask

    x = rng.normal(size=case.input_shape).astype(case.np_dtype)
    return x, make_mask(case.mask, case.n_batch, case.n_steps, rng)


def _initial_state(case, rng):
    out = case.output_spatial()
    if min(out) < 1:  # a configuration the layer refuses: any shape will do
        out = (1,) * case.rank
    shape = (case.n_batch, FILTERS, *out) if case.data_format == "cf" else (case.n_batch, *out, FILTERS)
    return [rng.uniform(-0.5, 0.5, size=shape).astype(case.np_dtype) for _ in range(case.n_states)]


def make_plan(case: ConvLstmCase) -> Plan:
    """One call; a stateful layer: two batches (the state carried), a reset, a third batch."""
    return seeded_plan(case, _batch, _initial_state)[0]


# -- tiers -------------------------------------------------------------------------------------
def _layer(rank):
    return f"conv_lstm{rank}d"


# The other axes: name -> values, the default first.
OTHER_AXES = {
    "kernel": list(KERNELS), "strides": list(STRIDES), "padding": list(PADDINGS),
    "dilation": list(DILATIONS), "data_format": list(DATA_FORMATS), "mask": list(m.MASKS),
    "initial_state": [False, True], "dtype": list(DTYPES), "batch": list(BATCHES), "steps": list(STEPS),
}


def valid_row(row) -> bool:
    """Rows the covering array may use: strides with dilation is a rejected configuration (its own
    case), and a 'valid' window must fit the smallest spatial axis (3)."""
    if row["strides"] != "s1" and row["dilation"] != "d1":
        return False
    span = DILATIONS[row["dilation"]] * (KERNELS[row["kernel"]] - 1) + 1
    return not (row["padding"] == "valid" and span > min(min(s) for s in SPATIAL.values()))


@functools.lru_cache(maxsize=None)
def pairwise_rows() -> tuple:
    """A deterministic greedy covering array: every pair of values of two axes of OTHER_AXES that a
    valid row can hold appears in at least one row (each round takes the first valid row covering
    the most pairs not yet covered)."""
    axes, values = list(OTHER_AXES), list(OTHER_AXES.values())
    every = [dict(zip(axes, row)) for row in itertools.product(*values)]
    every = [r for r in every if valid_row(r)]
    index = np.array([[values[a].index(r[axis]) for a, axis in enumerate(axes)] for r in every])
    columns, offset = [], 0  # one pair id per (axis a, axis b, value of a, value of b)
    for a, b in itertools.combinations(range(len(axes)), 2):
        columns.append(offset + index[:, a] * len(values[b]) + index[:, b])
        offset += len(values[a]) * len(values[b])
    pair_ids = np.stack(columns, axis=1)  # (rows, pairs of axes)
    uncovered = np.zeros(offset, bool)
    uncovered[pair_ids.ravel()] = True  # only the pairs some valid row holds
    rows = []
    while uncovered.any():
        best = int(np.argmax(uncovered[pair_ids].sum(axis=1)))
        rows.append(every[best])
        uncovered[pair_ids[best]] = False
    return tuple(rows)


def _cases(target, rank, flags, wrapper="none", **axes):
    return m.with_flags(ConvLstmCase(layer=_layer(rank), wrapper=wrapper, target=target, **axes), flags)


def quick_cases(targets):
    flags, out = m.flag_product(), []
    singles = [{axis: v} for axis, values in OTHER_AXES.items() for v in values[1:]]
    singles += [{"wrapper": w} for w in WRAPPERS[1:]]
    for target in targets:
        out += [_cases(target, 2, f) for f in flags]
        out += [_cases(target, RANKS[n % 3], flags[(5 * n) % 16], **o) for n, o in enumerate(singles)]
    return m.unique(out)


def default_cases(targets):
    flags, out = m.flag_product(), []
    for target in targets:
        out += [_cases(target, rank, f) for rank in RANKS for f in flags]
        out += [_cases(target, rank, flags[(3 * wi + 5 * rank) % 16], wrapper)
                for rank in RANKS for wi, wrapper in enumerate(WRAPPERS[1:])]
        for n, row in enumerate(pairwise_rows()):
            out.append(_cases(target, RANKS[n % 3], flags[(7 * n) % 16], WRAPPERS[n % len(WRAPPERS)], **row))
        out += [_cases(target, rank, flags[rank], strides="s2", dilation="d2") for rank in RANKS]
    return m.unique(out)


def full_cases(targets):
    flags, out = m.flag_product(), []
    for target in targets:
        out += [_cases(target, rank, f, wrapper) for rank in RANKS for wrapper in WRAPPERS for f in flags]
        for axis, values in OTHER_AXES.items():
            for v in values[1:]:
                out += [_cases(target, rank, f, WRAPPERS[(fi + rank) % len(WRAPPERS)], **{axis: v})
                        for rank in RANKS for fi, f in enumerate(flags)]
    return m.unique(out + default_cases(targets))


def runtime_cases(targets):
    """A converted runtime's or another backend's grid (each case costs a conversion or a worker
    round trip): every rank with sequences and states, masked with initial states, under
    Bidirectional, stateful; strided and 'valid', dilated, channels_first, ranks rotating."""
    out = []
    for target in targets:
        for rank in RANKS:
            out.append(ConvLstmCase(layer=_layer(rank), return_sequences=True, return_state=True, target=target))
        out += [ConvLstmCase(layer=_layer(1), return_sequences=True, mask="right", initial_state=True,
                             target=target),
                ConvLstmCase(layer=_layer(2), wrapper="bidi_concat", return_sequences=True, target=target),
                ConvLstmCase(layer=_layer(2), stateful=True, return_state=True, target=target),
                ConvLstmCase(layer=_layer(3), kernel="k3", strides="s2", padding="valid", target=target),
                ConvLstmCase(layer=_layer(2), dilation="d2", data_format="cf", return_sequences=True,
                             go_backwards=True, target=target)]
    return m.unique(out)


# the two Keras versions run the tier's own ConvLSTM grid; every other target (converted runtimes,
# other backends, each case a conversion or a worker round trip) the runtime grid, full tier aside
MAIN_TARGETS = ("keras3", "tf_keras")


def cases(grid, targets):
    """The ConvLSTM cases of a grid (a tier, or a target's smaller grid) on the targets."""
    targets = tuple(targets)
    if grid == "full":
        return full_cases(targets)
    main = tuple(t for t in targets if t in MAIN_TARGETS)
    others = tuple(t for t in targets if t not in MAIN_TARGETS)
    make = quick_cases if grid in ("quick", "runtime_quick") else default_cases
    return (make(main) if main else []) + (runtime_cases(others) if others else [])
