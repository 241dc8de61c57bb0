"""The tf1 case matrix: `tf.compat.v1.nn` functions x legacy cells x sequence_length x time_major x
initial state x dtype. A case only describes a run: its spec (`Tf1Case.layer_spec`, a plan.Tf1Spec),
its plan (`make_plan`: one Call) and its seeded weights (`case_weights`); rnnparity.check.runner runs
it on the `tf1` target and on the reference like any other case. Never imports TensorFlow.
"""
from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass

import numpy as np

from ..plan import Call, Plan, Tf1Spec
from ..reference import tf1_nn as ref
from ..reference.tf1_call import BIDIRECTIONAL, DYNAMIC, FUNCTIONS

# Cell variants: id word -> (TF class, constructor kwargs). Sizes are small: the maths, not the size,
# is under test. num_units=4 with input_depth=3 keeps every matrix non-square.
CELLS = {
    "basic_rnn": ("BasicRNNCell", {"num_units": 4}),
    "basic_rnn_relu": ("BasicRNNCell", {"num_units": 4, "activation": "relu"}),
    "gru_cell": ("GRUCell", {"num_units": 4}),
    "gru_cell_softsign": ("GRUCell", {"num_units": 4, "activation": "softsign"}),
    "basic_lstm": ("BasicLSTMCell", {"num_units": 4}),
    "basic_lstm_fb0_concat": ("BasicLSTMCell", {"num_units": 4, "forget_bias": 0.0, "state_is_tuple": False}),
    "lstm_cell": ("LSTMCell", {"num_units": 4}),
    "lstm_cell_peep": ("LSTMCell", {"num_units": 4, "use_peepholes": True}),
    "lstm_cell_clip": ("LSTMCell", {"num_units": 4, "cell_clip": 0.3}),
    "lstm_cell_proj": ("LSTMCell", {"num_units": 4, "num_proj": 3}),
    "lstm_cell_proj_clip": ("LSTMCell", {"num_units": 4, "num_proj": 3, "proj_clip": 0.2}),
    "lstm_cell_all_concat": ("LSTMCell", {"num_units": 4, "use_peepholes": True, "cell_clip": 0.5,
                                          "num_proj": 3, "proj_clip": 0.4, "forget_bias": 0.5,
                                          "state_is_tuple": False, "activation": "softsign"}),
}
SEQLENS = ("none", "full", "ragged")
DTYPES = ("float32", "float64")
BATCH, STEPS, INPUT_DEPTH = 4, 5, 3
LENGTHS = {"full": [STEPS] * BATCH, "ragged": [STEPS, 2, 0, 3]}  # ragged: one row of length 0


@dataclass(frozen=True)
class Tf1Case:
    function: str
    cell: str
    seqlen: str = "none"
    time_major: bool = False
    init: bool = False
    dtype: str = "float32"

    def __post_init__(self):
        if self.function not in FUNCTIONS:
            raise ValueError(f"Tf1Case: unknown function {self.function!r}; expected one of {FUNCTIONS}")
        if self.cell not in CELLS:
            raise ValueError(f"Tf1Case: unknown cell {self.cell!r}; expected one of {sorted(CELLS)}")
        if self.seqlen not in SEQLENS:
            raise ValueError(f"Tf1Case: seqlen must be one of {SEQLENS}, got {self.seqlen!r}")
        if self.time_major and self.function not in DYNAMIC:
            raise ValueError(f"Tf1Case: {self.function} has no time_major argument")
        if self.dtype not in DTYPES:
            raise ValueError(f"Tf1Case: dtype must be one of {DTYPES}, got {self.dtype!r}")

    @property
    def id(self) -> str:
        return "-".join(["tf1", self.function, self.cell, f"seqlen_{self.seqlen}",
                         "time_major" if self.time_major else "batch_major",
                         "init" if self.init else "zero_init", {"float32": "f32", "float64": "f64"}[self.dtype]])

    @classmethod
    def from_id(cls, case_id: str) -> "Tf1Case":
        """The case an id names (for replaying recordings stored under their ids)."""
        parts = case_id.split("-")
        if len(parts) != 7 or parts[0] != "tf1" or not parts[3].startswith("seqlen_"):
            raise ValueError(f"not a tf1 case id: {case_id!r} (expected tf1-<function>-<cell>-seqlen_<s>-"
                             f"<time_major|batch_major>-<init|zero_init>-<f32|f64>)")
        _, function, cell, seqlen, layout, init, dtype = parts
        if layout not in ("time_major", "batch_major") or init not in ("init", "zero_init") \
                or dtype not in ("f32", "f64"):
            raise ValueError(f"not a tf1 case id: {case_id!r}")
        case = cls(function, cell, seqlen[len("seqlen_"):], layout == "time_major", init == "init",
                   {"f32": "float32", "f64": "float64"}[dtype])
        assert case.id == case_id
        return case

    @property
    def target(self) -> str:
        return "tf1"  # what rnnparity.check.divergences matches a registry entry's targets against

    @property
    def cell_spec(self) -> dict:
        cls, config = CELLS[self.cell]
        return {"class": cls, "config": dict(config)}

    @property
    def bidirectional(self) -> bool:
        return self.function in BIDIRECTIONAL

    @property
    def seed(self) -> int:
        return zlib.crc32(self.id.encode())  # stable across runs, processes and xdist workers

    @property
    def input_shape(self) -> tuple:
        """The shape of x as the function takes it."""
        return (STEPS, BATCH, INPUT_DEPTH) if self.time_major else (BATCH, STEPS, INPUT_DEPTH)

    def layer_spec(self) -> Tf1Spec:
        return Tf1Spec(self.function, self.cell_spec, self.dtype, self.time_major)


def tf1_cases(tier: str = "default") -> list[Tf1Case]:
    """``full``: the full product (864 cases). ``default``: function x cell x seqlen x dtype in full
    (288 cases), with (time_major, init) rotated so that every pair of axis values occurs. ``quick``:
    every function x cell once (16 cases), the other axes rotating."""
    if tier not in ("quick", "default", "full"):
        raise ValueError(f"tf1_cases: tier must be 'quick', 'default' or 'full', got {tier!r}")
    if tier == "quick":
        default = tf1_cases("default")
        quick = []
        for n, pair in enumerate(itertools.product(FUNCTIONS, CELLS)):
            same = [c for c in default if (c.function, c.cell) == pair]
            quick.append(same[n % len(same)])
        return quick
    cases = []
    for function in FUNCTIONS:
        layouts = [(tm, init) for tm in ((False, True) if function in DYNAMIC else (False,))
                   for init in (False, True)]
        for k, (cell, seqlen, dtype) in enumerate(itertools.product(CELLS, SEQLENS, DTYPES)):
            if tier == "full":
                chosen = layouts
            else:
                # rotate on an index mixing every axis so each value of each axis meets each layout
                j = list(CELLS).index(cell) + SEQLENS.index(seqlen) + 3 * DTYPES.index(dtype)
                chosen = [layouts[j % len(layouts)]]
            cases += [Tf1Case(function, cell, seqlen, tm, init, dtype) for tm, init in chosen]
    return cases


# -- data ----------------------------------------------------------------------------------------
def reference_cell(case: Tf1Case, name=None):
    spec = case.cell_spec
    return ref.CELL_CLASSES[spec["class"]](**spec["config"], dtype=case.dtype, name=name)


def _make_data(case: Tf1Case):
    """Seeded inputs, weights (different for every gate and unit) and initial states, drawn in
    this order from one generator: (x, sequence_length, initial state parts per cell, weights)."""
    rng = np.random.default_rng(case.seed)
    dtype = np.dtype(case.dtype)
    x = rng.normal(size=(BATCH, STEPS, INPUT_DEPTH)).astype(dtype)
    cells = [reference_cell(case) for _ in range(2 if case.bidirectional else 1)]
    weights = [rng.uniform(-0.8, 0.8, size=shape).astype(dtype)
               for cell in cells for _, shape in cell.weight_specs(INPUT_DEPTH)]
    x = np.swapaxes(x, 0, 1).copy() if case.time_major else x
    lengths = None if case.seqlen == "none" else np.asarray(LENGTHS[case.seqlen], np.int32)
    init = None
    if case.init:  # the parts in TF's order: (c, h) or (h,)
        init = [[rng.normal(scale=0.5, size=(BATCH, size)).astype(dtype) for size in cell.state_sizes.values()]
                for cell in cells]
    return x, lengths, init, weights


def make_plan(case: Tf1Case) -> Plan:
    """One call of the function: x as it takes it, sequence_length, the initial state parts."""
    x, lengths, init, _ = _make_data(case)
    return Plan([Call(x, None, init, "call", lengths)])


def case_weights(case: Tf1Case) -> list:
    """The seeded weights of the case's cells, in the TF cells' ``weights`` order, forward cell first."""
    return _make_data(case)[3]
