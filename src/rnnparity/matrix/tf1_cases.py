"""The tf1 case matrix: `tf.compat.v1.nn` functions x legacy cells x sequence_length x time_major x
initial state x dtype, and the two ways to run a case.

    record = run_live(case)                # real TF: inputs, weights, outputs (all NumPy, npz-safe)
    arrays = run_reference(case, record)   # the NumPy reference on the same inputs and weights
    problems = compare_to_reference(case, record)   # both, compared output by output

Outputs are flattened in TF's structure order with readable names: ``outputs[3]`` (static functions:
a list of T arrays), ``outputs`` (dynamic), ``outputs[0]``/``outputs[1]`` (bidirectional_dynamic_rnn:
forward/backward), ``state.c``/``state.h`` (LSTMStateTuple), ``state`` (one array: BasicRNN, GRU, or
an LSTM with state_is_tuple=False, concat([c, h], 1)), ``output_state_fw.c``, ``output_states[1].h``...
Importing this module never imports TensorFlow.
"""
from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass

import numpy as np

from ..reference import tf1 as ref

FUNCTIONS = ("static_rnn", "dynamic_rnn", "static_bidirectional_rnn", "bidirectional_dynamic_rnn")
DYNAMIC = ("dynamic_rnn", "bidirectional_dynamic_rnn")  # the functions with a time_major argument
BIDIRECTIONAL = ("static_bidirectional_rnn", "bidirectional_dynamic_rnn")
TOP_NAMES = {
    "static_rnn": ("outputs", "state"),
    "dynamic_rnn": ("outputs", "state"),
    "static_bidirectional_rnn": ("outputs", "output_state_fw", "output_state_bw"),
    "bidirectional_dynamic_rnn": ("outputs", "output_states"),
}

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
    """Seeded inputs, weights (different for every gate and unit) and initial states."""
    rng = np.random.default_rng(case.seed)
    dtype = np.dtype(case.dtype)
    x = rng.normal(size=(BATCH, STEPS, INPUT_DEPTH)).astype(dtype)
    n_cells = 2 if case.bidirectional else 1
    cells = [reference_cell(case) for _ in range(n_cells)]
    weights = [rng.uniform(-0.8, 0.8, size=shape).astype(dtype)
               for cell in cells for _, shape in cell.weight_specs(INPUT_DEPTH)]
    inputs = {"x": np.swapaxes(x, 0, 1).copy() if case.time_major else x}
    if case.seqlen != "none":
        inputs["sequence_length"] = np.asarray(LENGTHS[case.seqlen], np.int32)
    if case.init:
        for key, cell in zip(_state_keys(case), cells):
            for part, size in cell.state_sizes.items():
                inputs[f"{key}.{part}"] = rng.normal(scale=0.5, size=(BATCH, size)).astype(dtype)
    return inputs, weights


def _state_keys(case):
    return ("initial_state_fw", "initial_state_bw") if case.bidirectional else ("initial_state",)


def state_parts(case, inputs):
    """[[part arrays] per cell] from a record's inputs, or None for zero initial states."""
    if not case.init:
        return None
    parts = list(reference_cell(case).state_sizes)  # TF's order: (c, h) or (h,)
    return [[inputs[f"{key}.{part}"] for part in parts] for key in _state_keys(case)]


def split_weights(case, weights):
    cells = [reference_cell(case) for _ in range(2 if case.bidirectional else 1)]
    n = len(cells[0].weight_specs(INPUT_DEPTH))
    if len(weights) != n * len(cells):
        raise ValueError(f"{case.id}: expected {n * len(cells)} weight arrays, got {len(weights)}")
    return [weights[i * n:(i + 1) * n] for i in range(len(cells))]


def flatten(value, name):
    """[(name, array)] in TF's structure order; namedtuples (LSTMStateTuple) give ``.c``/``.h``."""
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return [item for field, v in zip(value._fields, value) for item in flatten(v, f"{name}.{field}")]
    if isinstance(value, (list, tuple)):
        return [item for i, v in enumerate(value) for item in flatten(v, f"{name}[{i}]")]
    return [(name, np.asarray(value))]


def flatten_result(function, result):
    top = TOP_NAMES[function]
    if not isinstance(result, tuple) or len(result) != len(top):
        raise ValueError(f"{function} returned {type(result).__name__} of length "
                         f"{len(result) if isinstance(result, (list, tuple)) else '-'}; TF returns a "
                         f"{len(top)}-tuple {top}")
    return [item for name, value in zip(top, result) for item in flatten(value, name)]


def _kwargs(case, inputs):
    kwargs = {"dtype": case.dtype if not case.init else None}
    if case.function in DYNAMIC:
        kwargs["time_major"] = case.time_major
    if "sequence_length" in inputs:
        kwargs["sequence_length"] = inputs["sequence_length"]
    return kwargs


# -- running ---------------------------------------------------------------------------------------
def run_live(case: Tf1Case) -> dict:
    """Run the case on real TF. Returns {"inputs": {name: array}, "weights": [arrays],
    "outputs": [arrays], "output_names": [str]}; every value is NumPy (npz-serialisable)."""
    from ..targets.registry import get

    adapter = get("tf1")
    inputs, weights = _make_data(case)
    cells = []
    for i, cell_weights in enumerate(split_weights(case, weights)):
        cell = adapter.make_cell(case.cell_spec, case.dtype, INPUT_DEPTH, name=("fw", "bw")[i])
        adapter.set_weights(cell, cell_weights)
        cells.append(cell)
    parts = state_parts(case, inputs)
    states = None if parts is None else [adapter.state_structure(c, p) for c, p in zip(cells, parts)]
    kwargs = _kwargs(case, inputs)
    result = adapter.run(case.function, tuple(cells) if case.bidirectional else cells[0], inputs["x"],
                         sequence_length=kwargs.get("sequence_length"),
                         initial_states=states if case.bidirectional or states is None else states[0],
                         dtype=kwargs["dtype"], time_major=case.time_major)
    flat = flatten_result(case.function, result)
    return {"inputs": inputs, "weights": weights, "outputs": [a for _, a in flat],
            "output_names": [n for n, _ in flat]}


def reference_result(case: Tf1Case, record: dict):
    """The reference's result in TF's structure, for a record's inputs and weights."""
    inputs = record["inputs"]
    cells = []
    for i, cell_weights in enumerate(split_weights(case, list(record["weights"]))):
        cell = reference_cell(case, name=("fw", "bw")[i])
        cell.set_weights(cell_weights)
        cells.append(cell)
    parts = state_parts(case, inputs)
    states = None if parts is None else [c.pack_state(p) for c, p in zip(cells, parts)]
    kwargs = _kwargs(case, inputs)
    x = inputs["x"]
    if case.function in ("static_rnn", "static_bidirectional_rnn"):
        x = [x[:, t] for t in range(x.shape[1])]
    fn = ref.FUNCTIONS[case.function]
    if case.bidirectional:
        if states is not None:
            kwargs["initial_state_fw"], kwargs["initial_state_bw"] = states
        return fn(cells[0], cells[1], x, **kwargs)
    if states is not None:
        kwargs["initial_state"] = states[0]
    return fn(cells[0], x, **kwargs)


def run_reference(case: Tf1Case, record: dict) -> list:
    """The reference's outputs in the record's flattened order; raises if the structure differs."""
    flat = flatten_result(case.function, reference_result(case, record))
    names = [n for n, _ in flat]
    expected = list(record["output_names"])
    if names != expected:
        raise AssertionError(f"{case.id}: output structure differs from TF's.\n  TF:        {expected}\n"
                             f"  reference: {names}")
    return [a for _, a in flat]


def compare_to_reference(case: Tf1Case, record: dict, prefix: str = "", stats=None, atol=None,
                         rtol=None) -> list:
    """Mismatches between a record's outputs (live or replayed TF) and the reference on its inputs
    and weights; [] when they agree. `stats` (a compare.Stats) collects the errors seen;
    ``atol``/``rtol`` override the tolerance table."""
    from ..check.compare import compare_outputs

    return compare_outputs(record["outputs"], run_reference(case, record), names=record["output_names"],
                           time_axis=0 if case.time_major else 1, prefix=prefix, stats=stats,
                           atol=atol, rtol=rtol)
